"""The scheduler's view of the cluster, held as column arrays over all nodes.

Plugins decide for every node at once with numpy, so per-node facts live in one array per fact (row i is
node ``names[i]``): allocatable and requested resources, pod counts, taint sets, label values, measured
load. Adding or removing a pod touches one row, O(1); a node leaving swaps the last row into its place.
Running pods are kept only as the few numbers they contribute (:class:`PodUsage`), never as full dicts.

``node_version`` changes whenever a node comes, goes or changes (labels, taints, allocatable, ...; not
for status heartbeats, which this view does not hold); per-pod-shape caches and :meth:`Cluster.derived`
columns are keyed on it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

from custom_scheduler.objects import HostPort, NodeInfo, PodInfo, Taint
from custom_scheduler.quantity import QuantityError, parse_quantity
from custom_scheduler.validation import parse_go_int64

Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

T = TypeVar("T")

ABSENT: Final = -1
_PER_STATE_LIMIT: Final = 16  # keys may include the time; a few entries cover one scheduling cycle
"""Label code of a node that does not carry the label key."""

_INT_COLUMNS: Final = (
    "alloc_cpu",
    "alloc_memory",
    "alloc_ephemeral",
    "alloc_pods",
    "req_cpu",
    "req_memory",
    "req_ephemeral",
    "nonzero_cpu",
    "nonzero_memory",
    "pod_count",
)
_FLOAT_COLUMNS: Final = (
    "usage_cpu",
    "usage_memory",
    "metrics_time",
    "estimate_cpu",
    "estimate_memory",
    "bandwidth_capacity",
    "bandwidth_used",
    "bandwidth_reserved",
)


@dataclass(slots=True)
class PodUsage:
    """What a pod bound (or assumed) to a node contributes to it."""

    uid: str
    node: str
    cpu: int
    memory: int
    ephemeral: int
    nonzero_cpu: int
    nonzero_memory: int
    scalars: tuple[tuple[str, int], ...]
    host_ports: tuple[HostPort, ...]
    bandwidth: float
    assumed: bool

    @classmethod
    def of(cls, pod: PodInfo, node: str, *, assumed: bool) -> PodUsage:
        return cls(
            uid=pod.uid,
            node=node,
            cpu=pod.requests.cpu,
            memory=pod.requests.memory,
            ephemeral=pod.requests.ephemeral_storage,
            nonzero_cpu=pod.nonzero_cpu,
            nonzero_memory=pod.nonzero_memory,
            scalars=pod.requests.scalars,
            host_ports=pod.host_ports,
            bandwidth=pod.bandwidth_mbps,
            assumed=assumed,
        )


@dataclass(slots=True)
class _Estimate:
    """A pod placed at ``time``; its estimated use counts until a measurement newer than that arrives."""

    time: float
    cpu: int
    memory: int


@dataclass(slots=True)
class _Metrics:
    cpu: float
    memory: float
    time: float


@dataclass(slots=True)
class LabelColumn:
    """One label key over all nodes: ``codes[i]`` indexes ``values`` (ABSENT when node i lacks the key)."""

    codes: Int32Array
    values: list[str]
    lookup: dict[str, int]
    _ints: tuple[Int64Array, BoolArray] | None = None

    def code_mask(self, wanted: Iterable[str]) -> BoolArray:
        """Nodes whose value is one of ``wanted``."""
        codes = [self.lookup[v] for v in wanted if v in self.lookup]
        if not codes:
            return np.zeros(self.codes.shape, dtype=np.bool_)
        if len(codes) == 1:
            single: BoolArray = self.codes == codes[0]
            return single
        table = np.zeros(len(self.values) + 1, dtype=np.bool_)
        table[codes] = True
        return table[self.codes]  # code -1 reads the spare last slot, which is False

    def integers(self) -> tuple[Int64Array, BoolArray]:
        """Each node's value parsed as a Go int64, and whether it parsed (absent keys do not)."""
        if self._ints is None:
            parsed = [parse_go_int64(v) for v in self.values]
            numbers = np.array([p or 0 for p in parsed] + [0], dtype=np.int64)
            ok = np.array([p is not None for p in parsed] + [False], dtype=np.bool_)
            self._ints = (numbers[self.codes], ok[self.codes])
        return self._ints


@dataclass(slots=True)
class _Scalar:
    alloc: Int64Array
    requested: Int64Array


