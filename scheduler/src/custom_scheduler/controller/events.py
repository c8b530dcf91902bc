"""What kube-scheduler tells people about a pod: core/v1 Events and the PodScheduled condition.

- success: Normal `Scheduled`, "Successfully assigned <ns>/<pod> to <node>" (action `Binding`);
- failure: Warning `FailedScheduling` with the "0/N nodes are available: ..." message, truncated to
  1024 characters with a " ..." suffix like kube-scheduler's truncateMessage (action `Scheduling`),
  plus `PodScheduled=False`, reason `Unschedulable`, patched into pods/<name>/status by strategic merge
  (only when the condition would change, as kube-scheduler's updatePod does). The patch carries the
  pod's uid as a precondition, and is not sent (nor re-sent) once the scheduler knows the pod is no
  longer pending (bound, assumed for a new binding, or deleted) since the report was queued.

Writes that fail on the server's side (5xx, no answer) are retried a few times with backoff, as
client-go's event recorder retries; an event whose answer was lost and that is sent again meets 409
AlreadyExists (same name), which counts as written. Otherwise events are best effort: a failure is
logged and never blocks scheduling. Failure reports go through a small bounded pool; when it is
saturated the newest report is dropped, as client-go's event broadcaster drops when its buffer is full.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from functools import partial
from typing import Any, Final

from custom_scheduler.controller.cache import pod_key
from custom_scheduler.controller.workers import DaemonPool
from custom_scheduler.errors import (
    ApiConflictError,
    ApiError,
    ApiServerError,
    ApiTooManyRequestsError,
    ApiUnavailableError,
)
from custom_scheduler.kube import paths
from custom_scheduler.kube.client import MERGE_PATCH, JsonObject, KubeClient
from custom_scheduler.kube.timefmt import time_now

log = logging.getLogger(__name__)


NOTE_LENGTH_LIMIT: Final = 1024
"""The API's limit on an event note (pkg/apis/core/validation/events.go NoteLengthLimit)."""
TRUNCATION_SUFFIX: Final = " ..."
REASON_SCHEDULED: Final = "Scheduled"
REASON_FAILED_SCHEDULING: Final = "FailedScheduling"
CONDITION_REASON_UNSCHEDULABLE: Final = "Unschedulable"
UNSUPPORTED_MEDIA_TYPE: Final = 415
WRITE_RETRY_DELAYS_SECONDS: Final = (0.5, 1.0, 2.0)
"""Pauses between attempts at an event or condition write the server failed (5xx, no answer, 429)."""
EVENT_WORKERS: Final = 4
MAX_PENDING_REPORTS: Final = 1000
"""Failure reports waiting for a worker before new ones are dropped (client-go's buffer is 1000)."""


def truncate_message(message: str) -> str:
    """kube-scheduler's truncateMessage: at most 1024 characters, ending in " ..." when cut."""
    if len(message) <= NOTE_LENGTH_LIMIT:
        return message
    return message[: NOTE_LENGTH_LIMIT - len(TRUNCATION_SUFFIX)] + TRUNCATION_SUFFIX


def scheduled_message(pod: Mapping[str, Any], node: str) -> str:
    return f"Successfully assigned {pod_key(pod)} to {node}"


def unschedulable_condition(message: str) -> JsonObject:
    return {
        "type": "PodScheduled",
        "status": "False",
        "reason": CONDITION_REASON_UNSCHEDULABLE,
        "message": message,
        "lastProbeTime": None,
        "lastTransitionTime": time_now(),
    }


def _has_condition(pod: Mapping[str, Any], message: str) -> bool:
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled":
            return bool(
                condition.get("status") == "False"
                and condition.get("reason") == CONDITION_REASON_UNSCHEDULABLE
                and condition.get("message") == message
            )
    return False


