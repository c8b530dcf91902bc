"""NetworkBandwidth: prefers nodes with the most bandwidth left after the pod.

Nodes advertise ``kubevps.dev/bandwidth-capacity-mbps`` and ``kubevps.dev/bandwidth-used-mbps``
(measured, e.g. from node-exporter); pods may ask for ``kubevps.dev/bandwidth-mbps``. A node's committed
bandwidth is the larger of the measured use and the sum asked for by the pods on it (so pods placed since
the last measurement count at once, without counting running pods twice). The score is the percentage of
capacity still free once the pod is added, floored at 0. Nodes without a positive capacity annotation
get a neutral 50; it is a preference only, never a filter.
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

NAME: Final = names.NETWORK_BANDWIDTH
NEUTRAL_SCORE: Final = 50


class NetworkBandwidth:
    """Scores remaining network bandwidth; unannotated nodes are neutral."""

    name: Final = NAME

    def score(self, pod: PodInfo, cluster: Cluster) -> Int64Array | int:
        capacity = cluster.column("bandwidth_capacity")
        known = capacity > 0  # NaN (no annotation) compares False
        if not known.any():
            return NEUTRAL_SCORE
        used = np.nan_to_num(cluster.column("bandwidth_used"))
        committed = np.maximum(used, cluster.column("bandwidth_reserved")) + pod.bandwidth_mbps
        free = np.clip(
            1.0 - np.divide(committed, capacity, out=np.ones_like(capacity), where=known), 0.0, 1.0
        )
        scores: Int64Array = np.where(known, np.floor(free * MAX_NODE_SCORE + 1e-9), NEUTRAL_SCORE).astype(
            np.int64
        )
        return scores

    def normalize(self, scores: Int64Array) -> Int64Array:
        return scores


def new(config: SchedulerConfig) -> NetworkBandwidth:
    return NetworkBandwidth()
