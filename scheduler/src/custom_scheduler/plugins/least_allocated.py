"""LeastAllocated: kube-scheduler 1.28's NodeResourcesFit score (LeastAllocated, cpu and memory, 1:1).

Per resource ``(allocatable - requested) * 100 / allocatable`` (0 when over), where requested includes the
pod and counts missing requests as 100m CPU / 200Mi memory; resources with nothing allocatable are
skipped; integer arithmetic throughout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from custom_scheduler.cluster import Int64Array
from custom_scheduler.framework.interface import MAX_NODE_SCORE
from custom_scheduler.objects import PodInfo
from custom_scheduler.plugins import names

if TYPE_CHECKING:
    from custom_scheduler.cluster import Cluster
    from custom_scheduler.config import SchedulerConfig

NAME: Final = names.LEAST_ALLOCATED


def least_requested(requested: Int64Array, capacity: Int64Array) -> Int64Array:
    """``leastRequestedScore`` elementwise: 0 without capacity or when over-requested."""
    fits = (capacity > 0) & (requested <= capacity)
    scores: Int64Array = np.where(fits, (capacity - requested) * MAX_NODE_SCORE // np.maximum(capacity, 1), 0)
    return scores


class LeastAllocated:
    """Prefers nodes with the most unrequested CPU and memory."""

    name: Final = NAME

    def score(self, pod: PodInfo, cluster: Cluster) -> Int64Array:
        alloc_cpu = cluster.column("alloc_cpu")
        alloc_memory = cluster.column("alloc_memory")
        cpu = least_requested(cluster.column("nonzero_cpu") + pod.nonzero_cpu, alloc_cpu)
        memory = least_requested(cluster.column("nonzero_memory") + pod.nonzero_memory, alloc_memory)
        weights = (alloc_cpu != 0).astype(np.int64) + (alloc_memory != 0)
        scores: Int64Array = (cpu + memory) // np.maximum(weights, 1)
        return scores

    def normalize(self, scores: Int64Array) -> Int64Array:
        return scores


def new(config: SchedulerConfig) -> LeastAllocated:
    return LeastAllocated()