@dataclass
class Cluster:
    """All nodes as rows of column arrays, and the pods that occupy them."""

    clock: Callable[[], float]
    names: list[str] = field(default_factory=list)
    nodes: list[NodeInfo] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    node_version: int = 0
    pods: dict[str, PodUsage] = field(default_factory=dict)
    pods_by_node: dict[str, set[str]] = field(default_factory=dict)
    taint_sets: list[tuple[Taint, ...]] = field(default_factory=list)
    host_ports: dict[tuple[str, int], dict[str, Counter[str]]] = field(default_factory=dict)
    """(protocol, port) -> node name -> how many pods hold it per host IP."""
    _capacity: int = 0
    _taint_set_ids: dict[tuple[Taint, ...], int] = field(default_factory=dict)
    _columns: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    _scalars: dict[str, _Scalar] = field(default_factory=dict)
    _labels: dict[str, LabelColumn] = field(default_factory=dict)
    _name_column: LabelColumn | None = None
    _derived: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    _generation: int = 0
    _per_state: dict[Hashable, Any] = field(default_factory=dict)
    _per_state_generation: int = -1
    _metrics: dict[str, _Metrics] = field(default_factory=dict)
    _estimates: dict[str, dict[str, _Estimate]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._grow(64)

    # --- column access -------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of nodes (rows)."""
        return len(self.names)

    def column(self, name: str) -> npt.NDArray[Any]:
        """A live view of one column over the current nodes."""
        return self._columns[name][: self.size]

    def taint_set_ids(self) -> Int32Array:
        """Per node, the index of its taint list in :attr:`taint_sets`."""
        return self.column("taint_set")

    def unschedulable(self) -> BoolArray:
        return self.column("unschedulable")

    def scalar(self, resource: str) -> tuple[Int64Array, Int64Array]:
        """Allocatable and requested amounts of an extended/hugepage resource (zeros where absent)."""
        if resource not in self._scalars:
            self._scalars[resource] = _Scalar(
                np.zeros(self._capacity, dtype=np.int64), np.zeros(self._capacity, dtype=np.int64)
            )
        entry = self._scalars[resource]
        return entry.alloc[: self.size], entry.requested[: self.size]

    def labels(self, key: str) -> LabelColumn:
        """The label column for ``key``, built on first use and kept until a node's labels change."""
        column = self._labels.get(key)
        if column is None:
            lookup: dict[str, int] = {}
            codes = np.empty(self.size, dtype=np.int32)
            for row, node in enumerate(self.nodes):
                label = node.labels.get(key)
                codes[row] = ABSENT if label is None else lookup.setdefault(label, len(lookup))
            column = LabelColumn(codes=codes, values=list(lookup), lookup=lookup)
            self._labels[key] = column
        return column

    def name_codes(self) -> LabelColumn:
        """Node names as a label-like column (``metadata.name`` for matchFields)."""
        if self._name_column is None:
            codes = np.arange(self.size, dtype=np.int32)
            self._name_column = LabelColumn(codes=codes, values=list(self.names), lookup=dict(self.index))
        return self._name_column

    def derived(self, key: str, compute: Callable[[], npt.NDArray[Any]]) -> npt.NDArray[Any]:
        """A column computed from node facts only (say, allocatable as floats), kept until a node changes."""
        column = self._derived.get(key)
        if column is None:
            column = self._derived[key] = compute()
        return column

    def per_state(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A value computed from the current state (nodes, pods, metrics), kept until any of it changes:
        lets plugins of one scheduling cycle share work, such as the load view."""
        if self._per_state_generation != self._generation or len(self._per_state) >= _PER_STATE_LIMIT:
            self._per_state.clear()
            self._per_state_generation = self._generation
        if key not in self._per_state:
            self._per_state[key] = compute()
        value: T = self._per_state[key]
        return value

    def metrics_time(self) -> FloatArray:
        """When each node's usage was measured (NaN without metrics)."""
        return self.column("metrics_time")

    # --- nodes ---------------------------------------------------------------------------------
    def upsert_node(self, node: NodeInfo) -> None:
        """Add a node, or update it in place (its pods stay counted)."""
        self._generation += 1
        row = self.index.get(node.name)
        if row is None:
            row = self.size
            if row == self._capacity:
                self._grow(self._capacity * 2)
            self.names.append(node.name)
            self.nodes.append(node)
            self.index[node.name] = row
            self._fill_pods(row, node.name)
            self._fill_metrics(row, node.name)
            self._changed()
        else:
            old = self.nodes[row]
            self.nodes[row] = node
            if old != node:
                self._changed()
        self._fill_node(row, node)

    def delete_node(self, name: str) -> None:
        """Remove a node and its metrics; its pods are remembered and count again if the node returns."""
        self._generation += 1
        self._metrics.pop(name, None)
        row = self.index.pop(name, None)
        if row is None:
            return
        last = self.size - 1
        if row != last:
            for column in self._columns.values():
                column[row] = column[last]
            for scalar in self._scalars.values():
                scalar.alloc[row] = scalar.alloc[last]
                scalar.requested[row] = scalar.requested[last]
            self.names[row] = self.names[last]
            self.nodes[row] = self.nodes[last]
            self.index[self.names[row]] = row
        self.names.pop()
        self.nodes.pop()
        for scalar in self._scalars.values():
            scalar.alloc[last] = 0
            scalar.requested[last] = 0
        self._changed()

    # --- pods ----------------------------------------------------------------------------------
    def add_pod(self, usage: PodUsage) -> None:
        """Count a pod on its node (replacing an earlier version with the same uid)."""
        self._generation += 1
        self.remove_pod(usage.uid)
        self.pods[usage.uid] = usage
        self.pods_by_node.setdefault(usage.node, set()).add(usage.uid)
        for port in usage.host_ports:
            ips = self.host_ports.setdefault((port.protocol, port.port), {}).setdefault(usage.node, Counter())
            ips[port.ip] += 1
        row = self.index.get(usage.node)
        if row is not None:
            self._apply(row, usage, 1)

    def remove_pod(self, uid: str) -> PodUsage | None:
        """Stop counting a pod; return what it contributed, or None if it was not counted."""
        self._generation += 1
        usage = self.pods.pop(uid, None)
        if usage is None:
            return None
        uids = self.pods_by_node.get(usage.node)
        if uids is not None:
            uids.discard(uid)
            if not uids:
                del self.pods_by_node[usage.node]
        for port in usage.host_ports:
            by_node = self.host_ports[(port.protocol, port.port)]
            ips = by_node[usage.node]
            ips[port.ip] -= 1
            if ips[port.ip] <= 0:
                del ips[port.ip]
            if not ips:
                del by_node[usage.node]
            if not by_node:
                del self.host_ports[(port.protocol, port.port)]
        row = self.index.get(usage.node)
        if row is not None:
            self._apply(row, usage, -1)
        return usage

    # --- load ----------------------------------------------------------------------------------
    def set_metrics(self, node: str, *, cpu_millis: float, memory_bytes: float, time: float) -> None:
        """Record a node's measured usage; estimates of pods placed before ``time`` are now in it."""
        self._generation += 1
        self._metrics[node] = _Metrics(cpu_millis, memory_bytes, time)
        estimates = self._estimates.get(node)
        if estimates is not None:
            for uid in [uid for uid, e in estimates.items() if e.time < time]:
                del estimates[uid]
        row = self.index.get(node)
        if row is not None:
            self._fill_metrics(row, node)

    def add_estimate(self, node: str, uid: str, *, cpu: int, memory: int) -> None:
        """Count a just-placed pod's estimated use on top of the node's last measurement."""
        self._generation += 1
        self.remove_estimate(uid, node)
        self._estimates.setdefault(node, {})[uid] = _Estimate(self.clock(), cpu, memory)
        self._shift_estimate(node, cpu, memory)

    def remove_estimate(self, uid: str, node: str) -> None:
        """Drop a pod's estimate (it was forgotten or deleted)."""
        self._generation += 1
        estimates = self._estimates.get(node)
        estimate = None if estimates is None else estimates.pop(uid, None)
        if estimate is not None:
            self._shift_estimate(node, -estimate.cpu, -estimate.memory)

    # --- internals -----------------------------------------------------------------------------
    def _changed(self) -> None:
        self.node_version += 1
        self._labels.clear()
        self._name_column = None
        self._derived.clear()

    def _grow(self, capacity: int) -> None:
        for name in _INT_COLUMNS:
            self._columns[name] = _resized(self._columns.get(name), capacity, np.int64, 0)
        for name in _FLOAT_COLUMNS:
            self._columns[name] = _resized(self._columns.get(name), capacity, np.float64, math.nan)
        self._columns["taint_set"] = _resized(self._columns.get("taint_set"), capacity, np.int32, 0)
        self._columns["unschedulable"] = _resized(
            self._columns.get("unschedulable"), capacity, np.bool_, False
        )
        for scalar in self._scalars.values():
            scalar.alloc = _resized(scalar.alloc, capacity, np.int64, 0)
            scalar.requested = _resized(scalar.requested, capacity, np.int64, 0)
        self._capacity = capacity

    def _fill_node(self, row: int, node: NodeInfo) -> None:
        columns = self._columns
        columns["alloc_cpu"][row] = node.allocatable.cpu
        columns["alloc_memory"][row] = node.allocatable.memory
        columns["alloc_ephemeral"][row] = node.allocatable.ephemeral_storage
        columns["alloc_pods"][row] = node.allowed_pods
        columns["unschedulable"][row] = node.unschedulable
        columns["taint_set"][row] = self._taint_set_id(node.taints)
        columns["bandwidth_capacity"][row] = _or_nan(node.bandwidth_capacity_mbps)
        columns["bandwidth_used"][row] = _or_nan(node.bandwidth_used_mbps)
        for scalar in self._scalars.values():
            scalar.alloc[row] = 0
        for resource, amount in node.allocatable.scalars:
            self.scalar(resource)
            self._scalars[resource].alloc[row] = amount

    def _fill_pods(self, row: int, node: str) -> None:
        for name in ("req_cpu", "req_memory", "req_ephemeral", "nonzero_cpu", "nonzero_memory", "pod_count"):
            self._columns[name][row] = 0
        self._columns["bandwidth_reserved"][row] = 0.0
        for scalar in self._scalars.values():
            scalar.requested[row] = 0
        for uid in self.pods_by_node.get(node, ()):
            self._apply(row, self.pods[uid], 1)

    def _fill_metrics(self, row: int, node: str) -> None:
        metrics = self._metrics.get(node)
        columns = self._columns
        columns["usage_cpu"][row] = math.nan if metrics is None else metrics.cpu
        columns["usage_memory"][row] = math.nan if metrics is None else metrics.memory
        columns["metrics_time"][row] = math.nan if metrics is None else metrics.time
        self._refresh_estimate(node)

    def _shift_estimate(self, node: str, cpu: int, memory: int) -> None:
        row = self.index.get(node)
        if row is not None:
            self._columns["estimate_cpu"][row] += cpu
            self._columns["estimate_memory"][row] += memory

    def _refresh_estimate(self, node: str) -> None:
        row = self.index.get(node)
        if row is None:
            return
        estimates = self._estimates.get(node, {})
        self._columns["estimate_cpu"][row] = float(sum(e.cpu for e in estimates.values()))
        self._columns["estimate_memory"][row] = float(sum(e.memory for e in estimates.values()))

    def _apply(self, row: int, usage: PodUsage, sign: int) -> None:
        columns = self._columns
        columns["req_cpu"][row] += sign * usage.cpu
        columns["req_memory"][row] += sign * usage.memory
        columns["req_ephemeral"][row] += sign * usage.ephemeral
        columns["nonzero_cpu"][row] += sign * usage.nonzero_cpu
        columns["nonzero_memory"][row] += sign * usage.nonzero_memory
        columns["pod_count"][row] += sign
        columns["bandwidth_reserved"][row] += sign * usage.bandwidth
        for resource, amount in usage.scalars:
            self.scalar(resource)
            self._scalars[resource].requested[row] += sign * amount

    def _taint_set_id(self, taints: tuple[Taint, ...]) -> int:
        set_id = self._taint_set_ids.get(taints)
        if set_id is None:
            set_id = len(self.taint_sets)
            self._taint_set_ids[taints] = set_id
            self.taint_sets.append(taints)
        return set_id


def parse_node_metrics(metrics: Mapping[str, Any]) -> tuple[str, float, float, float | None]:
    """A metrics.k8s.io/v1beta1 NodeMetrics dict as (node, cpu millicores, memory bytes, timestamp)."""
    metadata = metrics.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if not isinstance(name, str) or not name:
        raise ValueError("metadata.name: required")
    usage = metrics.get("usage")
    if not isinstance(usage, Mapping):
        raise ValueError("usage: expected a mapping with cpu and memory")
    try:
        cpu = float(parse_quantity(usage.get("cpu", "0")) * 1000)
        memory = float(parse_quantity(usage.get("memory", "0")))
    except QuantityError as error:
        raise ValueError(f"usage: {error}") from None
    stamp = metrics.get("timestamp")
    timestamp = None
    if isinstance(stamp, str) and stamp:
        try:
            timestamp = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise ValueError(f"timestamp: {stamp!r} is not an RFC 3339 time") from None
    return name, cpu, memory, timestamp


def _resized(old: npt.NDArray[Any] | None, capacity: int, dtype: type[Any], fill: object) -> npt.NDArray[Any]:
    new = np.full(capacity, fill, dtype=dtype)
    if old is not None:
        new[: len(old)] = old
    return new


def _or_nan(number: float | None) -> float:
    return math.nan if number is None else number
