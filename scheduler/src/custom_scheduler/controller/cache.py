"""The controller's view of the cluster: watch events fed into the scheduling engine and the queue.

One thread (the scheduling loop) owns this object, the engine and the queue, so every scheduling
decision sees a consistent snapshot. Pods are split the way kube-scheduler splits them:

- assigned pods (``spec.nodeName`` set, not Succeeded/Failed) of *every* scheduler count against their
  node in the engine;
- pending pods with our ``schedulerName``, not being deleted, go to the queue (gated while they carry
  ``spec.schedulingGates``);
- a pod we chose a node for is *assumed* in the engine before its binding is sent; the watch event
  carrying its ``nodeName`` confirms it, a failed binding forgets it. Assumptions never expire by time
  (kube-scheduler 1.28, kubernetes#106361).

Cluster events that may make an unschedulable pod schedulable (a node added or changed in a way that
matters for scheduling, an assigned pod deleted or finished, an assumption dropped) move the queue's
unschedulable pods.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import orjson

from custom_scheduler.controller.informers import NodeMetricsRead, ResourceEvent
from custom_scheduler.controller.queue import SchedulingQueue
from custom_scheduler.engine import Engine
from custom_scheduler.errors import InputError
from custom_scheduler.kube.client import JsonObject
from custom_scheduler.kube.watch import Listed, WatchEvent
from custom_scheduler.objects import TERMINAL_PHASES

log = logging.getLogger(__name__)


def _safely(apply: Callable[[], object], *, what: str) -> None:
    """Apply one object's change; an object that cannot be applied is logged and skipped, never fatal."""
    try:
        apply()
    except InputError as error:
        log.warning("object ignored", extra={"object": what, "error": str(error)})
    except Exception:
        # A shape no validation foresaw must not stop scheduling for every other object.
        log.exception("object ignored", extra={"object": what})


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def uid_of(obj: Mapping[str, Any]) -> str:
    return str(_metadata(obj).get("uid", ""))


def name_of(obj: Mapping[str, Any]) -> str:
    return str(_metadata(obj).get("name", ""))


def pod_key(pod: Mapping[str, Any]) -> str:
    """`namespace/name`, the way kube-scheduler names pods in logs and events."""
    return f"{_metadata(pod).get('namespace', '')}/{name_of(pod)}"


def priority_of(pod: Mapping[str, Any]) -> int:
    priority = pod.get("spec", {}).get("priority")
    return priority if isinstance(priority, int) else 0


def _scheduling_view(node: Mapping[str, Any]) -> bytes:
    """What of a node can change a filter's verdict (heartbeats and metrics annotations cannot), as an
    immutable snapshot."""
    view = [
        node.get("metadata", {}).get("labels"),
        node.get("spec"),
        node.get("status", {}).get("allocatable"),
    ]
    return orjson.dumps(view, option=orjson.OPT_SORT_KEYS)


