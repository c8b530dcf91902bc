"""The load view shared by NodeLoad, BusinessPriority and LoadThreshold: how full each node really is.

With fresh NodeMetrics (not older than ``nodeLoad.metricsMaxAgeSeconds``), a node's use is the measured
usage plus the estimated use of pods placed on it since that measurement, so a burst of pods does not pile
onto the node that looked idle. Without metrics, or with stale ones, it falls back to the pods' requests
(missing requests counted as 100m CPU / 200Mi, as kube-scheduler does when spreading).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custom_scheduler.cluster import BoolArray, Cluster, FloatArray
from custom_scheduler.objects import PodInfo


@dataclass(frozen=True, slots=True)
class Utilisation:
    """Fractions of allocatable CPU and memory in use (1.0 where a node has none allocatable)."""

    cpu: FloatArray
    memory: FloatArray
    measured: BoolArray


def fresh_metrics(cluster: Cluster, *, max_age: float) -> BoolArray:
    """Nodes whose metrics are no older than ``max_age`` seconds (NaN time: no metrics, not fresh)."""
    fresh: BoolArray = cluster.clock() - cluster.metrics_time() <= max_age
    return fresh


def utilisation(pod: PodInfo | None, cluster: Cluster, *, max_age: float) -> Utilisation:
    """The load view of every node; with a pod, as it would be once the pod runs there.

    NodeLoad and BusinessPriority both need it in the same cycle, so it is computed once per state.
    """
    key = ("load.utilisation", _pod_cpu(pod), _pod_memory(pod), max_age, cluster.clock())
    return cluster.per_state(key, lambda: _utilisation(pod, cluster, max_age=max_age))


def _utilisation(pod: PodInfo | None, cluster: Cluster, *, max_age: float) -> Utilisation:
    measured = fresh_metrics(cluster, max_age=max_age)
    fractions = []
    for usage, estimate, requested, alloc, pod_estimate, pod_request in (
        ("usage_cpu", "estimate_cpu", "nonzero_cpu", "alloc_cpu", *_pod_cpu(pod)),
        ("usage_memory", "estimate_memory", "nonzero_memory", "alloc_memory", *_pod_memory(pod)),
    ):
        by_metrics = cluster.column(usage) + cluster.column(estimate) + pod_estimate
        by_requests = cluster.column(requested) + pod_request
        used = np.where(measured, by_metrics, by_requests)
        capacity = cluster.column(alloc).astype(np.float64)
        fraction = np.divide(used, capacity, out=np.ones_like(used, dtype=np.float64), where=capacity > 0)
        fractions.append(fraction)
    return Utilisation(cpu=fractions[0], memory=fractions[1], measured=measured)


def _pod_cpu(pod: PodInfo | None) -> tuple[int, int]:
    return (0, 0) if pod is None else (pod.estimate_cpu, pod.nonzero_cpu)


def _pod_memory(pod: PodInfo | None) -> tuple[int, int]:
    return (0, 0) if pod is None else (pod.estimate_memory, pod.nonzero_memory)
