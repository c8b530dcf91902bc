"""The scheduling queue of kube-scheduler 1.28, in one thread's hands (not thread-safe):

- active: a heap ordered by priority (higher first), then by the time the pod was first queued;
- backoff: pods whose last attempt failed wait `initial * 2**(attempts-1)` seconds, capped at `max`;
- unschedulable: pods no node could take wait for a cluster event that might help (`move_all`) or for
  `max_in_unschedulable` seconds, then go back through backoff;
- gated: pods with `spec.schedulingGates`, counted but never popped;
- in flight: popped and not yet settled (being scheduled or bound).

The clock is injected so tests can step time instead of sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, get_args

from custom_scheduler.config import Queue

Where = Literal["active", "backoff", "unschedulable", "gated", "in_flight"]
QUEUE_NAMES: Final = ("active", "backoff", "unschedulable", "gated")
"""Label values of the pending-pods gauge, as kube-scheduler names them."""


@dataclass(slots=True)
class QueuedPod:
    """A pending pod's place in the queue; `attempts` counts scheduling attempts so far."""

    uid: str
    priority: int
    timestamp: float
    attempts: int = 0
    last_attempt: float = 0.0
    unschedulable_since: float = 0.0
    where: Where = "active"
    generation: int = 0


class SchedulingQueue:
    """Pending pods by uid; see the module docstring for the sub-queues and their rules."""

    def __init__(
        self,
        *,
        initial_backoff: float,
        max_backoff: float,
        max_in_unschedulable: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < initial_backoff <= max_backoff:
            raise ValueError(f"backoff must satisfy 0 < initial ({initial_backoff}) <= max ({max_backoff})")
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._max_in_unschedulable = max_in_unschedulable
        self._clock = clock
        self._pods: dict[str, QueuedPod] = {}
        self._active: list[tuple[int, float, int, int, str]] = []
        self._backoff: list[tuple[float, int, int, str]] = []
        self._unschedulable: list[tuple[float, int, int, str]] = []
        self._counts: dict[Where, int] = dict.fromkeys(get_args(Where), 0)
        self._sequence = itertools.count()

    @classmethod
    def from_config(cls, config: Queue, *, clock: Callable[[], float] = time.monotonic) -> SchedulingQueue:
        """A queue with the `queue.*` durations of the scheduler config."""
        return cls(
            initial_backoff=float(config.pod_initial_backoff_seconds),
            max_backoff=float(config.pod_max_backoff_seconds),
            max_in_unschedulable=float(config.pod_max_in_unschedulable_pods_seconds),
            clock=clock,
        )

    def __contains__(self, uid: str) -> bool:
        return uid in self._pods

    def __len__(self) -> int:
        return len(self._pods)

    def where(self, uid: str) -> Where | None:
        """The sub-queue holding `uid`, or None when the queue does not know it."""
        entry = self._pods.get(uid)
        return entry.where if entry else None

    def add(self, uid: str, *, priority: int, gated: bool = False) -> None:
        """Queue a new pending pod (active, or gated); a known pod is updated instead."""
        entry = self._pods.get(uid)
        if entry is None:
            entry = QueuedPod(uid, priority, self._clock())
            self._pods[uid] = entry
            self._counts[entry.where] += 1
            self._place(entry, "gated" if gated else "active")
            return
        self.update(uid, priority=priority, gated=gated, changed=False)

    def update(self, uid: str, *, priority: int, gated: bool, changed: bool) -> None:
        """A pending pod changed. Gates lifted → active; a spec change frees it from unschedulable."""
        entry = self._pods.get(uid)
        if entry is None or entry.where == "in_flight":
            return
        entry.priority = priority
        if gated:
            if entry.where != "gated":
                self._place(entry, "gated")
        elif entry.where == "gated" or (changed and entry.where == "unschedulable"):
            self._place_after_backoff(entry)
        elif entry.where == "active":
            self._place(entry, "active")

    def remove(self, uid: str) -> None:
        """Forget a pod: deleted, bound, or no longer ours."""
        entry = self._pods.pop(uid, None)
        if entry is not None:
            entry.generation += 1
            self._counts[entry.where] -= 1

    def pop(self) -> QueuedPod | None:
        """The next pod to schedule (moved to in-flight), after flushing due backoffs; None if none."""
        self.flush()
        while self._active:
            _, _, _, generation, uid = heapq.heappop(self._active)
            entry = self._pods.get(uid)
            if entry is None or entry.generation != generation or entry.where != "active":
                continue
            entry.attempts += 1
            entry.last_attempt = self._clock()
            self._place(entry, "in_flight")
            return entry
        return None

    def backoff(self, uid: str) -> None:
        """An in-flight pod failed for a transient reason (API error, lost binding): retry after backoff."""
        entry = self._pods.get(uid)
        if entry is not None and entry.where == "in_flight":
            self._place(entry, "backoff")

    def unschedulable(self, uid: str) -> None:
        """An in-flight pod fit no node: park it until a cluster event or the unschedulable timeout."""
        entry = self._pods.get(uid)
        if entry is not None and entry.where == "in_flight":
            entry.unschedulable_since = self._clock()
            self._place(entry, "unschedulable")

    def move_all(self) -> int:
        """A cluster event that may make pods schedulable: unschedulable pods go to backoff or active."""
        moved = [entry for entry in self._pods.values() if entry.where == "unschedulable"]
        for entry in moved:
            self._place_after_backoff(entry)
        return len(moved)

    def flush(self) -> None:
        """Move due backoffs to active, and pods unschedulable for too long out of unschedulable."""
        now = self._clock()
        while self._backoff and self._backoff[0][0] <= now:
            _, _, generation, uid = heapq.heappop(self._backoff)
            entry = self._pods.get(uid)
            if entry is not None and entry.generation == generation and entry.where == "backoff":
                self._place(entry, "active")
        while self._unschedulable and self._unschedulable[0][0] <= now:
            _, _, generation, uid = heapq.heappop(self._unschedulable)
            entry = self._pods.get(uid)
            if entry is not None and entry.generation == generation and entry.where == "unschedulable":
                self._place_after_backoff(entry)

    def next_wakeup(self) -> float | None:
        """Seconds until a backoff or unschedulable timer fires (0 if a pod is active); None if never."""
        if self._counts["active"]:
            return 0.0
        timers = [heap[0][0] for heap in (self._backoff, self._unschedulable) if heap]
        return max(0.0, min(timers) - self._clock()) if timers else None

    def counts(self) -> dict[str, int]:
        """Pending pods per sub-queue (in-flight pods are not pending)."""
        return {name: self._counts[name] for name in QUEUE_NAMES}

    def backoff_duration(self, attempts: int) -> float:
        """kube-scheduler's calculateBackoffDuration: initial doubled per attempt after the first, capped."""
        duration = self._initial_backoff
        for _ in range(1, attempts):
            duration *= 2
            if duration >= self._max_backoff:
                return self._max_backoff
        return duration

    def _place_after_backoff(self, entry: QueuedPod) -> None:
        still_backing_off = entry.last_attempt + self.backoff_duration(entry.attempts) > self._clock()
        self._place(entry, "backoff" if entry.attempts and still_backing_off else "active")

    def _place(self, entry: QueuedPod, where: Where) -> None:
        self._counts[entry.where] -= 1
        self._counts[where] += 1
        entry.where = where
        entry.generation += 1
        if where == "active":
            item = (-entry.priority, entry.timestamp, next(self._sequence), entry.generation, entry.uid)
            heapq.heappush(self._active, item)
        elif where == "backoff":
            until = entry.last_attempt + self.backoff_duration(entry.attempts)
            heapq.heappush(self._backoff, (until, next(self._sequence), entry.generation, entry.uid))
        elif where == "unschedulable":
            until = entry.unschedulable_since + self._max_in_unschedulable
            heapq.heappush(self._unschedulable, (until, next(self._sequence), entry.generation, entry.uid))
