"""The fake API server's state: objects, resourceVersions, watch fan-out, bindings and a kubelet.

It behaves like the real API server where the scheduler depends on it: one global resourceVersion,
watch history with compaction (a watch from a compacted version gets an ERROR event with 410), a
Binding that answers 201 with a `Status` body and 409 when the pod is already assigned or its UID
differs, a strategic merge of `status.conditions` by type, Lease updates that must carry the current
resourceVersion, and MicroTime validation. Tests drive faults through the same object.
"""

from __future__ import annotations

import copy
import re
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from . import quantity

Obj = dict[str, Any]
Key = tuple[str, str]

KINDS = ("pods", "nodes", "events", "leases", "namespaces")
KIND_NAMES = {"pods": "Pod", "nodes": "Node", "events": "Event", "leases": "Lease", "namespaces": "Namespace"}
API_VERSIONS = {
    "pods": "v1",
    "nodes": "v1",
    "events": "v1",
    "leases": "coordination.k8s.io/v1",
    "namespaces": "v1",
}
MICRO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
NOTE_LENGTH_LIMIT = 1024
HISTORY_LIMIT = 200_000


class ApiFailureError(Exception):
    """An HTTP error answer: status, reason and message, rendered as a `Status` by the server."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class BindingRecord:
    """One successful binding, kept so tests can prove no pod was bound twice."""

    namespace: str
    name: str
    uid: str
    node: str
    by: str


@dataclass
class Watcher:
    """One open watch stream: the events queued for it and whether it must be cut."""

    kind: str
    field_filter: Callable[[Obj], bool]
    events: deque[Obj] = field(default_factory=deque)
    dropped: bool = False
    """Cut the stream without a final chunk, as a broken connection would."""
    finished: bool = False
    """End the stream cleanly once the queued events are sent (after a 410 ERROR event)."""


def now_time() -> str:
    """An RFC 3339 Time (seconds precision), as the API server writes them."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeCluster:
    """Objects and their history behind one lock; every mutation bumps the global resourceVersion."""

    def __init__(self, *, kubelet: bool = True, metrics_api: bool = True) -> None:
        self.cond = threading.Condition()
        self.rv = 0
        self.objects: dict[str, dict[Key, Obj]] = {kind: {} for kind in KINDS}
        self.history: dict[str, deque[tuple[int, str, Obj]]] = {kind: deque() for kind in KINDS}
        self.compacted_rv = dict.fromkeys(KINDS, 0)
        self.watchers: list[Watcher] = []
        self.bindings: list[BindingRecord] = []
        self.rejected_bindings: list[tuple[str, str, int]] = []
        self.kubelet = kubelet
        self.metrics_api = metrics_api
        self.node_metrics: dict[str, Obj] = {}
        self.pods_by_node: dict[str, set[Key]] = {}
        self.event_reasons: Counter[str] = Counter()
        self.kubelet_rejections = 0

    # ----------------------------------------------------------------- generic object store

    def _bump(self) -> str:
        self.rv += 1
        return str(self.rv)

    def _record(self, kind: str, event_type: str, obj: Obj) -> None:
        history = self.history[kind]
        history.append((self.rv, event_type, obj))
        if len(history) > HISTORY_LIMIT:
            dropped_rv, _, _ = history.popleft()
            self.compacted_rv[kind] = dropped_rv
        event = {"type": event_type, "object": obj}
        for watcher in self.watchers:
            if watcher.kind == kind and watcher.field_filter(obj):
                watcher.events.append(event)
        self.cond.notify_all()

    def put(self, kind: str, obj: Obj, *, event_type: str | None = None) -> Obj:
        """Store an object (create or replace) and emit its watch event; returns a copy."""
        with self.cond:
            meta = obj.setdefault("metadata", {})
            key = (meta.get("namespace", ""), meta["name"])
            existed = key in self.objects[kind]
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now_time())
            meta["resourceVersion"] = self._bump()
            obj.setdefault("kind", KIND_NAMES[kind])
            obj.setdefault("apiVersion", API_VERSIONS[kind])
            self.objects[kind][key] = obj
            if kind == "pods" and obj.get("spec", {}).get("nodeName"):
                self.pods_by_node.setdefault(obj["spec"]["nodeName"], set()).add(key)
            self._record(kind, event_type or ("MODIFIED" if existed else "ADDED"), copy.deepcopy(obj))
            return copy.deepcopy(obj)

    def create(self, kind: str, obj: Obj) -> Obj:
        """Create; 409 AlreadyExists when the name is taken. The server assigns the uid, as the real
        one does (so a pod re-created under its old name gets a new uid)."""
        with self.cond:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            if (meta.get("namespace", ""), meta.get("name")) in self.objects[kind]:
                raise ApiFailureError(409, "AlreadyExists", f'{kind} "{meta.get("name")}" already exists')
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_time()
            if kind == "pods":
                obj.setdefault("status", {}).setdefault("phase", "Pending")
                obj.setdefault("spec", {}).setdefault("schedulerName", "default-scheduler")
            return self.put(kind, obj)

    def get(self, kind: str, namespace: str, name: str) -> Obj:
        """A copy of one object; 404 when absent."""
        with self.cond:
            obj = self.objects[kind].get((namespace, name))
            if obj is None:
                raise ApiFailureError(404, "NotFound", f'{kind} "{name}" not found')
            return copy.deepcopy(obj)

    def delete(self, kind: str, namespace: str, name: str) -> Obj:
        """Remove an object and emit DELETED; 404 when absent."""
        with self.cond:
            obj = self.objects[kind].pop((namespace, name), None)
            if obj is None:
                raise ApiFailureError(404, "NotFound", f'{kind} "{name}" not found')
            obj["metadata"]["resourceVersion"] = self._bump()
            if kind == "pods":
                self.pods_by_node.get(obj.get("spec", {}).get("nodeName", ""), set()).discard(
                    (namespace, name)
                )
            self._record(kind, "DELETED", copy.deepcopy(obj))
            return copy.deepcopy(obj)

    def list(
        self, kind: str, *, namespace: str | None = None, field_filter: Callable[[Obj], bool] | None = None
    ) -> Obj:
        """A List with the current resourceVersion."""
        with self.cond:
            items = [
                copy.deepcopy(obj)
                for (ns, _), obj in self.objects[kind].items()
                if (namespace is None or ns == namespace) and (field_filter is None or field_filter(obj))
            ]
            return {
                "kind": KIND_NAMES[kind] + "List",
                "apiVersion": API_VERSIONS[kind],
                "metadata": {"resourceVersion": str(self.rv)},
                "items": items,
            }

    def mutate(self, kind: str, namespace: str, name: str, change: Callable[[Obj], None]) -> Obj:
        """Apply `change` to the stored object and emit MODIFIED."""
        with self.cond:
            obj = self.objects[kind].get((namespace, name))
            if obj is None:
                raise ApiFailureError(404, "NotFound", f'{kind} "{name}" not found')
            change(obj)
            return self.put(kind, obj, event_type="MODIFIED")

    def all(self, kind: str) -> list[Obj]:
        """Copies of every object of a kind (for assertions)."""
        with self.cond:
            return [copy.deepcopy(obj) for obj in self.objects[kind].values()]

    # ----------------------------------------------------------------- watch

    def open_watch(self, kind: str, resource_version: str, field_filter: Callable[[Obj], bool]) -> Watcher:
        """Register a watcher with its backlog after `resource_version`, or a 410 ERROR if compacted."""
        with self.cond:
            watcher = Watcher(kind, field_filter)
            if resource_version in ("", "0"):
                for obj in self.objects[kind].values():
                    if field_filter(obj):
                        watcher.events.append({"type": "ADDED", "object": copy.deepcopy(obj)})
            elif int(resource_version) < self.compacted_rv[kind]:
                watcher.events.append({"type": "ERROR", "object": gone_status(resource_version)})
                watcher.finished = True
                return watcher
            else:
                since = int(resource_version)
                for rv, event_type, obj in self.history[kind]:
                    if rv > since and field_filter(obj):
                        watcher.events.append({"type": event_type, "object": obj})
            self.watchers.append(watcher)
            return watcher

    def close_watch(self, watcher: Watcher) -> None:
        with self.cond:
            if watcher in self.watchers:
                self.watchers.remove(watcher)

    def drop_watches(self) -> int:
        """Cut every open watch stream abruptly (no final chunk); returns how many were cut."""
        with self.cond:
            for watcher in self.watchers:
                watcher.dropped = True
            count = len(self.watchers)
            self.cond.notify_all()
            return count

    def compact(self) -> None:
        """Forget history: a watch resuming from any version seen so far gets 410 Gone."""
        with self.cond:
            for kind in KINDS:
                self.history[kind].clear()
                self.compacted_rv[kind] = self.rv

    def expire_watches(self) -> None:
        """Send 410 Gone inside every open watch stream, as an apiserver does after compaction."""
        with self.cond:
            self.compact()
            for watcher in self.watchers:
                watcher.events.append({"type": "ERROR", "object": gone_status(str(self.rv))})
                watcher.finished = True
            self.cond.notify_all()

    # ----------------------------------------------------------------- pods: binding, status, kubelet

    def bind(self, namespace: str, name: str, binding: Obj, *, by: str) -> Obj:
        """The pods/binding subresource: UID precondition, 409 when already assigned."""
        node = binding.get("target", {}).get("name", "")
        if not node:
            raise ApiFailureError(422, "Invalid", "target.name: Required value")
        with self.cond:
            pod = self.objects["pods"].get((namespace, name))
            if pod is None:
                raise ApiFailureError(404, "NotFound", f'pods "{name}" not found')
            want_uid = binding.get("metadata", {}).get("uid")
            if want_uid and want_uid != pod["metadata"]["uid"]:
                self.rejected_bindings.append((namespace, name, 409))
                raise ApiFailureError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on pods/binding "{name}": Precondition failed: '
                    f"UID in precondition: {want_uid}, UID in object meta: {pod['metadata']['uid']}",
                )
            if pod["spec"].get("nodeName"):
                self.rejected_bindings.append((namespace, name, 409))
                raise ApiFailureError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on pods/binding "{name}": pod {name} is already '
                    f'assigned to node "{pod["spec"]["nodeName"]}"',
                )
            if pod["metadata"].get("deletionTimestamp"):
                raise ApiFailureError(
                    409, "Conflict", f'pod "{name}" is being deleted, cannot be assigned to a host'
                )
            pod["spec"]["nodeName"] = node
            set_condition(pod, {"type": "PodScheduled", "status": "True", "lastTransitionTime": now_time()})
            self.bindings.append(BindingRecord(namespace, name, pod["metadata"]["uid"], node, by))
            self.put("pods", pod, event_type="MODIFIED")
            if self.kubelet:
                self._kubelet_admit(pod)
            return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    def _kubelet_admit(self, pod: Obj) -> None:
        """Admit or reject a freshly bound pod the way kubelet's resource admission does."""
        node = self.objects["nodes"].get(("", pod["spec"]["nodeName"]))
        if node is None:
            return
        shortage = self.shortage(pod, node)
        if shortage is not None:
            self._reject(pod, *shortage)
            return
        pod["status"]["phase"] = "Running"
        self.put("pods", pod, event_type="MODIFIED")

    def shortage(self, pod: Obj, node: Obj) -> tuple[str, Decimal, Decimal, Decimal] | None:
        """The first resource `node` lacks for `pod` given the pods already running there, or None."""
        allocatable = node.get("status", {}).get("allocatable", {})
        used: dict[str, Decimal] = {}
        count = 0
        for key in self.pods_by_node.get(node["metadata"]["name"], set()):
            other = self.objects["pods"][key]
            if other is pod or other.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                continue
            count += 1
            for resource, amount in quantity.pod_requests(other).items():
                used[resource] = used.get(resource, Decimal(0)) + amount
        if "pods" in allocatable and count + 1 > quantity.parse(allocatable["pods"]):
            return "pods", Decimal(1), Decimal(count), quantity.parse(allocatable["pods"])
        for resource, amount in quantity.pod_requests(pod).items():
            capacity = quantity.parse(allocatable.get(resource, "0"))
            if amount > 0 and used.get(resource, Decimal(0)) + amount > capacity:
                return resource, amount, used.get(resource, Decimal(0)), capacity
        return None

    def _reject(self, pod: Obj, resource: str, requested: Decimal, used: Decimal, capacity: Decimal) -> None:
        self.kubelet_rejections += 1
        pod["status"]["phase"] = "Failed"
        pod["status"]["reason"] = f"OutOf{resource}"
        pod["status"]["message"] = (
            f"Pod was rejected: Node didn't have enough resource: {resource}, requested: {requested}, "
            f"used: {used}, capacity: {capacity}"
        )
        self.put("pods", pod, event_type="MODIFIED")

    def patch_pod_status(self, namespace: str, name: str, patch: Obj, *, strategic: bool) -> Obj:
        """pods/status PATCH: conditions merged by type (strategic) or replaced (merge patch); a
        `metadata.uid` in the patch is a precondition (409 when the pod has another uid)."""

        def change(pod: Obj) -> None:
            want_uid = patch.get("metadata", {}).get("uid")
            if want_uid and want_uid != pod["metadata"]["uid"]:
                raise ApiFailureError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on pods "{name}": Precondition failed: '
                    f"UID in precondition: {want_uid}, UID in object meta: {pod['metadata']['uid']}",
                )
            status_patch = patch.get("status", {})
            for condition in status_patch.get("conditions", []) if strategic else []:
                for key in ("lastTransitionTime", "lastProbeTime"):
                    stamp = condition.get(key)
                    if stamp is not None and not TIME.match(stamp):
                        raise ApiFailureError(
                            422, "Invalid", f"status.conditions.{key}: Invalid value: {stamp!r}"
                        )
                set_condition(pod, condition)
            for key, value in status_patch.items():
                if key != "conditions" or not strategic:
                    pod.setdefault("status", {})[key] = value

        return self.mutate("pods", namespace, name, change)

    def pending_pods(self, scheduler_name: str | None = None) -> list[Obj]:
        with self.cond:
            return [
                copy.deepcopy(pod)
                for pod in self.objects["pods"].values()
                if not pod["spec"].get("nodeName")
                and (scheduler_name is None or pod["spec"].get("schedulerName") == scheduler_name)
            ]

    # ----------------------------------------------------------------- events and leases

    def create_event(self, namespace: str, event: Obj, *, api: str) -> Obj:
        """Validate as the API server does (plus the 1024-character note limit for both APIs)."""
        if api == "events.k8s.io/v1":
            regarding = event.get("regarding", {})
            note = event.get("note", "")
            if not MICRO_TIME.match(str(event.get("eventTime", ""))):
                raise ApiFailureError(422, "Invalid", f"eventTime: Invalid value: {event.get('eventTime')!r}")
            for key in ("reportingController", "reportingInstance", "action", "reason"):
                if not event.get(key):
                    raise ApiFailureError(422, "Invalid", f"{key}: Required value")
            stored = {
                **event,
                "involvedObject": regarding,
                "message": note,
                "source": {"component": event["reportingController"]},
                "apiVersion": "v1",
                "kind": "Event",
            }
        else:
            regarding = event.get("involvedObject", {})
            note = event.get("message", "")
            stored = event
        if regarding.get("namespace", namespace) != namespace:
            raise ApiFailureError(422, "Invalid", "involvedObject.namespace: does not match event.namespace")
        if len(note) > NOTE_LENGTH_LIMIT:
            raise ApiFailureError(
                422, "Invalid", f"note: Too long: must have at most {NOTE_LENGTH_LIMIT} bytes"
            )
        if event.get("type") not in ("Normal", "Warning"):
            raise ApiFailureError(422, "Invalid", f"type: Unsupported value: {event.get('type')!r}")
        stored.setdefault("metadata", {})["namespace"] = namespace
        created = self.create("events", stored)
        with self.cond:
            self.event_reasons[str(stored.get("reason"))] += 1
        return created

    def events_for(self, namespace: str, name: str, reason: str | None = None) -> list[Obj]:
        with self.cond:
            return [
                copy.deepcopy(event)
                for event in self.objects["events"].values()
                if event.get("involvedObject", {}).get("name") == name
                and event.get("involvedObject", {}).get("namespace") == namespace
                and (reason is None or event.get("reason") == reason)
            ]

    def update_lease(self, namespace: str, name: str, lease: Obj) -> Obj:
        """PUT of a Lease: resourceVersion required and must be current; MicroTimes validated."""
        with self.cond:
            current = self.objects["leases"].get((namespace, name))
            if current is None:
                raise ApiFailureError(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
            sent_rv = lease.get("metadata", {}).get("resourceVersion")
            if not sent_rv:
                raise ApiFailureError(
                    422,
                    "Invalid",
                    "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
                )
            if sent_rv != current["metadata"]["resourceVersion"]:
                raise ApiFailureError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on leases.coordination.k8s.io "{name}": the object has '
                    "been modified; please apply your changes to the latest version and try again",
                )
            validate_lease(lease)
            lease["metadata"]["uid"] = current["metadata"]["uid"]
            lease["metadata"]["creationTimestamp"] = current["metadata"]["creationTimestamp"]
            return self.put("leases", lease, event_type="MODIFIED")

    # ----------------------------------------------------------------- nodes and node metrics

    def add_nodes(self, nodes: Iterable[Obj]) -> None:
        for node in nodes:
            self.put("nodes", node)

    def taint_node(self, name: str, taint: Obj) -> Obj:
        return self.mutate(
            "nodes", "", name, lambda node: node["spec"].setdefault("taints", []).append(taint)
        )

    def set_node_metrics(self, name: str, *, cpu: str, memory: str) -> None:
        with self.cond:
            self.node_metrics[name] = {
                "metadata": {"name": name, "creationTimestamp": now_time()},
                "timestamp": now_time(),
                "window": "15s",
                "usage": {"cpu": cpu, "memory": memory},
            }

    def node_metrics_list(self) -> Obj:
        with self.cond:
            if not self.metrics_api:
                raise ApiFailureError(404, "NotFound", "the server could not find the requested resource")
            return {
                "kind": "NodeMetricsList",
                "apiVersion": "metrics.k8s.io/v1beta1",
                "metadata": {},
                "items": [copy.deepcopy(item) for item in self.node_metrics.values()],
            }


def set_condition(pod: Obj, condition: Obj) -> None:
    """Strategic merge of one condition into status.conditions (merge key: type)."""
    conditions = pod.setdefault("status", {}).setdefault("conditions", [])
    for existing in conditions:
        if existing.get("type") == condition.get("type"):
            existing.update(condition)
            return
    conditions.append(dict(condition))


def validate_lease(lease: Obj) -> None:
    spec = lease.get("spec", {})
    for key in ("acquireTime", "renewTime"):
        stamp = spec.get(key)
        if stamp is not None and not MICRO_TIME.match(stamp):
            raise ApiFailureError(422, "Invalid", f"spec.{key}: Invalid value: {stamp!r}: not a MicroTime")


def gone_status(resource_version: str) -> Obj:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"too old resource version: {resource_version}",
        "reason": "Expired",
        "code": 410,
    }
