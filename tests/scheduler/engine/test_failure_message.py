"""The ``0/N nodes are available: ...`` message: kube-scheduler's FitError format, counts and sorting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.engine.harness import engine_with

CONTROL_PLANE = "node-role.kubernetes.io/control-plane"


def small(name: str) -> dict[str, Any]:
    return make_node(name).alloc(cpu="1", memory="1Gi", pods=110).obj()


@dataclass(frozen=True)
class Case:
    name: str
    nodes: list[dict[str, Any]]
    pod: dict[str, Any]
    want: str


CASES = [
    Case(
        "kubeadm cluster: a tainted control plane and two workers short on cpu",
        [make_node("cp").taint(CONTROL_PLANE).obj(), small("w1"), small("w2")],
        make_pod().req(cpu="2").obj(),
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 Insufficient cpu.",
    ),
    Case(
        "a node with two insufficient resources counts once for each",
        [small("w1"), small("w2")],
        make_pod().req(cpu="2", memory="2Gi").obj(),
        "0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory.",
    ),
    Case(
        "only the first failing filter of a node counts",
        [make_node("cordoned").alloc(cpu="1", memory="1Gi", pods=110).unschedulable().obj(), small("w1")],
        make_pod().req(cpu="2").obj(),
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable.",
    ),
    Case(
        "entries sort as strings, so 10 comes before 2",
        [small(f"w{i}") for i in range(10)] + [make_node(f"t{i}").taint("k").obj() for i in range(2)],
        make_pod().req(cpu="2").obj(),
        "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) had untolerated taint {k: }.",
    ),
    Case(
        "different taints are different reasons",
        [
            make_node("a").taint("x", "1").obj(),
            make_node("b").taint("y", "2").obj(),
            make_node("c").taint("x", "1").obj(),
        ],
        make_pod().obj(),
        "0/3 nodes are available: 1 node(s) had untolerated taint {y: 2}, "
        "2 node(s) had untolerated taint {x: 1}.",
    ),
    Case("no nodes at all", [], make_pod().obj(), "no nodes available to schedule pods"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_message(case: Case) -> None:
    result = engine_with(case.nodes).schedule(case.pod)
    assert result.node is None
    assert result.message == case.want


def test_a_placed_pod_has_no_message() -> None:
    assert engine_with([small("w1")]).schedule(make_pod().obj()).message is None


@pytest.mark.parametrize(
    ("nodes", "unresolvable"),
    [
        ([make_node("cp").taint(CONTROL_PLANE).obj()], True),
        ([small("w1")], False),
        ([make_node("cp").taint(CONTROL_PLANE).obj(), small("w1")], False),
    ],
    ids=["only taints: preemption cannot help", "only resources", "mixed"],
)
def test_unresolvable_only_when_every_rejection_is(nodes: list[dict[str, Any]], unresolvable: bool) -> None:
    result = engine_with(nodes).schedule(make_pod().req(cpu="2").obj())
    assert result.unresolvable is unresolvable
