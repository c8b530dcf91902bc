"""BalancedAllocation: kube-scheduler 1.28's NodeResourcesBalancedAllocation over cpu and memory.

With ``f_r = min(requested_r / allocatable_r, 1)`` on the actual requests (pod included, no defaults for
missing requests), the score is ``int((1 - |f_cpu - f_mem| / 2) * 100)``; a resource with nothing
allocatable is left out, and with one resource left the deviation is 0. Float64 arithmetic as in Go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from custom_scheduler.cluster import FloatArray, Int64Array
from custom_scheduler.framework.interface import MAX_NODE_SCORE
from custom_scheduler.objects import PodInfo
from custom_scheduler.plugins import names

if TYPE_CHECKING:
    from custom_scheduler.cluster import Cluster
    from custom_scheduler.config import SchedulerConfig

NAME: Final = names.BALANCED_ALLOCATION


class BalancedAllocation:
    """Prefers nodes whose CPU and memory would be requested in equal proportion."""

    name: Final = NAME

    def score(self, pod: PodInfo, cluster: Cluster) -> Int64Array:
        f_cpu = self._fraction(cluster, "cpu", pod.requests.cpu)
        f_memory = self._fraction(cluster, "memory", pod.requests.memory)
        both = cluster.derived(
            "balanced_allocation.both",
            lambda: (cluster.column("alloc_cpu") != 0) & (cluster.column("alloc_memory") != 0),
        )
        deviation = np.where(both, np.abs((f_cpu - f_memory) / 2), 0.0)
        scores: Int64Array = ((1 - deviation) * MAX_NODE_SCORE).astype(np.int64)
        return scores

    def normalize(self, scores: Int64Array) -> Int64Array:
        return scores

    @staticmethod
    def _fraction(cluster: Cluster, resource: str, pod_request: int) -> FloatArray:
        """``min(requested / allocatable, 1)``; nodes without the resource are masked out by the caller."""
        allocatable = cluster.derived(
            f"balanced_allocation.{resource}",
            lambda: np.maximum(cluster.column(f"alloc_{resource}"), 1).astype(np.float64),
        )
        fraction: FloatArray = np.minimum(
            (cluster.column(f"req_{resource}") + pod_request) / allocatable, 1.0
        )
        return fraction


def new(config: SchedulerConfig) -> BalancedAllocation:
    return BalancedAllocation()
