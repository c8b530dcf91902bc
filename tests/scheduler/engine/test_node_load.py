"""NodeLoad: 100 - utilisation% (cpu and memory averaged), from fresh metrics plus pods placed since,
else from requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.engine import Engine
from custom_scheduler.plugins import node_load

from tests.scheduler.builders import make_node, make_pod, node_metrics
from tests.scheduler.engine.harness import FIXED_NOW, run_score


def node(name: str) -> dict[str, Any]:
    return make_node(name).alloc(cpu="4", memory="8Gi", pods=110).obj()


@dataclass(frozen=True)
class Case:
    name: str
    pod: dict[str, Any]
    metrics: dict[str, tuple[str, str]]
    want: dict[str, int]
    running: list[dict[str, Any]] = field(default_factory=list)


CASES = [
    Case(
        "the less loaded node scores higher",
        make_pod().req(cpu="0", memory="0").obj(),
        {"a": ("3", "4Gi"), "b": ("1", "2Gi")},
        {"a": 37, "b": 75},  # a: (75% + 50%) / 2 busy; b: (25% + 25%) / 2
    ),
    Case(
        "the pod's own estimate counts (limits before requests)",
        make_pod().container({"cpu": "100m", "memory": "0"}, limits={"cpu": "2", "memory": "0"}).obj(),
        {"a": ("0", "0"), "b": ("0", "0")},
        {"a": 75, "b": 75},
    ),
    Case(
        "without metrics the requests (with 100m/200Mi defaults) count",
        make_pod().req(cpu="1", memory="2Gi").obj(),
        {"a": ("0", "0")},
        {"a": 75, "b": 50},  # a: measured 0 plus the pod (1 CPU, 2Gi); b: requests of both pods
        [make_pod("r").req(cpu="1", memory="2Gi").node("b").obj()],
    ),
    Case(
        "running pods are already in the measurement",
        make_pod().req(cpu="0", memory="0").obj(),
        {"a": ("2", "4Gi")},
        {"a": 50},
        [make_pod("r").req(cpu="3", memory="6Gi").node("a").obj()],
    ),
    Case(
        "an over-full node scores 0",
        make_pod().req(cpu="0", memory="0").obj(),
        {"a": ("8", "16Gi")},
        {"a": 0},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_score(case: Case) -> None:
    nodes = [node(name) for name in case.want]
    metrics = [node_metrics(name, cpu=cpu, memory=memory) for name, (cpu, memory) in case.metrics.items()]
    assert run_score(node_load.NAME, case.pod, nodes, case.running, metrics) == case.want


def test_pods_placed_since_the_measurement_count_until_the_next_one() -> None:
    now = [FIXED_NOW]
    engine = Engine(SchedulerConfig(), filters=[], scores={node_load.NAME: 1}, clock=lambda: now[0])
    engine.upsert_node(node("a"))
    engine.set_node_metrics(node_metrics("a", cpu="0", memory="0"), observed_at=now[0])
    probe = make_pod("probe").req(cpu="0", memory="0").obj()
    assert engine.schedule(probe).scores == {"a": 100}
    now[0] += 5
    engine.assume(make_pod("p").req(cpu="2", memory="4Gi").obj(), "a")
    assert engine.schedule(probe).scores == {"a": 50}
    engine.set_node_metrics(node_metrics("a", cpu="1", memory="2Gi"), observed_at=now[0] + 10)
    assert engine.schedule(probe).scores == {"a": 75}


def test_stale_metrics_fall_back_to_requests() -> None:
    now = [FIXED_NOW]
    engine = Engine(SchedulerConfig(), filters=[], scores={node_load.NAME: 1}, clock=lambda: now[0])
    engine.upsert_node(node("a"))
    engine.set_node_metrics(node_metrics("a", cpu="4", memory="8Gi"), observed_at=now[0])
    probe = make_pod("probe").req(cpu="0", memory="0").obj()
    assert engine.schedule(probe).scores == {"a": 0}
    now[0] += 121  # nodeLoad.metricsMaxAgeSeconds is 120 by default
    assert engine.schedule(probe).scores == {"a": 100}


def test_metrics_timestamp_is_used_when_no_observation_time_is_given() -> None:
    engine = Engine(SchedulerConfig(), filters=[], scores={node_load.NAME: 1}, clock=lambda: FIXED_NOW)
    engine.upsert_node(node("a"))
    engine.set_node_metrics(node_metrics("a", cpu="4", memory="8Gi", timestamp="2000-01-01T00:00:00Z"))
    assert engine.schedule(make_pod().req(cpu="0", memory="0").obj()).scores == {"a": 100}
