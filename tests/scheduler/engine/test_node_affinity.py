"""NodeAffinity: nodeSelector and required terms filter (kube-scheduler 1.28 cases); preferred terms score."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from custom_scheduler.plugins import node_affinity
from custom_scheduler.plugins.node_affinity import ERR_REASON_CONFLICT, ERR_REASON_POD

from tests.scheduler.builders import expression, make_node, make_pod, name_field, term
from tests.scheduler.engine.harness import run_filter, run_score


@dataclass(frozen=True)
class FilterCase:
    name: str
    pod: dict[str, Any]
    labels: dict[str, str] = field(default_factory=dict)
    node_name: str = "node1"
    want: list[str] | None = None  # None: the node fits


def affinity(*terms: dict[str, Any]) -> dict[str, Any]:
    return make_pod().required(*terms).obj()


FILTER_CASES = [
    FilterCase("missing labels", make_pod().node_selector(foo="bar").obj(), want=[ERR_REASON_POD]),
    FilterCase("same labels", make_pod().node_selector(foo="bar").obj(), {"foo": "bar"}),
    FilterCase(
        "node labels are superset", make_pod().node_selector(foo="bar").obj(), {"foo": "bar", "baz": "blah"}
    ),
    FilterCase(
        "node labels are subset",
        make_pod().node_selector(foo="bar", baz="blah").obj(),
        {"foo": "bar"},
        want=[ERR_REASON_POD],
    ),
    FilterCase("selector value may be empty", make_pod().node_selector(foo="").obj(), {"foo": ""}),
    FilterCase("In matches", affinity(term(expression("foo", "In", "bar", "value2"))), {"foo": "bar"}),
    FilterCase(
        "Gt matches", affinity(term(expression("kernel-version", "Gt", "0204"))), {"kernel-version": "0206"}
    ),
    FilterCase("Gt is strict", affinity(term(expression("v", "Gt", "5"))), {"v": "5"}, want=[ERR_REASON_POD]),
    FilterCase("Lt matches", affinity(term(expression("v", "Lt", "10"))), {"v": "-3"}),
    FilterCase(
        "Gt with a non-integer label does not match",
        affinity(term(expression("v", "Gt", "1"))),
        {"v": "1.5"},
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "Gt with a non-integer value never matches",
        affinity(term(expression("v", "Gt", "one"))),
        {"v": "5"},
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "NotIn matches another value",
        affinity(term(expression("mem-type", "NotIn", "DDR", "DDR2"))),
        {"mem-type": "DDR3"},
    ),
    FilterCase("NotIn matches a missing key", affinity(term(expression("mem-type", "NotIn", "DDR"))), {}),
    FilterCase("Exists matches", affinity(term(expression("GPU", "Exists"))), {"GPU": "NVIDIA-GRID-K1"}),
    FilterCase("DoesNotExist matches a missing key", affinity(term(expression("GPU", "DoesNotExist"))), {}),
    FilterCase(
        "DoesNotExist rejects a present key",
        affinity(term(expression("GPU", "DoesNotExist"))),
        {"GPU": "x"},
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "affinity that doesn't match the node's labels",
        affinity(term(expression("foo", "In", "value1", "value2"))),
        {"foo": "bar"},
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "empty matchExpressions match no objects",
        make_pod().required({"matchExpressions": []}).obj(),
        {"foo": "bar"},
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "no terms at all match nothing", make_pod().required().obj(), {"foo": "bar"}, want=[ERR_REASON_POD]
    ),
    FilterCase("no affinity schedules anywhere", make_pod().obj(), {"foo": "bar"}),
    FilterCase(
        "affinity without required terms schedules anywhere",
        {**make_pod().obj(), "spec": {"containers": [], "affinity": {"nodeAffinity": {}}}},
        {"foo": "bar"},
    ),
    FilterCase(
        "multiple expressions are ANDed (match)",
        affinity(term(expression("GPU", "Exists"), expression("GPU", "NotIn", "AMD", "INTER"))),
        {"GPU": "NVIDIA-GRID-K1"},
    ),
    FilterCase(
        "multiple expressions are ANDed (no match)",
        affinity(term(expression("GPU", "Exists"), expression("GPU", "In", "AMD", "INTER"))),
        {"GPU": "NVIDIA-GRID-K1"},
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "terms are ORed",
        affinity(
            term(expression("foo", "In", "bar", "value2")),
            term(expression("diffkey", "In", "wrong", "value2")),
        ),
        {"foo": "bar"},
    ),
    FilterCase(
        "nodeSelector and affinity both satisfied",
        make_pod().node_selector(foo="bar").required(term(expression("foo", "Exists"))).obj(),
        {"foo": "bar"},
    ),
    FilterCase(
        "affinity matches but nodeSelector does not",
        make_pod().node_selector(foo="bar").required(term(expression("foo", "Exists"))).obj(),
        {"foo": "barrrrrr"},
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "an invalid value makes the term match nothing",
        affinity(term(expression("foo", "NotIn", "invalid value: ___@#$%^"))),
        {"foo": "bar"},
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "an invalid key makes the term match nothing",
        affinity(term(expression("not a key", "DoesNotExist"))),
        {},
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "an unknown operator makes the term match nothing",
        affinity(term(expression("foo", "Like", "bar"))),
        {"foo": "bar"},
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "an invalid term does not stop a later valid one",
        affinity(term(expression("foo", "In")), term(expression("foo", "In", "bar"))),
        {"foo": "bar"},
    ),
    FilterCase("matchFields In matches the node", affinity(term(fields=[name_field("In", "node1")]))),
    FilterCase(
        "matchFields In does not match another node",
        affinity(term(fields=[name_field("In", "node1")])),
        node_name="node2",
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "matchFields NotIn matches another node",
        affinity(term(fields=[name_field("NotIn", "node1")])),
        node_name="node2",
    ),
    FilterCase(
        "matchFields with two values is invalid",
        affinity(term(fields=[name_field("In", "node1", "node2")])),
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "two terms: matchFields does not match, but matchExpressions matches",
        affinity(
            term(fields=[name_field("In", "node1"), name_field("In", "node2")]),
            term(expression("foo", "In", "bar")),
        ),
        {"foo": "bar"},
        node_name="node2",
    ),
    FilterCase(
        "one term: matchFields does not match, but matchExpressions matches",
        affinity(term(expression("foo", "In", "bar"), fields=[name_field("In", "node1")])),
        {"foo": "bar"},
        node_name="node2",
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "one term: both matchFields and matchExpressions match",
        affinity(term(expression("foo", "In", "bar"), fields=[name_field("In", "node1")])),
        {"foo": "bar"},
    ),
    FilterCase(
        "two terms: both matchFields and matchExpressions do not match",
        affinity(term(fields=[name_field("In", "node1")]), term(expression("foo", "In", "not-match-to-bar"))),
        {"foo": "bar"},
        node_name="node2",
        want=[ERR_REASON_POD],
    ),
    FilterCase(
        "two terms of node.Name affinity",
        affinity(term(fields=[name_field("In", "node1")]), term(fields=[name_field("In", "node2")])),
        node_name="node2",
    ),
    FilterCase(
        "two conflicting matchFields requirements reject in PreFilter",
        affinity(term(fields=[name_field("In", "node1"), name_field("In", "node2")])),
        {"foo": "bar"},
        node_name="node2",
        want=[ERR_REASON_CONFLICT],
    ),
]


@pytest.mark.parametrize("case", FILTER_CASES, ids=[c.name for c in FILTER_CASES])
def test_filter(case: FilterCase) -> None:
    node = make_node(case.node_name).labels(case.labels).obj()
    result = run_filter(node_affinity.NAME, case.pod, [node])
    assert result.reasons.get(case.node_name) == case.want
    assert result.feasible == ([] if case.want else [case.node_name])


def test_prefilter_conflict_message_names_no_nodes() -> None:
    pod = affinity(term(fields=[name_field("In", "a"), name_field("In", "b")]))
    result = run_filter(node_affinity.NAME, pod, [make_node("a").obj(), make_node("b").obj()])
    assert result.message == "0/2 nodes are available: pod affinity terms conflict."
    assert result.unresolvable


LABEL1 = {"foo": "bar"}
LABEL2 = {"key": "value"}
LABEL3 = {"az": "az1"}
LABEL4 = {"abc": "az11", "def": "az22"}
LABEL5 = {"foo": "bar", "key": "value", "az": "az1"}
AFFINITY1 = make_pod().preferred(2, term(expression("foo", "In", "bar"))).obj()
AFFINITY2 = (
    make_pod()
    .preferred(2, term(expression("foo", "In", "bar")))
    .preferred(4, term(expression("key", "In", "value")))
    .preferred(
        5,
        term(expression("foo", "In", "bar"), expression("key", "In", "value"), expression("az", "In", "az1")),
    )
    .obj()
)


@dataclass(frozen=True)
class ScoreCase:
    name: str
    pod: dict[str, Any]
    nodes: dict[str, dict[str, str]]
    want: dict[str, int]


SCORE_CASES = [
    ScoreCase(
        "all nodes are same priority as NodeAffinity is nil",
        make_pod().obj(),
        {"node1": LABEL1, "node2": LABEL2, "node3": LABEL3},
        {"node1": 0, "node2": 0, "node3": 0},
    ),
    ScoreCase(
        "no node matches preferred scheduling requirements",
        AFFINITY1,
        {"node1": LABEL4, "node2": LABEL2, "node3": LABEL3},
        {"node1": 0, "node2": 0, "node3": 0},
    ),
    ScoreCase(
        "only node1 matches the preferred scheduling requirements of pod",
        AFFINITY1,
        {"node1": LABEL1, "node2": LABEL2, "node3": LABEL3},
        {"node1": 100, "node2": 0, "node3": 0},
    ),
    ScoreCase(
        "all nodes match but with different priorities",
        AFFINITY2,
        {"node1": LABEL1, "node5": LABEL5, "node2": LABEL2},
        {"node1": 18, "node5": 100, "node2": 36},
    ),
    ScoreCase(
        "a zero-weight term is ignored",
        make_pod().preferred(0, term(expression("foo", "In", "bar"))).obj(),
        {"node1": LABEL1, "node2": LABEL2},
        {"node1": 0, "node2": 0},
    ),
]


@pytest.mark.parametrize("case", SCORE_CASES, ids=[c.name for c in SCORE_CASES])
def test_score(case: ScoreCase) -> None:
    nodes = [make_node(name).labels(labels).obj() for name, labels in case.nodes.items()]
    assert run_score(node_affinity.NAME, case.pod, nodes) == case.want
