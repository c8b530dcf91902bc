"""BalancedAllocation: kube-scheduler 1.28's formula on actual requests (cases from its tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from custom_scheduler.plugins import balanced_allocation

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.engine.harness import resource_node as node
from tests.scheduler.engine.harness import resource_pod as pod
from tests.scheduler.engine.harness import run_score


@dataclass(frozen=True)
class Case:
    name: str
    pod: dict[str, Any]
    nodes: list[dict[str, Any]]
    want: dict[str, int]
    running: tuple[dict[str, Any], ...] = ()


CASES = [
    Case(
        "nothing scheduled, nothing requested",
        make_pod().obj(),
        [node("node1", 4000, 10000), node("node2", 4000, 10000)],
        {"node1": 100, "node2": 100},
    ),
    Case(
        "nothing scheduled, resources requested, differently sized nodes",
        pod((1000, 2000), (2000, 3000)),
        [node("node1", 4000, 10000), node("node2", 6000, 10000)],
        {"node1": 87, "node2": 100},
    ),
    Case(
        "no resources requested, pods scheduled with resources",
        make_pod().obj(),
        [node("node1", 10000, 20000), node("node2", 10000, 20000)],
        {"node1": 97, "node2": 82},  # |0.3 - 0.25| / 2 and |0.6 - 0.25| / 2
        (
            pod((1000, 2000), (2000, 3000), name="a", on="node1"),
            pod((3000, 5000), (3000, 0), name="b", on="node2"),
        ),
    ),
    Case(
        "fractions are capped at 1 when requests exceed capacity",
        pod((3000, 0)),
        [node("node1", 4000, 10000)],
        {"node1": 75},  # cpu 6000/4000 capped at 1, memory 0.5: 1 - 0.5 / 2
        (pod((3000, 5000), name="a", on="node1"),),
    ),
    Case(
        "a node without allocatable memory is judged on cpu alone",
        pod((1000, 1000)),
        [make_node("node1").alloc(cpu="4", pods=110).obj()],
        {"node1": 100},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_score(case: Case) -> None:
    assert run_score(balanced_allocation.NAME, case.pod, case.nodes, case.running) == case.want
