"""kube-scheduler's extender wire format (k8s.io/kube-scheduler/extender/v1), as pure functions.

The Go structs have no json tags, so the keys are the Go field names: `Pod`, `Nodes` (a NodeList,
`{"items": [...]}`, sent when `nodeCacheCapable: false`), `NodeNames` (when `nodeCacheCapable: true`);
answers are an ExtenderFilterResult (`Nodes` or `NodeNames` echoing the request's mode, `FailedNodes`,
`FailedAndUnresolvableNodes`, `Error`) or a HostPriorityList (`[{"Host", "Score"}]`, scores 0-10).
Go decodes keys case-insensitively, so lower-case request keys are accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

JsonObject = dict[str, Any]

MAX_EXTENDER_PRIORITY: Final = 10
"""extenderv1.MaxExtenderPriority: kube-scheduler multiplies it by weight and 100/10."""


class ProtocolError(ValueError):
    """The request is not an ExtenderArgs; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class ExtenderArgs:
    """A decoded request: the pod, and the candidate nodes by object (`nodes`) or by name only."""

    pod: JsonObject
    node_names: list[str]
    nodes: list[JsonObject] | None
    """The full Node objects when kube-scheduler sent them (nodeCacheCapable: false), else None."""


def _field(body: Mapping[str, Any], name: str) -> Any:
    if name in body:
        return body[name]
    lowered = name.lower()
    return next((value for key, value in body.items() if key.lower() == lowered), None)


def parse_args(body: object) -> ExtenderArgs:
    """Decode an ExtenderArgs JSON object; raises ProtocolError when it is not one."""
    if not isinstance(body, Mapping):
        raise ProtocolError("request body must be a JSON object (ExtenderArgs)")
    pod = _field(body, "Pod")
    if not isinstance(pod, Mapping) or not isinstance(pod.get("metadata"), Mapping):
        raise ProtocolError("ExtenderArgs.Pod must be a v1 Pod object")
    nodes = _field(body, "Nodes")
    if isinstance(nodes, Mapping):
        items = nodes.get("items") or []
        if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
            raise ProtocolError("ExtenderArgs.Nodes.items must be a list of v1 Node objects")
        names = [str(item.get("metadata", {}).get("name", "")) for item in items]
        return ExtenderArgs(dict(pod), names, [dict(item) for item in items])
    names_field = _field(body, "NodeNames")
    if names_field is None:
        raise ProtocolError("ExtenderArgs needs Nodes (nodeCacheCapable: false) or NodeNames (true)")
    if not isinstance(names_field, list) or not all(isinstance(name, str) for name in names_field):
        raise ProtocolError("ExtenderArgs.NodeNames must be a list of node names")
    return ExtenderArgs(dict(pod), list(names_field), None)


def filter_result(
    args: ExtenderArgs, *, passed: Sequence[str], failed: Mapping[str, str], unresolvable: Mapping[str, str]
) -> JsonObject:
    """An ExtenderFilterResult in the request's mode (node objects back if objects came in)."""
    keep = set(passed)
    if args.nodes is not None:
        items = [node for node in args.nodes if node.get("metadata", {}).get("name") in keep]
        nodes: JsonObject | None = {"items": items}
        names: list[str] | None = None
    else:
        nodes, names = None, [name for name in args.node_names if name in keep]
    return {
        "Nodes": nodes,
        "NodeNames": names,
        "FailedNodes": dict(failed),
        "FailedAndUnresolvableNodes": dict(unresolvable),
        "Error": "",
    }


def error_result(message: str) -> JsonObject:
    """An ExtenderFilterResult carrying only an error (kube-scheduler fails the attempt)."""
    return {
        "Nodes": None,
        "NodeNames": None,
        "FailedNodes": {},
        "FailedAndUnresolvableNodes": {},
        "Error": message,
    }


def host_priority_list(scores: Mapping[str, int], order: Sequence[str]) -> list[JsonObject]:
    """A HostPriorityList in request order; every score clamped to 0..MaxExtenderPriority."""
    return [
        {"Host": name, "Score": max(0, min(MAX_EXTENDER_PRIORITY, scores.get(name, 0)))} for name in order
    ]
