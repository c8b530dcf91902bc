"""NodeLoad: low real load first.

Raw score: the free share of a node in basis points, ``10000 * (1 - busy)``, where ``busy`` is the
utilisation (measured, or requested without fresh metrics; :mod:`custom_scheduler.plugins.load`) averaged
over CPU and memory, including the incoming pod's estimated use. Normalised as kube-scheduler's
``DefaultNormalizeScore``: ``100 * raw / max(raw)`` over the feasible nodes, so the least loaded node
scores 100 and every node carrying more load scores less, however small the difference: that is what
makes a burst of identical pods spread over identical idle nodes instead of tying and piling up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from custom_scheduler.cluster import Int64Array
from custom_scheduler.framework.interface import default_normalize
from custom_scheduler.objects import PodInfo
from custom_scheduler.plugins import names
from custom_scheduler.plugins.load import utilisation

if TYPE_CHECKING:
    from custom_scheduler.cluster import Cluster
    from custom_scheduler.config import SchedulerConfig

NAME: Final = names.NODE_LOAD
BASIS_POINTS: Final = 10_000
_EPSILON: Final = 1e-6  # 1 - 0.01 is 0.98999... in binary floating point; do not lose a point to that


class NodeLoad:
    """Prefers the node whose CPU and memory are least used, measured or (without metrics) requested."""

    name: Final = NAME

    def __init__(self, *, max_age: float) -> None:
        self.max_age = max_age

    def score(self, pod: PodInfo, cluster: Cluster) -> Int64Array:
        load = utilisation(pod, cluster, max_age=self.max_age)
        busy = np.minimum((load.cpu + load.memory) / 2, 1.0)
        free: Int64Array = np.floor((1.0 - busy) * BASIS_POINTS + _EPSILON).astype(np.int64)
        return free

    def normalize(self, scores: Int64Array) -> Int64Array:
        return default_normalize(scores, reverse=False)


def new(config: SchedulerConfig) -> NodeLoad:
    return NodeLoad(max_age=config.node_load.metrics_max_age_seconds)
