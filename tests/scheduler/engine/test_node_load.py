"""NodeLoad: the free share (cpu and memory averaged) from fresh metrics plus pods placed since, else
from requests; normalised so the least loaded feasible node scores 100."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.engine import Engine
from custom_scheduler.plugins import node_load

from tests.scheduler.builders import make_node, make_pod, node_metrics
from tests.scheduler.engine.harness import FIXED_NOW, run_score

IDLE = make_pod("probe").req(cpu="0", memory="0").obj()


def node(name: str, cpu: str = "4", memory: str = "8Gi") -> dict[str, Any]:
    return make_node(name).alloc(cpu=cpu, memory=memory, pods=110).obj()


@dataclass(frozen=True)
class Case:
    name: str
    pod: dict[str, Any]
    nodes: list[dict[str, Any]]
    metrics: dict[str, tuple[str, str]]
    want: dict[str, int]
    running: list[dict[str, Any]] = field(default_factory=list)


CASES = [
    Case(
        "the less loaded node scores higher",
        IDLE,
        [node("a"), node("b")],
        {"a": ("3", "4Gi"), "b": ("1", "2Gi")},
        {"a": 50, "b": 100},  # free: a 1 - (75% + 50%) / 2 = 37.5%, b 75%
    ),
    Case(
        "the pod's estimate counts, limits before requests",
        make_pod().container({"cpu": "100m", "memory": "0"}, limits={"cpu": "2", "memory": "0"}).obj(),
        [node("a"), node("b", "8", "8Gi")],
        {"a": ("0", "0"), "b": ("0", "0")},
        {"a": 85, "b": 100},  # free: a 1 - 50% / 2 = 75%, b 1 - 25% / 2 = 87.5%
    ),
    Case(
        "without metrics the requests count",
        make_pod().req(cpu="1", memory="2Gi").obj(),
        [node("a"), node("b")],
        {"a": ("0", "0")},
        {"a": 100, "b": 66},  # free: a 75% (the pod alone), b 50% (both pods' requests)
        [make_pod("r").req(cpu="1", memory="2Gi").node("b").obj()],
    ),
    Case(
        "running pods are already in the measurement",
        IDLE,
        [node("a"), node("ref")],
        {"a": ("2", "4Gi"), "ref": ("0", "0")},
        {"a": 50, "ref": 100},
        [make_pod("r").req(cpu="3", memory="6Gi").node("a").obj()],
    ),
    Case(
        "an over-full node scores 0",
        IDLE,
        [node("a"), node("ref")],
        {"a": ("8", "16Gi"), "ref": ("0", "0")},
        {"a": 0, "ref": 100},
    ),
    Case(
        "a tiny difference in load still decides",
        IDLE,
        [node("a", "64", "256Gi"), node("b", "64", "256Gi")],
        {"a": ("100m", "0"), "b": ("0", "0")},
        {"a": 99, "b": 100},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_score(case: Case) -> None:
    metrics = [node_metrics(name, cpu=cpu, memory=memory) for name, (cpu, memory) in case.metrics.items()]
    assert run_score(node_load.NAME, case.pod, case.nodes, case.running, metrics) == case.want


def engine_on(clock: list[float]) -> Engine:
    engine = Engine(SchedulerConfig(), filters=[], scores={node_load.NAME: 1}, clock=lambda: clock[0])
    engine.upsert_node(node("a"))
    engine.upsert_node(node("ref"))
    return engine


def test_pods_placed_since_the_measurement_count_until_the_next_one() -> None:
    now = [FIXED_NOW]
    engine = engine_on(now)
    for name in ("a", "ref"):
        engine.set_node_metrics(node_metrics(name, cpu="0", memory="0"), observed_at=now[0])
    assert engine.schedule(IDLE).scores == {"a": 100, "ref": 100}
    now[0] += 5
    engine.assume(make_pod("p").req(cpu="2", memory="4Gi").obj(), "a")
    assert engine.schedule(IDLE).scores == {"a": 50, "ref": 100}
    engine.set_node_metrics(node_metrics("a", cpu="1", memory="2Gi"), observed_at=now[0] + 10)
    assert engine.schedule(IDLE).scores == {"a": 75, "ref": 100}


def test_forgetting_an_assumed_pod_drops_its_estimate() -> None:
    now = [FIXED_NOW]
    engine = engine_on(now)
    for name in ("a", "ref"):
        engine.set_node_metrics(node_metrics(name, cpu="0", memory="0"), observed_at=now[0])
    engine.assume(make_pod("p").req(cpu="2", memory="4Gi").obj(), "a")
    engine.forget("uid-default-p")
    assert engine.schedule(IDLE).scores == {"a": 100, "ref": 100}


def test_stale_metrics_fall_back_to_requests() -> None:
    now = [FIXED_NOW]
    engine = engine_on(now)
    engine.set_node_metrics(node_metrics("a", cpu="3", memory="6Gi"), observed_at=now[0])
    engine.upsert_pod(make_pod("r").req(cpu="1", memory="2Gi").node("a").obj())
    assert engine.schedule(IDLE).scores == {"a": 25, "ref": 100}
    now[0] += 121  # nodeLoad.metricsMaxAgeSeconds is 120 by default
    assert engine.schedule(IDLE).scores == {"a": 75, "ref": 100}


def test_metrics_timestamp_is_used_when_no_observation_time_is_given() -> None:
    engine = engine_on([FIXED_NOW])
    engine.set_node_metrics(node_metrics("a", cpu="4", memory="8Gi", timestamp="2000-01-01T00:00:00Z"))
    assert engine.schedule(IDLE).scores == {"a": 100, "ref": 100}
