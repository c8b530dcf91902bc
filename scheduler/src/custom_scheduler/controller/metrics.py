"""The scheduler's Prometheus metrics, named after kube-scheduler's with our own prefix.

| metric | type | labels |
|---|---|---|
| custom_scheduler_schedule_attempts_total | counter | result: scheduled / unschedulable / error |
| custom_scheduler_scheduling_attempt_duration_seconds | histogram | result |
| custom_scheduler_binding_duration_seconds | histogram | result: the binding outcome (bound, conflict, ...) |
| custom_scheduler_pending_pods | gauge | queue: active / backoff / unschedulable / gated |
| custom_scheduler_node_metrics_age_seconds | gauge | (none); seconds since NodeMetrics were last read |
| custom_scheduler_node_metrics_available | gauge | (none); 1 while metrics.k8s.io answers |
| custom_scheduler_leader | gauge | (none); 1 while this replica holds the Lease |

Each instance has its own registry, so tests can run several schedulers in one process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

PREFIX: Final = "custom_scheduler"
ATTEMPT_BUCKETS: Final = tuple(0.001 * 2**i for i in range(15))
"""kube-scheduler's buckets for scheduling_attempt_duration_seconds: exponential(0.001, 2, 15)."""
RESULTS: Final = ("scheduled", "unschedulable", "error")


class SchedulerMetrics:
    """The metric objects of one scheduler instance and the Prometheus text that renders them."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series, as kube-scheduler
        self.registry = CollectorRegistry()
        self.schedule_attempts = Counter(
            f"{PREFIX}_schedule_attempts",
            "Scheduling attempts by result.",
            ["result"],
            registry=self.registry,
        )
        self.attempt_duration = Histogram(
            f"{PREFIX}_scheduling_attempt_duration_seconds",
            "Scheduling attempt latency, from popping the pod to the end of its binding.",
            ["result"],
            buckets=ATTEMPT_BUCKETS,
            registry=self.registry,
        )
        self.binding_duration = Histogram(
            f"{PREFIX}_binding_duration_seconds",
            "Latency of the Binding request, by outcome.",
            ["result"],
            buckets=ATTEMPT_BUCKETS,
            registry=self.registry,
        )
        self.pending_pods = Gauge(
            f"{PREFIX}_pending_pods", "Pending pods by queue.", ["queue"], registry=self.registry
        )
        self.node_metrics_available = Gauge(
            f"{PREFIX}_node_metrics_available",
            "1 while metrics.k8s.io NodeMetrics can be read.",
            registry=self.registry,
        )
        self.leader = Gauge(
            f"{PREFIX}_leader", "1 while this replica holds the leader Lease.", registry=self.registry
        )
        self._node_metrics_read_at: float | None = None
        age = Gauge(
            f"{PREFIX}_node_metrics_age_seconds",
            "Seconds since NodeMetrics were last read (NaN before the first read).",
            registry=self.registry,
        )
        age.set_function(self._node_metrics_age)
        for result in RESULTS:
            self.schedule_attempts.labels(result=result)

    def attempt(self, result: str, seconds: float) -> None:
        """Count one scheduling attempt and its duration."""
        self.schedule_attempts.labels(result=result).inc()
        self.attempt_duration.labels(result=result).observe(seconds)

    def set_pending(self, counts: Mapping[str, int]) -> None:
        for queue, count in counts.items():
            self.pending_pods.labels(queue=queue).set(count)

    def node_metrics_read(self, *, available: bool) -> None:
        self.node_metrics_available.set(1 if available else 0)
        if available:
            self._node_metrics_read_at = time.monotonic()

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)

    def _node_metrics_age(self) -> float:
        read_at = self._node_metrics_read_at
        return float("nan") if read_at is None else time.monotonic() - read_at