def _pod_view(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    """What of a pending pod can change where it fits (its status, e.g. our own condition, cannot)."""
    return (pod.get("spec"), pod.get("metadata", {}).get("labels"))


class ClusterState:
    """Applies watch events to the engine and the queue; tracks pending pods and assumptions."""

    def __init__(self, *, engine: Engine, queue: SchedulingQueue, scheduler_name: str) -> None:
        self._engine = engine
        self._queue = queue
        self._scheduler_name = scheduler_name
        self._pods: dict[str, JsonObject] = {}
        self._nodes: dict[str, bytes] = {}
        self._assumed: set[str] = set()
        self._node_metrics: dict[str, tuple[JsonObject, float]] = {}
        self.pods_synced = False
        self.nodes_synced = False

    @property
    def synced(self) -> bool:
        """Both initial lists have been applied; scheduling before that could over-commit."""
        return self.pods_synced and self.nodes_synced

    def pod(self, uid: str) -> JsonObject | None:
        """The latest version of a pod we know, if any."""
        return self._pods.get(uid)

    def is_assumed(self, uid: str) -> bool:
        return uid in self._assumed

    def is_pending(self, uid: str) -> bool:
        """Whether the pod is known, not assigned and not assumed (no binding in flight or landed).
        Safe to call from other threads: two lookups, each atomic, and a stale answer only errs one way
        for one cycle (the writer also sends the uid precondition)."""
        pod = self._pods.get(uid)
        return pod is not None and not pod.get("spec", {}).get("nodeName") and uid not in self._assumed

    def node_count(self) -> int:
        return len(self._nodes)

    def has_node(self, name: str) -> bool:
        """Whether the node is in the cache; safe to call from other threads (one dict lookup)."""
        return name in self._nodes

    def apply(self, message: ResourceEvent | NodeMetricsRead) -> None:
        """Apply one informer message (a pod or node list/change, or fresh NodeMetrics)."""
        if isinstance(message, NodeMetricsRead):
            self.on_node_metrics(message.items, observed_at=message.observed_at)
        elif message.resource == "pods":
            self.on_pods(message.event)
        else:
            self.on_nodes(message.event)

    # ----------------------------------------------------------------- pods

    def on_pods(self, event: WatchEvent) -> None:
        """Apply one pod list or pod change."""
        if isinstance(event, Listed):
            listed = {uid_of(pod): pod for pod in event.items}
            for uid in [uid for uid in self._pods if uid not in listed]:
                _safely(partial(self._delete_pod, uid), what=f"pod uid {uid}")
            for pod in listed.values():
                _safely(partial(self._upsert_pod, pod), what=pod_key(pod))
            self.pods_synced = True
        elif event.type == "DELETED":
            _safely(partial(self._delete_pod, uid_of(event.obj)), what=pod_key(event.obj))
        else:
            _safely(partial(self._upsert_pod, event.obj), what=pod_key(event.obj))

    def _upsert_pod(self, pod: JsonObject) -> None:
        uid = uid_of(pod)
        old = self._pods.get(uid)
        self._pods[uid] = pod
        spec = pod.get("spec", {})
        node = spec.get("nodeName")
        terminal = pod.get("status", {}).get("phase") in TERMINAL_PHASES
        if node:
            self._queue.remove(uid)
            self._assumed.discard(uid)
            if not terminal:
                self._engine.upsert_pod(pod)
            elif self._engine.has_pod(uid):
                self._engine.delete_pod(uid)
                self._queue.move_all()
            return
        if uid in self._assumed:
            return
        if self._is_ours_pending(pod):
            gated = bool(spec.get("schedulingGates"))
            if uid in self._queue:
                changed = old is not None and _pod_view(old) != _pod_view(pod)
                self._queue.update(uid, priority=priority_of(pod), gated=gated, changed=changed)
            else:
                self._queue.add(uid, priority=priority_of(pod), gated=gated)
        else:
            self._queue.remove(uid)

    def _delete_pod(self, uid: str) -> None:
        self._pods.pop(uid, None)
        self._queue.remove(uid)
        self.forget(uid)
        if self._engine.has_pod(uid):
            self._engine.delete_pod(uid)
            self._queue.move_all()

    def _is_ours_pending(self, pod: Mapping[str, Any]) -> bool:
        spec = pod.get("spec", {})
        return (
            spec.get("schedulerName") == self._scheduler_name
            and not spec.get("nodeName")
            and not pod.get("metadata", {}).get("deletionTimestamp")
            and pod.get("status", {}).get("phase") not in TERMINAL_PHASES
        )

    # ----------------------------------------------------------------- assumptions

    def assume(self, pod: JsonObject, node: str) -> None:
        """Count `pod` on `node` before its binding is sent, so the next decision sees it."""
        self._engine.assume(pod, node)
        self._assumed.add(uid_of(pod))

    def forget(self, uid: str) -> bool:
        """Drop an assumption whose binding did not happen (no-op once the watch confirmed it); True when
        one was dropped.

        The capacity it held is free again, so unschedulable pods are moved, as kube-scheduler 1.28 does
        after a failed binding cycle (handleBindingCycleError → MoveAllToActiveOrBackoffQueue)."""
        if uid not in self._assumed:
            return False
        self._assumed.discard(uid)
        self._engine.forget(uid)
        self._queue.move_all()
        return True

    def adopt(self, pod: JsonObject) -> None:
        """A fresher copy of a pod read back after a failed binding: apply it unless the watch got there
        first or the pod has since been deleted."""
        known = self._pods.get(uid_of(pod))
        if known is not None and not known.get("spec", {}).get("nodeName"):
            self._upsert_pod(pod)

    # ----------------------------------------------------------------- nodes and metrics

    def on_nodes(self, event: WatchEvent) -> None:
        """Apply one node list or node change."""
        if isinstance(event, Listed):
            listed = {name_of(node): node for node in event.items}
            for name in [name for name in self._nodes if name not in listed]:
                _safely(partial(self._delete_node, name), what=f"node {name}")
            for name, node in listed.items():
                _safely(partial(self._upsert_node, node, wake=False), what=f"node {name}")
            self.nodes_synced = True
            self._queue.move_all()
        elif event.type == "DELETED":
            _safely(partial(self._delete_node, name_of(event.obj)), what=f"node {name_of(event.obj)}")
        else:
            _safely(partial(self._upsert_node, event.obj, wake=True), what=f"node {name_of(event.obj)}")

    def _upsert_node(self, node: JsonObject, *, wake: bool) -> None:
        """Store a node; with `wake`, a new node or a change that matters for filters moves the
        unschedulable pods."""
        name = name_of(node)
        view = _scheduling_view(node)
        self._engine.upsert_node(node)
        known = name in self._nodes
        changed = self._nodes.get(name) != view
        self._nodes[name] = view
        if not known and name in self._node_metrics:
            # Metrics read before the node itself was seen (the poller raced the node list).
            item, observed_at = self._node_metrics[name]
            _safely(
                partial(self._engine.set_node_metrics, item, observed_at=observed_at), what=f"metrics {name}"
            )
        if wake and changed:
            self._queue.move_all()

    def _delete_node(self, name: str) -> None:
        self._nodes.pop(name, None)
        self._engine.delete_node(name)

    def on_node_metrics(self, items: Sequence[JsonObject], *, observed_at: float) -> None:
        """Hand fresh NodeMetrics to the engine (for nodes it knows; the others get them when they
        appear, so a read that arrives before the node list is not lost until the next poll)."""
        self._node_metrics = {name_of(item): (item, observed_at) for item in items}
        for item in items:
            name = name_of(item)
            if name in self._nodes:
                _safely(
                    partial(self._engine.set_node_metrics, item, observed_at=observed_at),
                    what=f"metrics {name}",
                )
