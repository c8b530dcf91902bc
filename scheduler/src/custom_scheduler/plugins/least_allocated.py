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


class LeastAllocated:
    """Prefers nodes with the most unrequested CPU and memory."""

    name: Final = NAME

    def score(self, pod: PodInfo, cluster: Cluster) -> Int64Array:
        cpu = self._resource(cluster, "cpu", pod.nonzero_cpu)
        memory = self._resource(cluster, "memory", pod.nonzero_memory)
        scores: Int64Array = (cpu + memory) // cluster.derived(
            "least_allocated.weights", lambda: _weights(cluster)
        )
        return scores

    def normalize(self, scores: Int64Array) -> Int64Array:
        return scores

    @staticmethod
    def _resource(cluster: Cluster, resource: str, pod_request: int) -> Int64Array:
        """One resource's score; a node with nothing allocatable has nothing free, so it scores 0."""
        free = cluster.column(f"alloc_{resource}") - cluster.column(f"nonzero_{resource}") - pod_request
        divisor = cluster.derived(
            f"least_allocated.{resource}", lambda: np.maximum(cluster.column(f"alloc_{resource}"), 1)
        )
        scores: Int64Array = np.where(free >= 0, free * MAX_NODE_SCORE // divisor, 0)
        return scores


def _weights(cluster: Cluster) -> Int64Array:
    """How many of cpu and memory each node has allocatable (at least 1, to divide by)."""
    weights: Int64Array = (cluster.column("alloc_cpu") != 0).astype(np.int64) + (
        cluster.column("alloc_memory") != 0
    )
    return np.maximum(weights, 1)


def new(config: SchedulerConfig) -> LeastAllocated:
    return LeastAllocated()
