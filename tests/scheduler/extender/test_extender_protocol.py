"""The extender wire format: ExtenderArgs in both nodeCacheCapable modes, as kube-scheduler's Go code
marshals them (capitalised field names, null for the unused one), and the shapes sent back."""

from __future__ import annotations

from typing import Any

import pytest
from custom_scheduler.extender.protocol import (
    ProtocolError,
    error_result,
    filter_result,
    host_priority_list,
    parse_args,
)

from tests.scheduler.builders import make_node, make_pod

POD = make_pod("web").obj()
NODES = [make_node("a").obj(), make_node("b").obj()]


def test_node_objects_mode_as_go_marshals_it() -> None:
    args = parse_args({"Pod": POD, "Nodes": {"metadata": {}, "items": NODES}, "NodeNames": None})
    assert (args.node_names, args.nodes) == (["a", "b"], NODES)


def test_node_names_mode_as_go_marshals_it() -> None:
    args = parse_args({"Pod": POD, "Nodes": None, "NodeNames": ["a", "b"]})
    assert (args.node_names, args.nodes) == (["a", "b"], None)


def test_keys_are_matched_case_insensitively_like_go() -> None:
    assert parse_args({"pod": POD, "nodenames": ["a"]}).node_names == ["a"]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        pytest.param([], "JSON object", id="not-an-object"),
        pytest.param({"NodeNames": ["a"]}, "Pod", id="no-pod"),
        pytest.param({"Pod": POD, "Nodes": None, "NodeNames": None}, "Nodes", id="no-nodes"),
        pytest.param({"Pod": POD, "NodeNames": "a"}, "NodeNames", id="names-not-a-list"),
        pytest.param({"Pod": POD, "Nodes": {"items": ["a"]}}, "Nodes.items", id="items-not-objects"),
    ],
)
def test_malformed_requests_are_protocol_errors(body: Any, complaint: str) -> None:
    with pytest.raises(ProtocolError, match=complaint):
        parse_args(body)


def test_filter_result_answers_in_the_mode_of_the_request() -> None:
    by_object = parse_args({"Pod": POD, "Nodes": {"items": NODES}})
    by_name = parse_args({"Pod": POD, "NodeNames": ["a", "b"]})
    verdict = {"passed": ["b"], "failed": {"a": "busy"}, "unresolvable": {}}
    assert filter_result(by_object, **verdict) == {
        "Nodes": {"items": [NODES[1]]},
        "NodeNames": None,
        "FailedNodes": {"a": "busy"},
        "FailedAndUnresolvableNodes": {},
        "Error": "",
    }
    assert filter_result(by_name, **verdict)["NodeNames"] == ["b"]
    assert filter_result(by_name, **verdict)["Nodes"] is None


def test_error_result_carries_only_the_error() -> None:
    assert error_result("boom") == {
        "Nodes": None,
        "NodeNames": None,
        "FailedNodes": {},
        "FailedAndUnresolvableNodes": {},
        "Error": "boom",
    }


def test_host_priority_list_keeps_request_order_and_clamps_to_0_10() -> None:
    assert host_priority_list({"a": 12, "b": -1}, ["b", "a", "c"]) == [
        {"Host": "b", "Score": 0},
        {"Host": "a", "Score": 10},
        {"Host": "c", "Score": 0},
    ]
