"""BalancedAllocation: kube-scheduler 1.28's NodeResourcesBalancedAllocation over cpu and memory.

With ``f_r = min(requested_r / allocatable_r, 1)`` on the actual requests (pod included, no defaults for
missing requests), the score is ``int((1 - |f_cpu - f_mem| / 2) * 100)``; a resource with nothing
allocatable is left out, and with one resource left the deviation is 0.
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

NAME: Final = names.BALANCED_ALLOCATION


class BalancedAllocation:
    """Prefers nodes whose CPU and memory would be requested in equal proportion."""

    name: Final = NAME

    def score(self, pod: PodInfo, cluster: Cluster) -> Int64Array:
        alloc_cpu = cluster.column("alloc_cpu").astype(np.float64)
        alloc_memory = cluster.column("alloc_memory").astype(np.float64)
        cpu = (cluster.column("req_cpu") + pod.requests.cpu).astype(np.float64)
        memory = (cluster.column("req_memory") + pod.requests.memory).astype(np.float64)
        f_cpu = np.minimum(np.divide(cpu, alloc_cpu, out=np.zeros_like(cpu), where=alloc_cpu != 0), 1.0)
        f_memory = np.minimum(
            np.divide(memory, alloc_memory, out=np.zeros_like(memory), where=alloc_memory != 0), 1.0
        )
        both = (alloc_cpu != 0) & (alloc_memory != 0)
        deviation = np.where(both, np.abs((f_cpu - f_memory) / 2), 0.0)
        scores: Int64Array = ((1 - deviation) * MAX_NODE_SCORE).astype(np.int64)
        return scores

    def normalize(self, scores: Int64Array) -> Int64Array:
        return scores


def new(config: SchedulerConfig) -> BalancedAllocation:
    return BalancedAllocation()
