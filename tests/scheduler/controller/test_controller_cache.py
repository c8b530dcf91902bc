"""ClusterState: watch events into the engine and the queue, assumptions, and which cluster events
wake unschedulable pods. Uses the real engine; the queue runs on a fake clock."""

from __future__ import annotations

import time
from typing import Any

import pytest
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.controller.cache import ClusterState
from custom_scheduler.controller.queue import SchedulingQueue
from custom_scheduler.engine import Engine
from custom_scheduler.kube.watch import Changed, Listed

from tests.scheduler.builders import make_node, make_pod, node_metrics

SCHEDULER = "custom-scheduler"


class Harness:
    def __init__(self) -> None:
        self.now = 0.0
        self.engine = Engine(SchedulerConfig())
        self.queue = SchedulingQueue(
            initial_backoff=1, max_backoff=10, max_in_unschedulable=300, clock=lambda: self.now
        )
        self.state = ClusterState(engine=self.engine, queue=self.queue, scheduler_name=SCHEDULER)
        self.state.on_nodes(Listed([make_node("n1").alloc(cpu="1", memory="1Gi", pods="10").obj()], "1"))
        self.state.on_pods(Listed([], "1"))

    def pod(self, name: str, event: str = "ADDED", **changes: Any) -> dict[str, Any]:
        pod = make_pod(name).scheduler(SCHEDULER).req(cpu="600m").obj()
        pod["spec"].update(changes.pop("spec", {}))
        pod.update(changes)
        self.state.on_pods(Changed(event, pod))  # type: ignore[arg-type]
        return pod

    def park(self, uid: str) -> None:
        """Pop the pod and report it unschedulable, as the scheduling loop would."""
        entry = self.queue.pop()
        assert entry is not None
        assert entry.uid == uid
        self.queue.unschedulable(uid)


@pytest.fixture
def harness() -> Harness:
    return Harness()


def test_only_our_pending_pods_are_queued(harness: Harness) -> None:
    harness.pod("ours")
    harness.pod("theirs", spec={"schedulerName": "default-scheduler"})
    harness.pod(
        "terminating",
        metadata={
            "name": "terminating",
            "namespace": "default",
            "uid": "t",
            "deletionTimestamp": "2024-01-01T00:00:00Z",
        },
    )
    harness.pod("gated", spec={"schedulingGates": [{"name": "wait"}]})
    assert harness.queue.counts() == {"active": 1, "backoff": 0, "unschedulable": 0, "gated": 1}


def test_assigned_pods_of_any_scheduler_use_capacity(harness: Harness) -> None:
    harness.pod("theirs", spec={"schedulerName": "default-scheduler", "nodeName": "n1"})
    pending = harness.pod("ours")
    assert harness.engine.schedule(pending).message == "0/1 nodes are available: 1 Insufficient cpu."


def test_a_finished_pod_frees_capacity_and_wakes_unschedulable_pods(harness: Harness) -> None:
    running = harness.pod("job", spec={"schedulerName": "default-scheduler", "nodeName": "n1"})
    harness.pod("ours")
    harness.park("uid-default-ours")
    harness.now += 1
    running["status"] = {"phase": "Succeeded"}
    harness.state.on_pods(Changed("MODIFIED", running))
    assert harness.queue.where("uid-default-ours") == "active"
    assert harness.engine.schedule(harness.state.pod("uid-default-ours") or {}).node == "n1"


def test_node_heartbeats_do_not_wake_unschedulable_pods_but_real_changes_do(harness: Harness) -> None:
    harness.pod("ours")
    harness.park("uid-default-ours")
    node = make_node("n1").alloc(cpu="1", memory="1Gi", pods="10").obj()
    node["status"]["conditions"] = [
        {"type": "Ready", "status": "True", "lastHeartbeatTime": "2024-01-01T00:00:10Z"}
    ]
    harness.state.on_nodes(Changed("MODIFIED", node))
    assert harness.queue.where("uid-default-ours") == "unschedulable"
    harness.now += 1
    node["metadata"]["labels"]["zone"] = "a"
    harness.state.on_nodes(Changed("MODIFIED", node))
    assert harness.queue.where("uid-default-ours") == "active"


