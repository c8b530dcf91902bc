"""The scheduling loop: the one thread that owns the engine, the cache and the queue.

Each turn it first applies everything waiting in its inbox (watch events, NodeMetrics, binding
outcomes), then, if it leads and the caches are synced, runs one scheduling cycle:

    pop the next pod → engine.schedule on the current snapshot →
      a node:   assume the pod there, hand the binding to the binder (asynchronous)
      no node:  park the pod as unschedulable, report FailedScheduling and PodScheduled=False
      an error: back off and retry

Applying events only between cycles is what makes each decision see a consistent snapshot, and what
prevents lost wake-ups: an event that arrives during a cycle is applied after the pod was parked, so it
moves the pod back.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from custom_scheduler.controller.binder import Binder, BindOutcome, Result
from custom_scheduler.controller.cache import ClusterState, pod_key
from custom_scheduler.controller.events import EventRecorder
from custom_scheduler.controller.informers import NodeMetricsRead, ResourceEvent
from custom_scheduler.controller.metrics import SchedulerMetrics
from custom_scheduler.controller.queue import QueuedPod, SchedulingQueue
from custom_scheduler.engine import Engine

log = logging.getLogger(__name__)

IDLE_WAIT_SECONDS: Final = 0.5
"""Longest sleep while idle, so leadership changes and stop requests are noticed promptly."""
GAUGE_INTERVAL_SECONDS: Final = 1.0
"""How often the pending-pods gauge is refreshed."""
NO_NODES_MESSAGE: Final = "no nodes available to schedule pods"
"""kube-scheduler's ErrNoNodesAvailable text, used if the engine gives no message of its own."""


class SchedulingLoop:
    """Runs scheduling cycles until stopped; see the module docstring."""

    def __init__(
        self,
        *,
        engine: Engine,
        state: ClusterState,
        queue: SchedulingQueue,
        binder: Binder,
        recorder: EventRecorder,
        metrics: SchedulerMetrics,
        inbox: queue.Queue[Any],
        is_leader: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._state = state
        self._queue = queue
        self._binder = binder
        self._recorder = recorder
        self._metrics = metrics
        self._inbox = inbox
        self._is_leader = is_leader
        self._clock = clock
        self._gauges_at = 0.0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            active = self._state.synced and self._is_leader()
            wait = self._queue.next_wakeup() if active else None
            self._drain(timeout=IDLE_WAIT_SECONDS if wait is None else min(wait, IDLE_WAIT_SECONDS))
            self._refresh_gauges()
            if active and self._is_leader():
                entry = self._queue.pop()
                if entry is not None:
                    self._schedule_one(entry)

    def _drain(self, *, timeout: float) -> None:
        """Apply every waiting message; block up to `timeout` for the first one when none is waiting."""
        try:
            message = self._inbox.get(timeout=timeout) if timeout > 0 else self._inbox.get_nowait()
        except queue.Empty:
            return
        while True:
            try:
                self._apply(message)
            except Exception:
                # One event the cache cannot digest (a bug, an object no validation foresaw) must not
                # stop scheduling for every other pod; the next relist repairs the cache.
                log.exception("inbox message not applied", extra={"kind": type(message).__name__})
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                return

    def _apply(self, message: object) -> None:
        if isinstance(message, BindOutcome):
            self._settle(message)
        elif isinstance(message, ResourceEvent | NodeMetricsRead):
            self._state.apply(message)
        else:
            raise TypeError(f"unexpected inbox message {message!r}")

    def _schedule_one(self, entry: QueuedPod) -> None:
        pod = self._state.pod(entry.uid)
        if pod is None:
            self._queue.remove(entry.uid)
            return
        # A pod still assumed from an attempt whose outcome stayed unknown is decided afresh.
        self._state.forget(entry.uid)
        started = self._clock()
        try:
            result = self._engine.schedule(pod)
        except Exception:
            # An engine failure on one pod (a bug, a malformed object) must not stop the scheduler:
            # kube-scheduler treats it as an error status and backs the pod off.
            log.exception("scheduling attempt failed", extra={"pod": pod_key(pod)})
            self._metrics.attempt("error", self._clock() - started)
            self._queue.backoff(entry.uid)
            return
        if result.node is None:
            message = result.message or NO_NODES_MESSAGE
            self._metrics.attempt("unschedulable", self._clock() - started)
            self._queue.unschedulable(entry.uid)
            log.info(
                "unschedulable", extra={"pod": pod_key(pod), "reason": message, "attempts": entry.attempts}
            )
            self._recorder.failed_scheduling(pod, message)
            return
        self._state.assume(pod, result.node)
        self._binder.submit(pod, result.node, started=started)

    def _settle(self, outcome: BindOutcome) -> None:
        """Apply a binding's outcome to the cache and the queue."""
        self._metrics.binding_duration.labels(result=outcome.result.value).observe(outcome.duration)
        elapsed = self._clock() - outcome.started
        if outcome.result is Result.BOUND:
            self._metrics.attempt("scheduled", elapsed)
            return
        if outcome.result is not Result.UNKNOWN:
            self._state.forget(outcome.uid)
        if outcome.current is not None:
            self._state.adopt(outcome.current)
        if outcome.result in (Result.CONFLICT, Result.GONE):
            self._queue.remove(outcome.uid)
            return
        if outcome.result in (Result.FAILED, Result.UNKNOWN):
            self._metrics.attempt("error", elapsed)
        self._queue.backoff(outcome.uid)

    def _refresh_gauges(self) -> None:
        now = self._clock()
        if now - self._gauges_at >= GAUGE_INTERVAL_SECONDS:
            self._gauges_at = now
            self._metrics.set_pending(self._queue.counts())
