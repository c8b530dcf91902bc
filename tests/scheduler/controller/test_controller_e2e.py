"""Against a real cluster (`pytest -m e2e`, skipped unless $KUBECONFIG is set): the controller, run
in-process under a scheduler name of its own, binds pods in a throwaway namespace and reports an
unschedulable one the way kube-scheduler does. Needs rights to create namespaces, pods and events."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest
from custom_scheduler.config import parse_config
from custom_scheduler.controller.runner import Controller
from custom_scheduler.kube import paths
from custom_scheduler.kube.client import KubeClient

from tests.scheduler.builders import make_pod
from tests.scheduler.fakeapi.invariants import wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("KUBECONFIG"), reason="needs a real cluster: set KUBECONFIG"),
]

DEADLINE_SECONDS = 120.0


@pytest.fixture
def client() -> Iterator[KubeClient]:
    kube = KubeClient.from_kubeconfig(None)
    yield kube
    kube.close()


@pytest.fixture
def namespace(client: KubeClient) -> Iterator[str]:
    name = f"custom-scheduler-e2e-{uuid.uuid4().hex[:8]}"
    client.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    client.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture
def scheduler_name(client: KubeClient) -> Iterator[str]:
    """A scheduler name of our own, run in this process, so no deployed scheduler is disturbed."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    config = parse_config({"schedulerName": name}, source="e2e")
    controller = Controller(
        config, KubeClient.from_kubeconfig(None), metrics_addr="127.0.0.1:0", leader_elect=False
    )
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,), daemon=True)
    thread.start()
    yield name
    stop.set()
    thread.join(timeout=30)


def pod_events(client: KubeClient, namespace: str, name: str, reason: str) -> list[str]:
    events = client.get(f"/api/v1/namespaces/{namespace}/events")["items"]
    return [e["message"] for e in events if e["involvedObject"]["name"] == name and e["reason"] == reason]


def test_pods_are_bound_with_scheduled_events(
    client: KubeClient, namespace: str, scheduler_name: str
) -> None:
    names = [f"web-{i}" for i in range(5)]
    for name in names:
        pod = make_pod(name, namespace).scheduler(scheduler_name).req(cpu="10m", memory="16Mi").obj()
        pod["spec"]["containers"][0]["image"] = "registry.k8s.io/pause:3.9"
        del pod["metadata"]["uid"]
        client.post(f"/api/v1/namespaces/{namespace}/pods", pod)
    for name in names:
        wait_for(
            lambda name=name: bool(client.get(paths.pod(namespace, name))["spec"].get("nodeName")),
            timeout=DEADLINE_SECONDS,
            what=f"{name} to be bound",
        )
        node = client.get(paths.pod(namespace, name))["spec"]["nodeName"]
        wait_for(
            lambda name=name: bool(pod_events(client, namespace, name, "Scheduled")),
            timeout=DEADLINE_SECONDS,
            what=f"the Scheduled event of {name}",
        )
        assert pod_events(client, namespace, name, "Scheduled") == [
            f"Successfully assigned {namespace}/{name} to {node}"
        ]


def test_an_unschedulable_pod_gets_failed_scheduling_and_pod_scheduled_false(
    client: KubeClient, namespace: str, scheduler_name: str
) -> None:
    pod = make_pod("huge", namespace).scheduler(scheduler_name).req(cpu="100000").obj()
    pod["spec"]["containers"][0]["image"] = "registry.k8s.io/pause:3.9"
    del pod["metadata"]["uid"]
    client.post(f"/api/v1/namespaces/{namespace}/pods", pod)
    wait_for(
        lambda: bool(pod_events(client, namespace, "huge", "FailedScheduling")),
        timeout=DEADLINE_SECONDS,
        what="FailedScheduling",
    )
    message = pod_events(client, namespace, "huge", "FailedScheduling")[0]
    assert message.startswith("0/")
    assert "Insufficient cpu" in message

    def conditions() -> list[tuple[str, str, str]]:
        status = client.get(paths.pod(namespace, "huge"))["status"]
        return [(c["type"], c["status"], c.get("reason", "")) for c in status.get("conditions", [])]

    wait_for(lambda: bool(conditions()), timeout=DEADLINE_SECONDS, what="the PodScheduled condition")
    assert conditions() == [("PodScheduled", "False", "Unschedulable")]
