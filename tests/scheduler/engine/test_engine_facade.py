"""The Engine facade the controller and extender call: state updates, assume/forget, and decisions."""

from __future__ import annotations

import pytest
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.engine import Engine
from custom_scheduler.errors import InputError

from tests.scheduler.builders import make_node, make_pod, node_metrics
from tests.scheduler.engine.harness import FIXED_NOW, engine_with


def one_cpu(name: str) -> dict[str, object]:
    return make_node(name).alloc(cpu="1", memory="4Gi", pods=110).obj()


def big_pod(name: str = "p") -> dict[str, object]:
    return make_pod(name).req(cpu="600m").obj()


def test_schedule_does_not_change_state() -> None:
    engine = engine_with([one_cpu("a")])
    assert engine.schedule(big_pod("p1")).node == "a"
    assert engine.schedule(big_pod("p2")).node == "a"
    assert not engine.has_pod("uid-default-p1")


def test_an_assumed_pod_counts_before_its_binding_is_confirmed() -> None:
    engine = engine_with([one_cpu("a"), one_cpu("b")])
    engine.assume(big_pod("p1"), "a")
    assert engine.has_pod("uid-default-p1")
    assert engine.schedule(big_pod("p2")).node == "b"


def test_forget_undoes_assume() -> None:
    engine = engine_with([one_cpu("a")])
    engine.assume(big_pod("p1"), "a")
    engine.forget("uid-default-p1")
    assert not engine.has_pod("uid-default-p1")
    assert engine.schedule(big_pod("p2")).node == "a"


def test_forget_leaves_a_confirmed_pod_alone() -> None:
    engine = engine_with([one_cpu("a")])
    engine.assume(big_pod("p1"), "a")
    engine.upsert_pod(make_pod("p1").req(cpu="600m").node("a").obj())
    engine.forget("uid-default-p1")
    assert engine.has_pod("uid-default-p1")


def test_an_assumed_pod_seen_again_unbound_stays_assumed() -> None:
    engine = engine_with([one_cpu("a")])
    engine.assume(big_pod("p1"), "a")
    engine.upsert_pod(big_pod("p1"))
    assert engine.schedule(big_pod("p2")).node is None


def test_an_update_replaces_the_previous_version() -> None:
    engine = engine_with([one_cpu("a")])
    engine.upsert_pod(make_pod("r").req(cpu="900m").node("a").obj())
    engine.upsert_pod(make_pod("r").req(cpu="100m").node("a").obj())
    assert engine.schedule(big_pod()).node == "a"


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_finished_pods_stop_counting(phase: str) -> None:
    engine = engine_with([one_cpu("a")])
    engine.upsert_pod(make_pod("r").req(cpu="900m").node("a").obj())
    engine.upsert_pod(make_pod("r").req(cpu="900m").node("a").phase(phase).obj())
    assert not engine.has_pod("uid-default-r")
    assert engine.schedule(big_pod()).node == "a"


def test_deleted_pods_stop_counting() -> None:
    engine = engine_with([one_cpu("a")])
    engine.upsert_pod(make_pod("r").req(cpu="900m").node("a").obj())
    engine.delete_pod("uid-default-r")
    assert engine.schedule(big_pod()).node == "a"


def test_pods_of_a_deleted_node_count_again_when_it_returns() -> None:
    engine = engine_with([one_cpu("a"), one_cpu("b")])
    engine.upsert_pod(make_pod("r").req(cpu="900m").node("a").obj())
    engine.delete_node("a")
    assert engine.node_names() == ["b"]
    engine.upsert_node(one_cpu("a"))
    assert engine.schedule(big_pod()).feasible == ["b"]


def test_deleting_a_node_keeps_the_others_intact() -> None:
    engine = engine_with([one_cpu("a"), one_cpu("b"), make_node("c").taint("k").obj()])
    engine.upsert_pod(make_pod("r").req(cpu="900m").node("c").obj())
    engine.delete_node("a")
    result = engine.schedule(big_pod())
    assert result.feasible == ["b"]
    assert result.reasons == {"c": ["node(s) had untolerated taint {k: }"]}


def test_node_updates_take_effect() -> None:
    engine = engine_with([one_cpu("a")])
    engine.upsert_node(make_node("a").alloc(cpu="1", memory="4Gi", pods=110).taint("k").obj())
    assert engine.schedule(big_pod()).node is None
    engine.upsert_node(one_cpu("a"))
    assert engine.schedule(big_pod()).node == "a"


def test_node_names_restricts_the_candidates() -> None:
    engine = engine_with([one_cpu("a"), one_cpu("b"), one_cpu("c")])
    result = engine.schedule(big_pod(), node_names=["b", "unknown"])
    assert result.node == "b"
    assert result.feasible == ["b"]


def test_the_least_loaded_node_wins() -> None:
    nodes = [make_node(n).alloc(cpu="8", memory="16Gi", pods=110).obj() for n in ("busy", "idle", "mid")]
    metrics = [
        node_metrics("busy", cpu="7", memory="14Gi"),
        node_metrics("idle", cpu="500m", memory="1Gi"),
        node_metrics("mid", cpu="4", memory="8Gi"),
    ]
    assert engine_with(nodes, metrics=metrics).schedule(make_pod().req(cpu="100m").obj()).node == "idle"


def test_a_burst_of_identical_pods_spreads_over_identical_idle_nodes() -> None:
    nodes = [make_node(f"n{i}").alloc(cpu="32", memory="128Gi", pods=110).obj() for i in range(4)]
    metrics = [node_metrics(f"n{i}", cpu="0", memory="0") for i in range(4)]
    engine = engine_with(nodes, metrics=metrics)
    placed = []
    for i in range(8):
        pod = make_pod(f"p{i}").req(cpu="100m", memory="128Mi").obj()
        node = engine.schedule(pod).node
        assert node is not None
        engine.assume(pod, node)
        placed.append(node)
    assert sorted(placed.count(n) for n in ("n0", "n1", "n2", "n3")) == [2, 2, 2, 2]


def test_malformed_objects_raise_input_errors() -> None:
    engine = Engine(SchedulerConfig(), clock=lambda: FIXED_NOW)
    with pytest.raises(InputError, match=r"Pod bad: spec.containers\[0\].resources.requests.cpu"):
        engine.schedule(make_pod("bad").req(cpu="lots").obj())
    with pytest.raises(InputError, match="NodeMetrics: usage"):
        engine.set_node_metrics({"metadata": {"name": "a"}})
