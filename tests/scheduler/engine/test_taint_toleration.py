"""TaintToleration: kube-scheduler 1.28 filter and PreferNoSchedule score; business-line taints ignored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from custom_scheduler.plugins import taint_toleration

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.engine.harness import run_filter, run_score

UNTOLERATED = taint_toleration.ERR_REASON_UNTOLERATED


@dataclass(frozen=True)
class FilterCase:
    name: str
    pod: dict[str, Any]
    taints: list[tuple[str, str, str]] = field(default_factory=list)
    want: list[str] | None = None


FILTER_CASES = [
    FilterCase(
        "a pod without tolerations can't be scheduled onto a tainted node",
        make_pod().obj(),
        [("dedicated", "user1", "NoSchedule")],
        [UNTOLERATED % ("dedicated", "user1")],
    ),
    FilterCase(
        "a pod tolerating the dedicated taint fits",
        make_pod().toleration("dedicated", "user1", effect="NoSchedule").obj(),
        [("dedicated", "user1", "NoSchedule")],
    ),
    FilterCase(
        "a toleration for another value does not help",
        make_pod().toleration("dedicated", "user2", effect="NoSchedule").obj(),
        [("dedicated", "user1", "NoSchedule")],
        [UNTOLERATED % ("dedicated", "user1")],
    ),
    FilterCase(
        "operator Exists tolerates any value",
        make_pod().toleration("foo", operator="Exists", effect="NoSchedule").obj(),
        [("foo", "bar", "NoSchedule")],
    ),
    FilterCase(
        "multiple tolerations tolerate multiple taints",
        make_pod()
        .toleration("dedicated", "user2", effect="NoSchedule")
        .toleration("foo", operator="Exists", effect="NoSchedule")
        .obj(),
        [("dedicated", "user2", "NoSchedule"), ("foo", "bar", "NoSchedule")],
    ),
    FilterCase(
        "a toleration with another effect does not help",
        make_pod().toleration("foo", "bar", effect="PreferNoSchedule").obj(),
        [("foo", "bar", "NoSchedule")],
        [UNTOLERATED % ("foo", "bar")],
    ),
    FilterCase(
        "an empty toleration effect matches every effect",
        make_pod().toleration("foo", "bar").obj(),
        [("foo", "bar", "NoSchedule")],
    ),
    FilterCase(
        "PreferNoSchedule taints never filter",
        make_pod().toleration("dedicated", "user2", effect="NoSchedule").obj(),
        [("dedicated", "user1", "PreferNoSchedule")],
    ),
    FilterCase(
        "a pod without tolerations fits a PreferNoSchedule node",
        make_pod().obj(),
        [("a", "b", "PreferNoSchedule")],
    ),
    FilterCase(
        "NoExecute taints filter too",
        make_pod().obj(),
        [("node.kubernetes.io/not-ready", "", "NoExecute")],
        [UNTOLERATED % ("node.kubernetes.io/not-ready", "")],
    ),
    FilterCase(
        "an empty value prints as a space before the brace",
        make_pod().obj(),
        [("node-role.kubernetes.io/control-plane", "", "NoSchedule")],
        ["node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"],
    ),
    FilterCase(
        "the first untolerated taint in node order is reported",
        make_pod().toleration("a", operator="Exists").obj(),
        [("a", "1", "NoSchedule"), ("b", "2", "NoSchedule"), ("c", "3", "NoSchedule")],
        [UNTOLERATED % ("b", "2")],
    ),
    FilterCase(
        "an empty key with Exists tolerates everything",
        make_pod().toleration(operator="Exists").obj(),
        [("a", "1", "NoSchedule"), ("b", "2", "NoExecute")],
    ),
    FilterCase(
        "an unknown operator tolerates nothing",
        make_pod().toleration("a", "1", operator="Matches").obj(),
        [("a", "1", "NoSchedule")],
        [UNTOLERATED % ("a", "1")],
    ),
    FilterCase(
        "the business-line taint is left to BusinessLine",
        make_pod().obj(),
        [("kubevps.dev/business-line", "payments", "NoSchedule")],
    ),
]


@pytest.mark.parametrize("case", FILTER_CASES, ids=[c.name for c in FILTER_CASES])
def test_filter(case: FilterCase) -> None:
    node = make_node("node1")
    for key, value, effect in case.taints:
        node.taint(key, value, effect)
    result = run_filter(taint_toleration.NAME, case.pod, [node.obj()])
    assert result.reasons.get("node1") == case.want


@dataclass(frozen=True)
class ScoreCase:
    name: str
    pod: dict[str, Any]
    taints: dict[str, list[tuple[str, str, str]]]
    want: dict[str, int]


SCORE_CASES = [
    ScoreCase(
        "a node with a tolerated PreferNoSchedule taint scores as high as an untainted one",
        make_pod().toleration("foo", "bar", effect="PreferNoSchedule").obj(),
        {"nodeA": [("foo", "bar", "PreferNoSchedule")], "nodeB": [("foo", "blah", "PreferNoSchedule")]},
        {"nodeA": 100, "nodeB": 0},
    ),
    ScoreCase(
        "the more untolerated PreferNoSchedule taints, the lower the score",
        make_pod().toleration("cpu-type", "arm64", effect="PreferNoSchedule").obj(),
        {
            "nodeA": [],
            "nodeB": [("cpu-type", "arm64", "PreferNoSchedule")],
            "nodeC": [("cpu-type", "arm64", "PreferNoSchedule"), ("disk-type", "ssd", "PreferNoSchedule")],
        },
        {"nodeA": 100, "nodeB": 100, "nodeC": 0},
    ),
    ScoreCase(
        "only PreferNoSchedule taints count",
        make_pod().obj(),
        {
            "nodeA": [],
            "nodeB": [("cpu-type", "arm64", "NoSchedule")],
            "nodeC": [("cpu-type", "arm64", "PreferNoSchedule"), ("disk-type", "ssd", "PreferNoSchedule")],
        },
        {"nodeA": 100, "nodeB": 100, "nodeC": 0},
    ),
    ScoreCase(
        "a NoSchedule toleration does not count against PreferNoSchedule taints",
        make_pod().toleration("foo", "bar", effect="NoSchedule").obj(),
        {"nodeA": [("foo", "bar", "PreferNoSchedule")], "nodeB": []},
        {"nodeA": 0, "nodeB": 100},
    ),
    ScoreCase(
        "counts are normalised against the most tainted node",
        make_pod().obj(),
        {
            "nodeA": [("a", "", "PreferNoSchedule")],
            "nodeB": [
                ("a", "", "PreferNoSchedule"),
                ("b", "", "PreferNoSchedule"),
                ("c", "", "PreferNoSchedule"),
            ],
        },
        {"nodeA": 67, "nodeB": 0},
    ),
]


@pytest.mark.parametrize("case", SCORE_CASES, ids=[c.name for c in SCORE_CASES])
def test_score(case: ScoreCase) -> None:
    nodes = []
    for name, taints in case.taints.items():
        node = make_node(name)
        for key, value, effect in taints:
            node.taint(key, value, effect)
        nodes.append(node.obj())
    assert run_score(taint_toleration.NAME, case.pod, nodes) == case.want