class EventRecorder:
    """Writes Events and pod conditions for one scheduler instance (`component`, `instance`)."""

    def __init__(
        self,
        client: KubeClient,
        *,
        component: str,
        instance: str,
        still_pending: Callable[[str], bool] | None = None,
    ) -> None:
        """`still_pending(uid)` says whether the scheduler still knows the pod as pending (not bound,
        not assumed, not deleted); it is called from the worker threads, before each condition write."""
        self._client = client
        self._still_pending = still_pending or (lambda uid: True)
        self._component = component
        self._instance = instance
        self._pool = DaemonPool(EVENT_WORKERS, name="events")
        self._pending = 0
        self._futures: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def scheduled(self, pod: Mapping[str, Any], node: str) -> None:
        """Record a successful binding (called on the binding worker's thread)."""
        self._event(pod, "Normal", REASON_SCHEDULED, "Binding", scheduled_message(pod, node))

    def failed_scheduling(self, pod: Mapping[str, Any], message: str) -> None:
        """Report, in the background, that no node fits: a Warning event and PodScheduled=False."""
        with self._lock:
            if self._pending >= MAX_PENDING_REPORTS:
                log.warning("event backlog full; report dropped", extra={"pod": pod_key(pod)})
                return
            self._pending += 1
        future = self._pool.submit(self._report_failure, pod, truncate_message(message))
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._discard)

    def shutdown(self, *, wait: bool) -> None:
        """Take no more reports; with `wait`, finish those queued, else drop them (running writes are
        not joined: the worker threads are daemons)."""
        with self._lock:
            pending = set(self._futures)
        if wait:
            wait_futures(pending)
        self._pool.shutdown()

    def _discard(self, future: Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    def _report_failure(self, pod: Mapping[str, Any], message: str) -> None:
        try:
            self._event(pod, "Warning", REASON_FAILED_SCHEDULING, "Scheduling", message)
            if not _has_condition(pod, message):
                self._set_unschedulable(pod, message)
        finally:
            with self._lock:
                self._pending -= 1

    def _set_unschedulable(self, pod: Mapping[str, Any], message: str) -> None:
        """Patch PodScheduled=False by strategic merge (kube-scheduler's way); a server that does not take
        strategic merge (415) gets a JSON merge patch carrying the whole conditions list instead."""
        meta = pod["metadata"]
        uid = str(meta.get("uid", ""))
        path = paths.pod(meta["namespace"], meta["name"], "status")
        condition = unschedulable_condition(message)
        pending = partial(self._still_pending, uid)
        # The uid is a precondition, as in kube-scheduler's PatchPodStatus: a pod re-created under the
        # same name is never patched.
        guard = {"uid": uid}
        try:
            try:
                _retrying(
                    lambda: self._client.patch(
                        path, {"metadata": guard, "status": {"conditions": [condition]}}
                    ),
                    proceed=pending,
                )
            except ApiError as error:
                if error.status != UNSUPPORTED_MEDIA_TYPE:
                    raise
                others = [
                    c
                    for c in pod.get("status", {}).get("conditions") or []
                    if c.get("type") != "PodScheduled"
                ]
                patch = {"metadata": guard, "status": {"conditions": [*others, condition]}}
                _retrying(lambda: self._client.patch(path, patch, content_type=MERGE_PATCH), proceed=pending)
        except ApiError as error:
            log.warning("pod condition not updated", extra={"pod": pod_key(pod), "error": str(error)})

    def _event(self, pod: Mapping[str, Any], event_type: str, reason: str, action: str, message: str) -> None:
        meta = pod["metadata"]
        now = time_now()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{time.time_ns():x}", "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
            "type": event_type,
            "reason": reason,
            "action": action,
            "message": message,
            "source": {"component": self._component},
            "reportingComponent": self._component,
            "reportingInstance": self._instance,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            _retrying(lambda: self._client.post(paths.events(meta["namespace"]), event))
        except ApiConflictError:
            pass  # written by an earlier attempt whose answer was lost
        except ApiError as error:
            log.warning(
                "event not recorded", extra={"pod": pod_key(pod), "reason": reason, "error": str(error)}
            )


def _retrying(write: Callable[[], object], *, proceed: Callable[[], bool] | None = None) -> None:
    """Run `write`, retrying after server-side failures with WRITE_RETRY_DELAYS_SECONDS; when `proceed`
    says False before an attempt, stop without writing."""
    for delay in (*WRITE_RETRY_DELAYS_SECONDS, None):
        if proceed is not None and not proceed():
            return
        try:
            write()
            return
        except (ApiServerError, ApiUnavailableError, ApiTooManyRequestsError):
            if delay is None:
                raise
            time.sleep(delay)
