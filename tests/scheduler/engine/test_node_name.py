"""NodeName: a pod naming a node in spec.nodeName fits only that node."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from custom_scheduler.plugins import node_name

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.engine.harness import engine_with


@dataclass(frozen=True)
class Case:
    name: str
    wanted_node: str
    want_feasible: list[str]


CASES = [
    Case("no host specified fits every node", "", ["bar", "foo"]),
    Case("the named host fits", "foo", ["foo"]),
    Case("a missing host fits nothing", "baz", []),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_filter(case: Case) -> None:
    engine = engine_with(
        [make_node("foo").obj(), make_node("bar").obj()], filters=[node_name.NAME], scores={}
    )
    pod = make_pod().obj()
    pod["spec"]["nodeName"] = case.wanted_node
    result = engine.schedule(pod)
    assert result.feasible == case.want_feasible
    for other in {"foo", "bar"} - set(case.want_feasible):
        assert result.reasons[other] == [node_name.ERR_REASON]
