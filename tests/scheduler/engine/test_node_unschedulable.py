"""NodeUnschedulable: cordoned nodes take only pods tolerating node.kubernetes.io/unschedulable:NoSchedule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from custom_scheduler.plugins import node_unschedulable
from custom_scheduler.plugins.node_unschedulable import ERR_REASON_UNSCHEDULABLE

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.engine.harness import run_filter


@dataclass(frozen=True)
class Case:
    name: str
    pod: dict[str, Any]
    cordoned: bool
    want: list[str] | None


CASES = [
    Case("a schedulable node takes any pod", make_pod().obj(), False, None),
    Case(
        "a cordoned node rejects a pod without tolerations",
        make_pod().obj(),
        True,
        [ERR_REASON_UNSCHEDULABLE],
    ),
    Case(
        "a cordoned node takes a pod tolerating the unschedulable taint",
        make_pod()
        .toleration("node.kubernetes.io/unschedulable", operator="Exists", effect="NoSchedule")
        .obj(),
        True,
        None,
    ),
    Case(
        "a NoExecute toleration does not tolerate cordoning",
        make_pod()
        .toleration("node.kubernetes.io/unschedulable", operator="Exists", effect="NoExecute")
        .obj(),
        True,
        [ERR_REASON_UNSCHEDULABLE],
    ),
    Case(
        "a tolerate-everything pod fits a cordoned node",
        make_pod().toleration(operator="Exists").obj(),
        True,
        None,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_filter(case: Case) -> None:
    node = make_node("node1")
    if case.cordoned:
        node.unschedulable()
    result = run_filter(node_unschedulable.NAME, case.pod, [node.obj()])
    assert result.reasons.get("node1") == case.want


def test_cordoned_nodes_are_unresolvable() -> None:
    result = run_filter(node_unschedulable.NAME, make_pod().obj(), [make_node("n").unschedulable().obj()])
    assert result.message == "0/1 nodes are available: 1 node(s) were unschedulable."
    assert result.unresolvable
