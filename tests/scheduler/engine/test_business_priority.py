"""BusinessPriority: floor(50 + (headroom - 50) * p / (p + 1000)); priority 0 is neutral."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from custom_scheduler.plugins import business_priority

from tests.scheduler.builders import make_node, make_pod, node_metrics
from tests.scheduler.engine.harness import run_score


@dataclass(frozen=True)
class Case:
    name: str
    priority: int
    want: dict[str, int]


# node "roomy" is 20% busy on its scarcer resource, "tight" 80%: headroom 80 and 20
CASES = [
    Case("priority 0 is neutral everywhere", 0, {"roomy": 50, "tight": 50}),
    Case("negative priority is neutral too", -10, {"roomy": 50, "tight": 50}),
    Case("priority 1000 weighs headroom half", 1000, {"roomy": 65, "tight": 35}),
    Case("system-critical priority follows headroom", 2_000_000_000, {"roomy": 79, "tight": 20}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_score(case: Case) -> None:
    nodes = [make_node(n).alloc(cpu="10", memory="10Gi", pods=110).obj() for n in ("roomy", "tight")]
    metrics = [node_metrics("roomy", cpu="2", memory="1Gi"), node_metrics("tight", cpu="1", memory="8Gi")]
    pod = make_pod().req(cpu="0", memory="0").priority(case.priority).obj()
    assert run_score(business_priority.NAME, pod, nodes, metrics=metrics) == case.want
