"""BusinessPriority: pods of higher priority prefer the nodes with the most headroom.

Headroom is the free share of a node's scarcer resource in the load view (:mod:`.load`), after the pod:
``h = 100 * (1 - max(cpu, memory utilisation))``. How much it matters grows with the pod's
``spec.priority`` p: ``w = p / (p + 1000)`` for p > 0, else 0, so ordinary pods (priority 0) score a
neutral 50 everywhere, priority 1000 weighs headroom half, and system-critical pods (2e9) almost fully:

    score = floor(50 + (h - 50) * w)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from custom_scheduler.cluster import Int64Array
from custom_scheduler.framework.interface import MAX_NODE_SCORE
from custom_scheduler.objects import PodInfo
from custom_scheduler.plugins import names
from custom_scheduler.plugins.load import utilisation

if TYPE_CHECKING:
    from custom_scheduler.cluster import Cluster
    from custom_scheduler.config import SchedulerConfig

NAME: Final = names.BUSINESS_PRIORITY
NEUTRAL_SCORE: Final = 50
PRIORITY_SCALE: Final = 1000


def headroom_weight(priority: int) -> float:
    """How much headroom matters for a pod of this priority, in [0, 1)."""
    return priority / (priority + PRIORITY_SCALE) if priority > 0 else 0.0


class BusinessPriority:
    """Steers high-priority pods to the roomiest nodes; neutral for priority 0 and below."""

    name: Final = NAME

    def __init__(self, *, max_age: float) -> None:
        self.max_age = max_age

    def score(self, pod: PodInfo, cluster: Cluster) -> Int64Array | int:
        weight = headroom_weight(pod.priority)
        if weight == 0.0:
            return NEUTRAL_SCORE
        load = utilisation(pod, cluster, max_age=self.max_age)
        headroom = (1.0 - np.minimum(np.maximum(load.cpu, load.memory), 1.0)) * MAX_NODE_SCORE
        scores: Int64Array = np.floor(NEUTRAL_SCORE + (headroom - NEUTRAL_SCORE) * weight + 1e-9).astype(
            np.int64
        )
        return scores

    def normalize(self, scores: Int64Array) -> Int64Array:
        return scores


def new(config: SchedulerConfig) -> BusinessPriority:
    return BusinessPriority(max_age=config.node_load.metrics_max_age_seconds)
