"""The fake API behaves like the real one where the controller depends on it; otherwise it would hide
the bugs it exists to catch. Driven through the real client, over HTTP."""

from __future__ import annotations

import pytest
from custom_scheduler import errors
from custom_scheduler.kube import paths
from custom_scheduler.kube.client import KubeClient

from tests.scheduler.builders import make_pod
from tests.scheduler.controller.support import our_pod, sized_node
from tests.scheduler.fakeapi import FakeApiServer, FakeCluster


def bind(cluster: FakeCluster, name: str, node: str) -> None:
    cluster.bind("default", name, {"target": {"name": node}}, by="test")


def test_the_kubelet_rejects_a_pod_that_over_commits_its_node(fake_api: FakeApiServer) -> None:
    cluster = fake_api.cluster
    cluster.create("nodes", sized_node("n1", cpu="1"))
    cluster.create("pods", our_pod("first", cpu="600m"))
    cluster.create("pods", our_pod("second", cpu="600m"))
    bind(cluster, "first", "n1")
    bind(cluster, "second", "n1")
    assert cluster.get("pods", "default", "first")["status"]["phase"] == "Running"
    rejected = cluster.get("pods", "default", "second")["status"]
    assert (rejected["phase"], rejected["reason"]) == ("Failed", "OutOfcpu")
    assert rejected["message"].startswith("Pod was rejected: Node didn't have enough resource: cpu")


def test_a_binding_answers_201_with_a_status_then_409_naming_the_node(
    fake_api: FakeApiServer, client: KubeClient
) -> None:
    fake_api.cluster.create("nodes", sized_node("n1"))
    uid = fake_api.cluster.create("pods", our_pod("web"))["metadata"]["uid"]
    binding = {"metadata": {"name": "web", "uid": uid}, "target": {"name": "n1"}}
    assert client.post(paths.pod("default", "web", "binding"), binding).body["kind"] == "Status"
    with pytest.raises(errors.ApiConflictError, match='pod web is already assigned to node "n1"'):
        client.post(paths.pod("default", "web", "binding"), binding)


def test_a_watch_from_a_compacted_version_gets_410_and_bookmarks_carry_versions(
    fake_api: FakeApiServer, client: KubeClient
) -> None:
    fake_api.cluster.create("pods", our_pod("a"))
    old = client.get(paths.PODS)["metadata"]["resourceVersion"]
    fake_api.cluster.create("pods", our_pod("b"))
    fake_api.cluster.compact()
    [expired] = list(client.watch(paths.PODS, query={"resourceVersion": old}, timeout_seconds=1))
    assert (expired["type"], expired["object"]["code"]) == ("ERROR", 410)
    current = client.get(paths.PODS)["metadata"]["resourceVersion"]
    query = {"resourceVersion": current, "allowWatchBookmarks": "true"}
    events = list(client.watch(paths.PODS, query=query, timeout_seconds=2))
    assert events
    assert {e["type"] for e in events} == {"BOOKMARK"}
    assert events[0]["object"]["metadata"]["resourceVersion"] == current


def test_lease_updates_need_the_current_resource_version(fake_api: FakeApiServer, client: KubeClient) -> None:
    lease = {"metadata": {"name": "l", "namespace": "kube-system"}, "spec": {"holderIdentity": "a"}}
    created = client.post(paths.leases("kube-system"), lease).body
    without = {**lease, "spec": {"holderIdentity": "b"}}
    with pytest.raises(errors.ApiInvalidError, match="resourceVersion"):
        client.put(paths.lease("kube-system", "l"), without)
    client.put(paths.lease("kube-system", "l"), {**created, "spec": {"holderIdentity": "b"}})
    with pytest.raises(errors.ApiConflictError, match="has been modified"):
        client.put(paths.lease("kube-system", "l"), {**created, "spec": {"holderIdentity": "c"}})
    current = client.get(paths.lease("kube-system", "l"))
    with pytest.raises(errors.ApiInvalidError, match="MicroTime"):
        client.put(
            paths.lease("kube-system", "l"), {**current, "spec": {"renewTime": "2024-01-01T00:00:00Z"}}
        )


def test_events_k8s_io_requires_a_micro_time_and_notes_of_at_most_1024(
    fake_api: FakeApiServer, client: KubeClient
) -> None:
    event = {
        "metadata": {"name": "e1"},
        "regarding": {"kind": "Pod", "namespace": "default", "name": "web"},
        "reason": "FailedScheduling",
        "note": "0/1 nodes are available: 1 Insufficient cpu.",
        "type": "Warning",
        "action": "Scheduling",
        "reportingController": "custom-scheduler",
        "reportingInstance": "x",
        "eventTime": "2024-01-01T00:00:00.000000Z",
    }
    path = "/apis/events.k8s.io/v1/namespaces/default/events"
    client.post(path, event)
    assert [e["message"] for e in fake_api.cluster.events_for("default", "web")] == [event["note"]]
    with pytest.raises(errors.ApiInvalidError, match="eventTime"):
        client.post(path, {**event, "metadata": {"name": "e2"}, "eventTime": "2024-01-01T00:00:00Z"})
    with pytest.raises(errors.ApiInvalidError, match="1024"):
        client.post(path, {**event, "metadata": {"name": "e3"}, "note": "x" * 1025})


def test_metrics_api_can_be_absent(kubeconfig: str) -> None:
    server = FakeApiServer(FakeCluster(metrics_api=False)).start()
    try:
        client = KubeClient.from_kubeconfig(server.kubeconfig(kubeconfig))
        with pytest.raises(errors.ApiNotFoundError):
            client.get(paths.NODE_METRICS)
    finally:
        server.stop()


def test_the_server_assigns_uids_so_a_recreated_pod_differs(fake_api: FakeApiServer) -> None:
    first = fake_api.cluster.create("pods", make_pod("web").obj())["metadata"]["uid"]
    fake_api.cluster.delete("pods", "default", "web")
    assert fake_api.cluster.create("pods", make_pod("web").obj())["metadata"]["uid"] != first
