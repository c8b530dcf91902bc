"""NetworkBandwidth: the share of capacity left after the pod; unannotated nodes are neutral (50)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from custom_scheduler.plugins import network_bandwidth

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.engine.harness import run_score

CAPACITY = "kubevps.dev/bandwidth-capacity-mbps"
USED = "kubevps.dev/bandwidth-used-mbps"
ASKED = "kubevps.dev/bandwidth-mbps"


def node(name: str, capacity: str | None = None, used: str | None = None) -> dict[str, Any]:
    builder = make_node(name)
    if capacity is not None:
        builder.annotation(CAPACITY, capacity)
    if used is not None:
        builder.annotation(USED, used)
    return builder.obj()


@dataclass(frozen=True)
class Case:
    name: str
    pod: dict[str, Any]
    nodes: list[dict[str, Any]]
    want: dict[str, int]
    running: tuple[dict[str, Any], ...] = ()


CASES = [
    Case("no annotations anywhere is neutral", make_pod().obj(), [node("a"), node("b")], {"a": 50, "b": 50}),
    Case(
        "more bandwidth left scores higher",
        make_pod().obj(),
        [node("a", "1000", "900"), node("b", "1000", "200")],
        {"a": 10, "b": 80},
    ),
    Case(
        "the pod's own bandwidth is taken off",
        make_pod().annotation(ASKED, "300").obj(),
        [node("a", "1000", "0")],
        {"a": 70},
    ),
    Case(
        "an unannotated node is neutral next to annotated ones",
        make_pod().obj(),
        [node("a", "1000", "0"), node("b")],
        {"a": 100, "b": 50},
    ),
    Case(
        "pods asking for more than was measured count at once",
        make_pod().obj(),
        [node("a", "1000", "100")],
        {"a": 40},
        (make_pod("r").annotation(ASKED, "600").node("a").obj(),),
    ),
    Case("an exhausted node scores 0", make_pod().obj(), [node("a", "100", "150")], {"a": 0}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_score(case: Case) -> None:
    assert run_score(network_bandwidth.NAME, case.pod, case.nodes, case.running) == case.want
