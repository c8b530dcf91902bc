"""The controller end to end, in-process, against the fake API over real HTTP through the real client.

Each scenario ends with the same invariants (tests/scheduler/fakeapi/invariants.py): every schedulable
pod bound exactly once, no node over-committed (the fake kubelet rejected nothing), pods of other
schedulers never bound by ours.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from custom_scheduler.controller.runner import Controller
from custom_scheduler.kube.client import KubeClient

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.controller.support import SCHEDULER, RunningController, fast_config, our_pod, sized_node
from tests.scheduler.fakeapi import FakeApiServer, FakeCluster
from tests.scheduler.fakeapi.competitor import CompetingScheduler
from tests.scheduler.fakeapi.invariants import unbound, violations, wait_for

SETTLE_SECONDS = 60.0
"""Deadline for a scenario to settle; generous for a loaded 2-core CI machine."""

Start = Callable[..., RunningController]


def add_nodes(cluster: FakeCluster, count: int, **kwargs: Any) -> None:
    for index in range(count):
        cluster.create("nodes", sized_node(f"node-{index}", **kwargs))


def add_pods(cluster: FakeCluster, count: int, *, prefix: str = "pod", **kwargs: Any) -> None:
    for index in range(count):
        cluster.create("pods", our_pod(f"{prefix}-{index}", **kwargs))


def settle(cluster: FakeCluster, *, unschedulable: tuple[str, ...] = ()) -> None:
    """Wait until every schedulable pod of ours is bound, then check the invariants."""
    try:
        wait_for(
            lambda: not unbound(cluster, scheduler_name=SCHEDULER, except_names=unschedulable),
            timeout=SETTLE_SECONDS,
            what="every schedulable pod to be bound",
        )
    except AssertionError as error:
        left = unbound(cluster, scheduler_name=SCHEDULER, except_names=unschedulable)
        raise AssertionError(f"{error}; still pending: {left[:10]}") from None
    assert violations(cluster, scheduler_name=SCHEDULER) == []


def http_get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


def failed_scheduling_messages(cluster: FakeCluster, name: str) -> list[str]:
    return [event["message"] for event in cluster.events_for("default", name, "FailedScheduling")]


def conditions(cluster: FakeCluster, name: str) -> list[tuple[str, str, str, str]]:
    status = cluster.get("pods", "default", name)["status"]
    return [
        (c["type"], c["status"], c.get("reason", ""), c.get("message", ""))
        for c in status.get("conditions", [])
    ]


def test_pending_pods_are_bound_once_each_with_a_scheduled_event(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    cluster = fake_api.cluster
    add_nodes(cluster, 5)
    add_pods(cluster, 40)
    add_pods(cluster, 3, prefix="foreign", scheduler="default-scheduler")
    for name in ("gated-0", "gated-1"):
        gated = our_pod(name)
        gated["spec"]["schedulingGates"] = [{"name": "example.com/wait"}]
        cluster.create("pods", gated)
    handle = start_controller()
    settle(cluster, unschedulable=("gated-0", "gated-1"))
    wait_for(
        lambda: sum(e["reason"] == "Scheduled" for e in cluster.all("events")) == 40,
        timeout=SETTLE_SECONDS,
        what="a Scheduled event per pod",
    )
    for index in range(40):
        events = cluster.events_for("default", f"pod-{index}", "Scheduled")
        bound_to = cluster.get("pods", "default", f"pod-{index}")["spec"]["nodeName"]
        assert [(e["type"], e["message"]) for e in events] == [
            ("Normal", f"Successfully assigned default/pod-{index} to {bound_to}")
        ]
    assert len(cluster.pending_pods("default-scheduler")) == 3
    assert {p["metadata"]["name"] for p in cluster.pending_pods(SCHEDULER)} == {"gated-0", "gated-1"}
    scheduled = 'custom_scheduler_schedule_attempts_total{result="scheduled"} 40.0'
    wait_for(
        lambda: scheduled in http_get(handle.status_url + "/metrics")[1],
        timeout=SETTLE_SECONDS,
        what=scheduled,
    )
    status, text = http_get(handle.status_url + "/metrics")
    assert status == 200
    assert 'custom_scheduler_pending_pods{queue="gated"}' in text
    assert http_get(handle.status_url + "/readyz") == (200, "ok\n")
    assert http_get(handle.status_url + "/healthz") == (200, "ok\n")


def test_an_unschedulable_pod_gets_failed_scheduling_and_a_condition_then_binds_when_a_node_fits(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    cluster = fake_api.cluster
    add_nodes(cluster, 2, cpu="2")
    cluster.create("pods", our_pod("big", cpu="3"))
    start_controller()
    wait_for(
        lambda: failed_scheduling_messages(cluster, "big") and conditions(cluster, "big"),
        timeout=SETTLE_SECONDS,
        what="FailedScheduling and PodScheduled=False",
    )
    assert failed_scheduling_messages(cluster, "big")[0] == "0/2 nodes are available: 2 Insufficient cpu."
    event = cluster.events_for("default", "big", "FailedScheduling")[0]
    assert (event["type"], event["source"]["component"]) == ("Warning", SCHEDULER)
    assert conditions(cluster, "big") == [
        ("PodScheduled", "False", "Unschedulable", "0/2 nodes are available: 2 Insufficient cpu.")
    ]
    cluster.create("nodes", sized_node("roomy", cpu="8"))
    settle(cluster)
    assert cluster.get("pods", "default", "big")["spec"]["nodeName"] == "roomy"


def test_capacity_is_never_over_committed_counting_other_schedulers_pods(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    cluster = fake_api.cluster
    add_nodes(cluster, 4, cpu="1")
    cluster.create("pods", make_pod("theirs").req(cpu="1").node("node-0").obj())
    add_pods(cluster, 20, cpu="250m")
    start_controller()
    wait_for(
        lambda: len(unbound(cluster, scheduler_name=SCHEDULER)) == 8 and len(cluster.bindings) == 12,
        timeout=SETTLE_SECONDS,
        what="12 pods bound and 8 left pending",
    )
    assert violations(cluster, scheduler_name=SCHEDULER) == []
    assert not any(record.node == "node-0" for record in cluster.bindings)
    left = unbound(cluster, scheduler_name=SCHEDULER)
    wait_for(
        lambda: all(failed_scheduling_messages(cluster, n) for n in left),
        timeout=SETTLE_SECONDS,
        what="events",
    )
    assert failed_scheduling_messages(cluster, left[0])[0] == "0/4 nodes are available: 4 Insufficient cpu."


def test_long_failure_messages_are_truncated_to_1024_characters(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    cluster = fake_api.cluster
    for index in range(60):
        cluster.create(
            "nodes",
            make_node(f"n{index}").taint(f"dedicated-{index}", "x" * 20).obj(),
        )
    cluster.create("pods", our_pod("nowhere"))
    start_controller()
    wait_for(
        lambda: failed_scheduling_messages(cluster, "nowhere"),
        timeout=SETTLE_SECONDS,
        what="FailedScheduling",
    )
    message = failed_scheduling_messages(cluster, "nowhere")[0]
    assert len(message) == 1024
    assert message.startswith("0/60 nodes are available: 1 node(s) had untolerated taint {dedicated-0: ")
    assert message.endswith(" ...")


FAULTS: list[Any] = [
    pytest.param(lambda api: api.faults.fail(path="/binding$", status=500, every=3), id="500-on-bindings"),
    pytest.param(
        lambda api: api.faults.fail(path="/binding$", status=429, retry_after=1, every=4, times=10),
        id="429-retry-after",
    ),
    pytest.param(
        lambda api: api.faults.lose_responses(path="/binding$", times=15), id="lost-binding-responses"
    ),
    pytest.param(
        lambda api: api.faults.fail(path="/binding$", status=409, every=3, times=10),
        id="409-on-pending-pods",
    ),
    pytest.param(
        lambda api: api.faults.fail(path="^/api/v1/(pods|nodes)$", status=500, every=2, times=6),
        id="500-on-lists",
    ),
    pytest.param(lambda api: setattr(api.faults, "latency_seconds", 0.02), id="latency"),
]


@pytest.mark.parametrize("inject", FAULTS)
def test_api_faults_lose_no_pod_and_bind_none_twice(
    fake_api: FakeApiServer, start_controller: Start, inject: Callable[[FakeApiServer], object]
) -> None:
    cluster = fake_api.cluster
    add_nodes(cluster, 8, cpu="2")
    inject(fake_api)
    start_controller()
    add_pods(cluster, 60, cpu="200m")
    settle(cluster)


def test_dropped_watches_and_410_expiry_mid_run_lose_no_event(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    cluster = fake_api.cluster
    add_nodes(cluster, 6, cpu="4")
    start_controller()
    for wave in range(4):
        add_pods(cluster, 15, prefix=f"wave{wave}", cpu="200m")
        if wave % 2:
            cluster.expire_watches()
        else:
            cluster.drop_watches()
    cluster.create("nodes", sized_node("late-node", cpu="4"))
    add_pods(cluster, 10, prefix="late", cpu="1")
    settle(cluster)


def test_a_competing_scheduler_binding_the_same_pods_causes_no_double_binding(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    cluster = fake_api.cluster
    add_nodes(cluster, 10, cpu="4")
    competitor = CompetingScheduler(cluster, scheduler_name=SCHEDULER, share=0.3, interval=0.005).start()
    try:
        start_controller()
        for wave in range(5):
            add_pods(cluster, 30, prefix=f"w{wave}", cpu="100m")
        settle(cluster)
    finally:
        competitor.stop()
    ours = [record for record in cluster.bindings if record.by.startswith("custom-scheduler")]
    assert competitor.bound > 0
    assert len(ours) + competitor.bound == 150


def test_nodes_tainted_or_deleted_mid_run_receive_no_new_pods(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    cluster = fake_api.cluster
    add_nodes(cluster, 4, cpu="8")
    handle = start_controller()
    add_pods(cluster, 20, prefix="before")
    settle(cluster)
    cluster.taint_node("node-0", {"key": "maintenance", "value": "true", "effect": "NoSchedule"})
    cluster.delete("nodes", "", "node-1")
    # Nodes and pods come through separate watches, so pods created in the same instant could be
    # seen first (so could kube-scheduler); the deletion follows the taint in the node stream.
    wait_for(
        lambda: handle.controller.state.node_count() == 3, timeout=SETTLE_SECONDS, what="node changes seen"
    )
    add_pods(cluster, 40, prefix="after")
    settle(cluster)
    after = [r.node for r in cluster.bindings if r.name.startswith("after")]
    assert len(after) == 40
    assert set(after) <= {"node-2", "node-3"}


def test_a_pod_deleted_and_recreated_under_its_name_is_bound_once_by_uid(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    cluster = fake_api.cluster
    add_nodes(cluster, 2)
    fake_api.faults.latency_seconds = 0.05
    start_controller()
    cluster.create("pods", our_pod("phoenix"))
    cluster.delete("pods", "default", "phoenix")
    cluster.create("pods", our_pod("phoenix"))
    settle(cluster)
    live_uid = cluster.get("pods", "default", "phoenix")["metadata"]["uid"]
    assert [r.uid for r in cluster.bindings] == [live_uid]


def test_two_leader_elected_replicas_bind_each_pod_once_and_a_standby_takes_over(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    cluster = fake_api.cluster
    add_nodes(cluster, 6, cpu="4")
    first = start_controller(fast_config(), leader_elect=True)
    second = start_controller(fast_config(), leader_elect=True)
    wait_for(
        lambda: first.controller.leader.is_leader() or second.controller.leader.is_leader(),
        timeout=SETTLE_SECONDS,
        what="a leader",
    )
    leader, standby = (first, second) if first.controller.leader.is_leader() else (second, first)
    assert not standby.controller.leader.is_leader()
    add_pods(cluster, 30, prefix="one")
    settle(cluster)
    leader.stop()
    wait_for(standby.controller.leader.is_leader, timeout=SETTLE_SECONDS, what="the standby to take over")
    add_pods(cluster, 30, prefix="two")
    settle(cluster)
    lease = cluster.get("leases", "kube-system", SCHEDULER)
    assert lease["spec"]["holderIdentity"] == standby.controller.leader.identity
    assert lease["spec"]["leaseTransitions"] >= 1


def test_an_object_the_cache_cannot_digest_does_not_stop_scheduling(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    cluster = fake_api.cluster
    add_nodes(cluster, 2)
    handle = start_controller()
    cluster.put(
        "nodes", {"metadata": {"name": "mangled"}, "spec": "not a mapping", "status": ["nor", "this"]}
    )
    add_pods(cluster, 10)
    settle(cluster)
    assert handle.thread.is_alive()


@pytest.mark.parametrize(
    "served", [pytest.param(True, id="metrics-served"), pytest.param(False, id="metrics-absent")]
)
def test_node_metrics_are_used_when_served_and_not_needed_when_absent(tmp_path: Path, served: bool) -> None:
    api = FakeApiServer(FakeCluster(metrics_api=served)).start()
    client = KubeClient.from_kubeconfig(api.kubeconfig(str(tmp_path / "kubeconfig")))
    handle = RunningController(
        Controller(fast_config(), client, metrics_addr="127.0.0.1:0", leader_elect=False)
    )
    try:
        add_nodes(api.cluster, 3)
        api.cluster.set_node_metrics("node-0", cpu="3900m", memory="7Gi")
        handle.thread.start()
        available = f"custom_scheduler_node_metrics_available {1.0 if served else 0.0}"
        wait_for(
            lambda: available in http_get(handle.status_url + "/metrics")[1],
            timeout=SETTLE_SECONDS,
            what=available,
        )
        add_pods(api.cluster, 10)
        settle(api.cluster)
        if served:
            nodes = [record.node for record in api.cluster.bindings]
            assert nodes.count("node-0") < nodes.count("node-1"), "the busy node is avoided"
    finally:
        handle.stop()
        api.stop()


def test_a_pod_parked_behind_an_assumed_pod_binds_as_soon_as_that_pod_is_deleted(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    cluster = fake_api.cluster
    cluster.create("nodes", sized_node("node-0", cpu="1"))
    # Long enough that only the deletion, not the unschedulable timeout, can wake the parked pod.
    start_controller(fast_config(queue={"podMaxInUnschedulablePodsSeconds": 300}))
    held = fake_api.faults.hold(path="/pods/first/binding$", times=1)
    cluster.create("pods", our_pod("first", cpu="800m"))
    wait_for(lambda: held.fired == 1, timeout=SETTLE_SECONDS, what="first's binding on the wire")
    cluster.create("pods", our_pod("second", cpu="800m"))
    wait_for(
        lambda: failed_scheduling_messages(cluster, "second"), timeout=SETTLE_SECONDS, what="second parked"
    )
    cluster.delete("pods", "default", "first")
    wait_for(
        lambda: cluster.get("pods", "default", "second")["spec"].get("nodeName") == "node-0",
        timeout=SETTLE_SECONDS,
        what="second to be bound",
    )
    assert held.hold is not None
    held.hold.set()
    assert violations(cluster, scheduler_name=SCHEDULER) == []
