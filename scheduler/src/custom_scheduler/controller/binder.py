"""Asynchronous binding: POST pods/<name>/binding from a bounded pool of worker threads.

The Binding carries the pod's UID, so a pod deleted and re-created under the same name is never bound
by a decision made for its predecessor. Outcomes go back to the scheduling loop, which owns the cache:

- `BOUND`: the API accepted the binding (201 with a `Status` body, which is why the raw client is used);
- `CONFLICT`: 409, and the pod as read back is bound, has another UID (re-created) or is being deleted:
  forget the assumption; the pod as re-read is handed back so its real node is counted at once. A 409
  on a pod that reads back still pending (or cannot be read back) is `FAILED` instead;
- `GONE`: the pod no longer exists;
- `FAILED`: anything else: forget and retry with backoff. When the answer was lost (no response, 5xx)
  the binding may have been committed, so the pod is read back *before* anything is re-sent;
- `UNKNOWN`: the answer was lost and the pod could not be read back either: retry with backoff but keep
  the assumption (the binding may have landed), until the watch or the next attempt settles it;
- `ABANDONED`: before the request left, leadership was lost, the scheduler began shutting down, or the
  chosen node was deleted (the API server would accept a binding to a node that no longer exists); or
  leadership was lost or shutdown began while the API server was answering with Retry-After, so the
  binding was not re-sent.

Retry-After retries (in the client) ask, before each pause and resend, whether this replica still
leads and is not shutting down, and a binding's whole time is capped below the lease's renew deadline.

After a successful binding the worker also records the `Scheduled` event, so throughput figures
include it, as kube-scheduler's do.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from typing import Final

from custom_scheduler.controller.cache import pod_key, uid_of
from custom_scheduler.controller.events import EventRecorder
from custom_scheduler.controller.workers import DaemonPool
from custom_scheduler.errors import ApiConflictError, ApiError, ApiNotFoundError
from custom_scheduler.kube import paths
from custom_scheduler.kube.client import JsonObject, KubeClient

log = logging.getLogger(__name__)


BIND_WORKERS: Final = 16
"""Bindings in flight at once: enough to hide API latency, few enough to stay under the API's limits."""
READ_BACK_ATTEMPTS: Final = 3
"""Tries at reading a pod back after an ambiguous binding failure before giving up on knowing."""
READ_BACK_DELAY_SECONDS: Final = 0.2
DEFAULT_RETRY_BUDGET_SECONDS: Final = 30.0
"""Longest a binding may spend in Retry-After retries when no lease bounds it (`--no-leader-elect`)."""


class Result(enum.Enum):
    BOUND = "bound"
    CONFLICT = "conflict"
    GONE = "gone"
    FAILED = "failed"
    UNKNOWN = "unknown"
    ABANDONED = "abandoned"


@dataclass(frozen=True, slots=True)
class BindOutcome:
    """What became of one binding; `current` is the pod as read back after a conflict, if known."""

    uid: str
    pod: JsonObject
    node: str
    result: Result
    started: float
    duration: float
    current: JsonObject | None = None
    error: str | None = None


