"""NodeLoad: low real load first. Score = 100 - utilisation%, averaged over CPU and memory, rounded down.

Utilisation comes from the load view (:mod:`custom_scheduler.plugins.load`) including the incoming pod's
estimated use, so any node that already carries a just-placed pod scores below an identical idle one and
a burst of identical pods spreads over identical nodes.
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

NAME: Final = names.NODE_LOAD
_EPSILON: Final = 1e-9  # 1 - 0.01 is 0.98999... in binary floating point; do not lose a point to that


class NodeLoad:
    """Prefers the node whose CPU and memory are least used, measured or (without metrics) requested."""

    name: Final = NAME

    def __init__(self, *, max_age: float) -> None:
        self.max_age = max_age

    def score(self, pod: PodInfo, cluster: Cluster, rows: Int64Array) -> Int64Array:
        load = utilisation(pod, cluster, rows, max_age=self.max_age)
        busy = np.minimum((load.cpu + load.memory) / 2, 1.0)
        scores: Int64Array = np.floor((1.0 - busy) * MAX_NODE_SCORE + _EPSILON).astype(np.int64)
        return scores

    def normalize(self, scores: Int64Array) -> Int64Array:
        return scores


def new(config: SchedulerConfig) -> NodeLoad:
    return NodeLoad(max_age=config.node_load.metrics_max_age_seconds)
