"""Background readers of cluster state: list+watch threads for nodes and pods, and a NodeMetrics poller.

They never touch the engine: each puts its findings into the scheduling loop's inbox, and the loop,
which owns the engine, applies them in order between two scheduling cycles.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Final, Literal

from custom_scheduler.controller.metrics import SchedulerMetrics
from custom_scheduler.errors import ApiError, ApiNotFoundError
from custom_scheduler.kube import paths
from custom_scheduler.kube.client import KubeClient
from custom_scheduler.kube.watch import Backoff, WatchEvent, infinite_watch

log = logging.getLogger(__name__)

NODE_METRICS_POLL_SECONDS: Final = 15.0
"""metrics-server refreshes NodeMetrics about every 15 s; reading more often gains nothing."""
NODE_METRICS_ABSENT_POLL_SECONDS: Final = 60.0
"""While metrics.k8s.io is not served (404), look again this often in case it gets installed."""
UNEXPECTED_ERROR_PAUSE_SECONDS: Final = 1.0
"""Pause before restarting a watch that failed with something other than an API error."""


@dataclass(frozen=True, slots=True)
class ResourceEvent:
    """A list or change of `resource` (pods or nodes) for the cache."""

    resource: Literal["pods", "nodes"]
    event: WatchEvent


@dataclass(frozen=True, slots=True)
class NodeMetricsRead:
    """The items of one NodeMetricsList and when it was read (time.time())."""

    items: list[dict[str, Any]]
    observed_at: float


def start_watch(
    client: KubeClient, resource: Literal["pods", "nodes"], inbox: queue.Queue[Any], stop: threading.Event
) -> threading.Thread:
    """Watch all `resource` objects forever, feeding the inbox."""
    path = paths.PODS if resource == "pods" else paths.NODES

    def loop() -> None:
        while not stop.is_set():
            try:
                for event in infinite_watch(client, path, stop=stop):
                    inbox.put(ResourceEvent(resource, event))
            except Exception:
                # infinite_watch handles every API failure; anything else is a bug, and a dead watch
                # would silently freeze the cache, so log it and start over with a fresh list.
                log.exception("watch crashed; restarting", extra={"path": path})
                stop.wait(UNEXPECTED_ERROR_PAUSE_SECONDS)

    thread = threading.Thread(target=loop, name=f"watch-{resource}", daemon=True)
    thread.start()
    return thread


def start_node_metrics_poller(
    client: KubeClient,
    inbox: queue.Queue[Any],
    stop: threading.Event,
    *,
    metrics: SchedulerMetrics,
    interval: float = NODE_METRICS_POLL_SECONDS,
) -> threading.Thread:
    """Read NodeMetrics every `interval`; the scheduler works without them (requests-based load)."""

    def loop() -> None:
        backoff = Backoff()
        while not stop.is_set():
            try:
                listing = client.get(paths.NODE_METRICS)
            except ApiNotFoundError:
                metrics.node_metrics_read(available=False)
                log.info("metrics.k8s.io not served; load falls back to requests")
                stop.wait(NODE_METRICS_ABSENT_POLL_SECONDS)
                continue
            except ApiError as error:
                metrics.node_metrics_read(available=False)
                delay = max(backoff.next_delay(error), 1.0)
                log.warning("NodeMetrics not read", extra={"error": str(error), "delay": delay})
                stop.wait(delay)
                continue
            backoff.reset()
            metrics.node_metrics_read(available=True)
            inbox.put(NodeMetricsRead(list(listing.get("items") or []), time.time()))
            stop.wait(interval)

    thread = threading.Thread(target=loop, name="node-metrics", daemon=True)
    thread.start()
    return thread