def test_an_assumed_pod_stays_assumed_until_the_watch_shows_it_bound(harness: Harness) -> None:
    pod = harness.pod("ours")
    assert harness.queue.pop() is not None
    harness.state.assume(pod, "n1")
    harness.pod("ours", event="MODIFIED", status={"conditions": []})
    assert harness.state.is_assumed("uid-default-ours")
    assert harness.engine.has_pod("uid-default-ours")
    harness.pod("ours", event="MODIFIED", spec={"nodeName": "n1"})
    assert not harness.state.is_assumed("uid-default-ours")
    harness.state.forget("uid-default-ours")
    assert harness.engine.has_pod("uid-default-ours"), "a confirmed pod is not forgotten"
    assert "uid-default-ours" not in harness.queue


def test_a_relist_drops_what_disappeared(harness: Harness) -> None:
    harness.pod("gone-while-disconnected", spec={"nodeName": "n1"})
    harness.pod("ours")
    harness.state.on_pods(Listed([], "9"))
    assert not harness.engine.has_pod("uid-default-gone-while-disconnected")
    assert len(harness.queue) == 0
    harness.state.on_nodes(Listed([], "9"))
    assert harness.engine.node_names() == []


def test_a_malformed_object_is_skipped_not_fatal(harness: Harness) -> None:
    bad = make_node("bad").obj()
    bad["status"]["allocatable"]["cpu"] = "lots"
    harness.state.on_nodes(Changed("ADDED", bad))
    assert "bad" not in harness.engine.node_names()


def assume_first_and_park_second(harness: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    """On the 1-CPU node: `first` (600m) assumed there, `second` (600m) parked as unschedulable."""
    first = harness.pod("first")
    second = harness.pod("second")
    assert harness.queue.pop() is not None
    harness.state.assume(first, "n1")
    assert harness.engine.schedule(second).node is None
    harness.park("uid-default-second")
    harness.now += 1
    return first, second


def test_deleting_an_assumed_pod_wakes_the_pods_that_now_fit(harness: Harness) -> None:
    first, second = assume_first_and_park_second(harness)
    harness.state.on_pods(Changed("DELETED", first))
    assert not harness.state.is_assumed("uid-default-first")
    assert harness.queue.where("uid-default-second") == "active"
    assert harness.engine.schedule(second).node == "n1"


def test_forgetting_an_assumption_after_a_failed_binding_wakes_the_pods_that_now_fit(
    harness: Harness,
) -> None:
    _, second = assume_first_and_park_second(harness)
    assert harness.state.forget("uid-default-first")
    assert harness.queue.where("uid-default-second") == "active"
    assert harness.engine.schedule(second).node == "n1"


def test_forgetting_a_pod_that_is_not_assumed_wakes_nobody(harness: Harness) -> None:
    harness.pod("second")
    harness.park("uid-default-second")
    harness.now += 1
    assert not harness.state.forget("uid-default-unknown")
    assert harness.queue.where("uid-default-second") == "unschedulable"


def test_node_metrics_read_before_the_node_list_count_once_the_nodes_appear() -> None:
    engine = Engine(SchedulerConfig())
    queue = SchedulingQueue(initial_backoff=1, max_backoff=10, max_in_unschedulable=300)
    state = ClusterState(engine=engine, queue=queue, scheduler_name=SCHEDULER)
    state.on_node_metrics([node_metrics("busy", cpu="3900m", memory="1Gi")], observed_at=time.time())
    nodes = [make_node(name).alloc(cpu="4", memory="8Gi", pods="10").obj() for name in ("busy", "idle")]
    state.on_nodes(Listed(nodes, "1"))
    pod = make_pod("web").scheduler(SCHEDULER).req(cpu="100m").obj()
    assert {engine.schedule(pod).node for _ in range(5)} == {"idle"}


def test_a_pod_is_pending_only_while_unassigned_unassumed_and_known(harness: Harness) -> None:
    pod = harness.pod("ours")
    uid = "uid-default-ours"
    assert harness.state.is_pending(uid)
    harness.state.assume(pod, "n1")
    assert not harness.state.is_pending(uid), "a binding is in flight"
    harness.state.forget(uid)
    assert harness.state.is_pending(uid)
    harness.pod("ours", event="MODIFIED", spec={"nodeName": "n1"})
    assert not harness.state.is_pending(uid), "bound"
    harness.state.on_pods(Changed("DELETED", pod))
    assert not harness.state.is_pending(uid), "deleted"
