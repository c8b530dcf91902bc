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

from custom_scheduler.cluster import parse_node_metrics
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.engine import Engine, ScheduleResult
from custom_scheduler.errors import InputError
from custom_scheduler.objects import ObjectError, PodInfo, parse_node, parse_pod

SUPPORTED_KINDS: Final = ("Node", "Pod", "NodeMetrics")
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
    documents = _decode(path, raw)
    del raw
    count = 0
    for document in documents:
        if document is None:
            continue
        for obj in _flatten(path, document):
            count += 1
            yield f"{path}#{count}", obj


def _decode(path: str, raw: bytes) -> Iterator[Any]:
    if path.endswith(".json") or raw.lstrip()[:1] in (b"{", b"["):
        try:
            yield orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise InputError([f"{path}: not valid JSON: {error}"]) from None
        return
    try:
        yield from yaml.load_all(raw, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as error:
        raise InputError([f"{path}: not valid YAML: {' '.join(str(error).split())}"]) from None


def _flatten(path: str, document: Any) -> Iterator[Mapping[str, Any]]:
    """A list, a ``kind: List`` (or any ``*List`` with items) or a single object, in order.

    Items of a typed list (``PodList``, ``NodeMetricsList``, as the API returns them) may omit their kind.
    Items are popped as they are handed out so a large file's objects are freed one by one.
    """
    item_kind = None
    if isinstance(document, list):
        items: list[Any] = document
    elif isinstance(document, Mapping) and isinstance(document.get("items"), list):
        items = document["items"]
        list_kind = str(document.get("kind") or "")
        item_kind = (
            list_kind.removesuffix("List") if list_kind.endswith("List") and list_kind != "List" else None
        )
    else:
        items = [document]
    items.reverse()
    while items:
        item = items.pop()
        if not isinstance(item, Mapping):
            raise InputError([f"{path}: expected Kubernetes objects (mappings), found {type(item).__name__}"])
        yield {"kind": item_kind, **item} if item_kind and "kind" not in item else item
