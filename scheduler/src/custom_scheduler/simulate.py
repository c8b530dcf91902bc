"""``custom-scheduler simulate``: schedule the pending pods of some manifest files, offline.

Input files are YAML (multi-document and/or ``kind: List``) or JSON, holding v1 Nodes, v1 Pods and
metrics.k8s.io/v1beta1 NodeMetrics. Pods with ``spec.nodeName`` run there (unless Succeeded/Failed) and
count against the node; the others are pending and are scheduled in file order, whatever their
schedulerName, each placement counted before the next pod. NodeMetrics are taken as fresh.

Files are read one at a time and running pods are reduced to what they contribute, so memory stays
proportional to the nodes and the pending pods, not to the size of the input.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import orjson
import yaml

from custom_scheduler import yaml_stream
from custom_scheduler.cluster import parse_node_metrics
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.engine import Engine, ScheduleResult
from custom_scheduler.errors import InputError
from custom_scheduler.objects import ObjectError, PodInfo, parse_node, parse_pod

SUPPORTED_KINDS: Final = ("Node", "Pod", "NodeMetrics")
STREAM_JSON_ABOVE: Final = 8 * 1024 * 1024
"""JSON files larger than this (bytes) are streamed rather than parsed whole."""
_FIXED_NOW: Final = 1_700_000_000.0


@dataclass(frozen=True, slots=True)
class Placement:
    """One pending pod's outcome; ``result`` is None when details were not asked for."""

    pod: str
    node: str | None
    result: ScheduleResult | None


class Simulation:
    """An engine fed from files: :meth:`load` them, then :meth:`run` the pending pods."""

    def __init__(self, config: SchedulerConfig, *, seed: int = 0) -> None:
        self.engine = Engine(config, seed=seed, clock=lambda: _FIXED_NOW)
        self.pending: list[PodInfo] = []

    def load(self, paths: Sequence[str | os.PathLike[str]]) -> None:
        """Read every file in order; raise InputError naming the file and object of the first bad one."""
        for path in paths:
            for where, obj in _objects(os.fspath(path)):
                pod = _load_object(self.engine, where, obj)
                if pod is not None:
                    self.pending.append(replace(pod, uid=f"\0pending/{len(self.pending)}"))

    def run(self, *, details: bool = True) -> list[Placement]:
        """Schedule the pending pods one after another, each placement counted before the next."""
        engine = self.engine
        placements = []
        for pod in self.pending:
            decision = engine.decide(pod)
            node = None if decision.row is None else engine.cluster.names[decision.row]
            result = engine.result(decision) if details else None
            if node is not None:
                engine.assume_info(pod, node)
            placements.append(Placement(pod.key, node, result))
        return placements


def simulate(
    paths: Sequence[str | os.PathLike[str]], config: SchedulerConfig, *, seed: int = 0, details: bool = True
) -> list[Placement]:
    """Load the files, then schedule every pending pod in order; raise InputError for bad input."""
    simulation = Simulation(config, seed=seed)
    simulation.load(paths)
    return simulation.run(details=details)


def _load_object(engine: Engine, where: str, obj: Mapping[str, Any]) -> PodInfo | None:
    """Feed one object to the engine; return it if it is a pending pod."""
    kind = obj.get("kind")
    try:
        if kind == "Node":
            engine.cluster.upsert_node(parse_node(obj))
        elif kind == "NodeMetrics":
            node, cpu, memory, _ = parse_node_metrics(obj)
            engine.cluster.set_metrics(node, cpu_millis=cpu, memory_bytes=memory, time=_FIXED_NOW)
        elif kind == "Pod":
            pod = parse_pod(obj)
            if not pod.node_name:
                return pod
            if pod.counts_on_node:
                engine.upsert_pod_info(replace(pod, uid=f"\0running/{where}"))
        else:
            raise ObjectError(
                f"kind {kind!r} is not supported (expected one of: {', '.join(SUPPORTED_KINDS)})"
            )
    except ValueError as error:  # ObjectError, or a malformed NodeMetrics
        raise InputError([f"{where} {_describe(obj)}: {error}"]) from None
    return None


def _describe(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata")
    name = namespace = ""
    if isinstance(metadata, Mapping):
        name = str(metadata.get("name") or "")
        namespace = str(metadata.get("namespace") or "")
    kind = str(obj.get("kind") or "object")
    if kind == "Pod" and name:
        return f"{kind} {namespace or 'default'}/{name}"
    return f"{kind} {name}" if name else kind


def _objects(path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every object in a file, with ``file#n`` locating it (lists expanded), in file order."""
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
    except OSError as error:
        raise InputError([f"{path}: cannot read: {error.strerror}"]) from None
    for count, (obj, list_kind) in enumerate(_decode(path, raw), start=1):
        if not isinstance(obj, Mapping):
            raise InputError([f"{path}: expected Kubernetes objects (mappings), found {type(obj).__name__}"])
        yield f"{path}#{count}", _with_kind(obj, list_kind)


def _decode(path: str, raw: bytes) -> Iterator[tuple[Any, str | None]]:
    """Objects with the kind of the list they came in.

    JSON goes through orjson, whose whole-document tree costs about eight times the file size; JSON
    files above :data:`STREAM_JSON_ABOVE` and all YAML are streamed object by object instead (JSON is
    YAML), trading some speed for memory that does not grow with the file (see yaml_stream).
    """
    # Only a .json file takes the JSON fast path: YAML in flow style starts with "{" too.
    is_json = path.endswith(".json")
    if is_json and len(raw) <= STREAM_JSON_ABOVE:
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise InputError([f"{path}: not valid JSON: {error}"]) from None
        del raw
        yield from _flatten(document)
        return
    try:
        for item in yaml_stream.items(raw):
            yield item.value, item.list_kind
    except yaml.YAMLError as error:
        language = "JSON" if is_json else "YAML"
        raise InputError([f"{path}: not valid {language}: {' '.join(str(error).split())}"]) from None


def _flatten(document: Any) -> Iterator[tuple[Any, str | None]]:
    """A list, a list document (``kind: List``, ``PodList``, ...) with ``items``, or a single object.

    Items are popped as they are handed out so a large file's objects are freed one by one.
    """
    list_kind = None
    if isinstance(document, list):
        items: list[Any] = document
    elif isinstance(document, Mapping) and isinstance(document.get("items"), list):
        items = document["items"]
        list_kind = document.get("kind") if isinstance(document.get("kind"), str) else None
    else:
        items = [document]
    items.reverse()
    while items:
        yield items.pop(), list_kind


def _with_kind(obj: Mapping[str, Any], list_kind: str | None) -> Mapping[str, Any]:
    """Items of a typed list (``PodList``, ``NodeMetricsList``, as the API serves them) may omit kind."""
    if "kind" in obj or not list_kind or list_kind == "List" or not list_kind.endswith("List"):
        return obj
    return {"kind": list_kind.removesuffix("List"), **obj}
