"""BusinessLine: lines never cross; the shared pool stays shared; spillToShared lets named lines in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from custom_scheduler.config import SchedulerConfig, parse_config
from custom_scheduler.plugins import business_line

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.engine.harness import engine_with, run_filter

LINE = "kubevps.dev/business-line"
REASON = business_line.ERR_REASON


def cluster() -> list[dict[str, object]]:
    return [
        make_node("pay-1").label(LINE, "payments").taint(LINE, "payments").obj(),
        make_node("search-1").label(LINE, "search").taint(LINE, "search").obj(),
        make_node("shared-1").obj(),
    ]


@dataclass(frozen=True)
class Case:
    name: str
    pod_line: str | None
    spill: tuple[str, ...]
    feasible: list[str]


CASES = [
    Case("a pod of a line runs only on its line's nodes", "payments", (), ["pay-1"]),
    Case("a pod without a line runs only in the shared pool", None, (), ["shared-1"]),
    Case(
        "a line allowed to spill also uses the shared pool", "payments", ("payments",), ["pay-1", "shared-1"]
    ),
    Case("spilling is per line", "search", ("payments",), ["search-1"]),
    Case("a line without nodes has nowhere to go", "billing", (), []),
    Case("a line without nodes may still spill", "billing", ("billing",), ["shared-1"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_filter(case: Case) -> None:
    config = parse_config({"businessLine": {"spillToShared": list(case.spill)}}, source="test")
    pod = make_pod()
    if case.pod_line is not None:
        pod.label(LINE, case.pod_line)
    result = run_filter(business_line.NAME, pod.obj(), cluster(), config=config)
    assert result.feasible == case.feasible
    assert {
        name: [REASON] for name in {"pay-1", "search-1", "shared-1"} - set(case.feasible)
    } == result.reasons


def test_the_label_key_comes_from_config() -> None:
    config = parse_config({"businessLine": {"labelKey": "example.com/team"}}, source="test")
    nodes = [
        make_node("a").label("example.com/team", "x").obj(),
        make_node("b").label(LINE, "payments").obj(),
    ]
    result = run_filter(
        business_line.NAME, make_pod().label("example.com/team", "x").obj(), nodes, config=config
    )
    assert result.feasible == ["a"]


def test_the_full_profile_honours_lines_despite_the_taint() -> None:
    engine = engine_with(cluster())
    assert engine.schedule(make_pod().label(LINE, "payments").obj()).node == "pay-1"
    assert engine.schedule(make_pod().obj()).node == "shared-1"


def test_failure_is_unresolvable_with_the_business_line_reason() -> None:
    engine = engine_with(cluster(), config=SchedulerConfig())
    result = engine.schedule(make_pod().label(LINE, "billing").obj())
    assert result.message == "0/3 nodes are available: 3 node(s) didn't match Pod's business line."
    assert result.unresolvable
