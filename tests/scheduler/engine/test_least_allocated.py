"""LeastAllocated: kube-scheduler 1.28's LeastAllocated score over cpu and memory (cases from its tests).

Nodes are sized in millicores and bytes as in kube's ``least_allocated_test.go``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from custom_scheduler.plugins import least_allocated

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
        {"node1": 37, "node2": 50},
    ),
    Case(
        "no resources requested, pods scheduled with resources",
        make_pod().obj(),
        [node("node1", 10000, 20000), node("node2", 10000, 20000)],
        {"node1": 72, "node2": 25},  # node2: cpu 9000 (10), memory 12000 (40); explicit 0 memory stays 0
        (
            pod((1000, 2000), (2000, 3000), name="a", on="node1"),
            pod((1000, 2000), (2000, 5000), name="b", on="node2"),
            pod((1000, 0), (2000, 0), name="c", on="node2"),
            pod((3000, 5000), name="d", on="node2"),
        ),
    ),
    Case(
        "requested resources exceed node capacity",
        pod((1000, 2000), (2000, 3000)),
        [node("node1", 4000, 10000), node("node2", 4000, 10000)],
        {"node1": 37, "node2": 0},  # node2 would need 6000m of 4000m: 0; memory exactly full: 0
        (pod((3000, 5000), name="a", on="node2"),),
    ),
    Case(
        "zero node resources, pods scheduled with resources",
        pod((1000, 2000), (2000, 3000)),
        [node("node1", 0, 0), node("node2", 0, 0)],
        {"node1": 0, "node2": 0},
    ),
    Case(
        "missing requests count as 100m and 200Mi",
        pod((1000, 0), name="p"),
        [make_node("node1").alloc(cpu="1", memory="400Mi", pods=110).obj()],
        {"node1": 25},  # cpu 100m + 1000m > 1000m: 0; memory 200Mi (default) + explicit 0 of 400Mi: 50
        (make_pod("empty").req().node("node1").obj(),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_score(case: Case) -> None:
    assert run_score(least_allocated.NAME, case.pod, case.nodes, case.running) == case.want