class Binder:
    """Sends bindings in the background and reports each outcome through `report`."""

    def __init__(
        self,
        client: KubeClient,
        *,
        recorder: EventRecorder,
        report: Callable[[BindOutcome], None],
        may_bind: Callable[[], bool],
        node_exists: Callable[[str], bool],
        workers: int = BIND_WORKERS,
        retry_budget_seconds: float = DEFAULT_RETRY_BUDGET_SECONDS,
    ) -> None:
        """`may_bind` says whether this replica leads; `node_exists` whether a node is still in the cache.
        Both are read from the worker threads. `retry_budget_seconds` caps one binding's request,
        Retry-After pauses and resends included; with leader election it must stay below the renew
        deadline, so a binding sent while leading cannot be re-sent after a successor took over."""
        self._client = client
        self._recorder = recorder
        self._report = report
        self._may_bind = may_bind
        self._node_exists = node_exists
        self._retry_budget = retry_budget_seconds
        self._pool = DaemonPool(workers, name="bind")
        self._futures: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._closing = False

    def submit(self, pod: JsonObject, node: str, *, started: float) -> None:
        """Queue the binding of `pod` (already assumed on `node`)."""
        future = self._pool.submit(self._bind, pod, node, started)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._discard)

    def in_flight(self) -> int:
        with self._lock:
            return len(self._futures)

    def shutdown(self, *, grace_seconds: float) -> bool:
        """Stop taking work: bindings not yet sent are abandoned, those on the wire get `grace_seconds`.

        True when no binding is left in flight; False when some may still land (the worker threads are
        daemons and are not joined, so the process can exit anyway)."""
        self._closing = True
        self._pool.shutdown()
        with self._lock:
            pending = set(self._futures)
        _, not_done = wait_futures(pending, timeout=grace_seconds)
        return not not_done

    def _should_continue(self) -> bool:
        """Whether a binding may still be (re-)sent: this replica leads and is not shutting down."""
        return not self._closing and self._may_bind()

    def _discard(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    def _bind(self, pod: JsonObject, node: str, started: float) -> None:
        sent = time.monotonic()
        if not self._should_continue() or not self._node_exists(node):
            self._report(BindOutcome(uid_of(pod), pod, node, Result.ABANDONED, started, 0.0))
            return
        result, current, error = self._send(pod, node)
        outcome = BindOutcome(
            uid_of(pod), pod, node, result, started, time.monotonic() - sent, current, error
        )
        self._report(outcome)
        if result is Result.BOUND:
            log.info("bound", extra={"pod": pod_key(pod), "node": node})
            self._recorder.scheduled(pod, node)
        else:
            log.info(
                "binding not done",
                extra={"pod": pod_key(pod), "node": node, "reason": result.value, "error": error},
            )

    def _send(self, pod: JsonObject, node: str) -> tuple[Result, JsonObject | None, str | None]:
        meta = pod["metadata"]
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        try:
            self._client.post(
                paths.pod(meta["namespace"], meta["name"], "binding"),
                binding,
                should_continue=self._should_continue,
                budget_seconds=self._retry_budget,
            )
        except ApiNotFoundError as error:
            return Result.GONE, None, str(error)
        except ApiConflictError as error:
            return self._settle_conflict(pod, error)
        except ApiError as error:
            if error.retry_after is not None and not self._should_continue():
                # Every attempt was answered with Retry-After, so none was acted on.
                return Result.ABANDONED, None, str(error)
            return self._settle_ambiguous(pod, node, error)
        return Result.BOUND, None, None

    def _settle_conflict(
        self, pod: JsonObject, error: ApiConflictError
    ) -> tuple[Result, JsonObject | None, str | None]:
        """A 409 is final only when the pod as read back shows why: bound, re-created (another UID) or
        being deleted. Otherwise (a transient conflict, or the pod unreadable) it is a failure to retry."""
        try:
            current = self._read_back(pod)
        except ApiNotFoundError:
            return Result.GONE, None, str(error)
        if current is not None and (
            current.get("spec", {}).get("nodeName")
            or uid_of(current) != uid_of(pod)
            or current.get("metadata", {}).get("deletionTimestamp")
        ):
            return Result.CONFLICT, current, str(error)
        return Result.FAILED, None, str(error)

    def _settle_ambiguous(
        self, pod: JsonObject, node: str, error: ApiError
    ) -> tuple[Result, JsonObject | None, str | None]:
        """The binding may or may not have been committed: read the pod back to find out."""
        try:
            current = self._read_back(pod)
        except ApiNotFoundError:
            return Result.GONE, None, str(error)
        if current is None:
            return Result.UNKNOWN, None, str(error)
        if uid_of(current) != uid_of(pod):
            return Result.GONE, None, str(error)
        bound_to = current.get("spec", {}).get("nodeName")
        if bound_to == node:
            return Result.BOUND, None, None
        if bound_to:
            return Result.CONFLICT, current, str(error)
        return Result.FAILED, None, str(error)

    def _read_back(self, pod: JsonObject) -> JsonObject | None:
        """The pod as the API has it now; None when it cannot be read. Raises ApiNotFoundError if deleted."""
        meta = pod["metadata"]
        for attempt in range(READ_BACK_ATTEMPTS):
            try:
                return self._client.get(paths.pod(meta["namespace"], meta["name"]))
            except ApiNotFoundError:
                raise
            except ApiError:
                if attempt + 1 < READ_BACK_ATTEMPTS:
                    time.sleep(READ_BACK_DELAY_SECONDS)
        return None
