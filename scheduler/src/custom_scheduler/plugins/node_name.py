"""NodeName: a pod that names a node (``spec.nodeName``) fits only that node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from custom_scheduler.framework.interface import Verdicts
from custom_scheduler.framework.status import Code, Status
from custom_scheduler.objects import PodInfo
from custom_scheduler.plugins import names

if TYPE_CHECKING:
    from custom_scheduler.cluster import Cluster
    from custom_scheduler.config import SchedulerConfig

NAME: Final = names.NODE_NAME
ERR_REASON: Final = "node(s) didn't match the requested node name"


class NodeName:
    """Rejects every node but the one in ``spec.nodeName`` when it is set."""

    name: Final = NAME

    def pre_filter(self, pod: PodInfo, cluster: Cluster) -> Status | None:
        return None

    def filter(self, pod: PodInfo, cluster: Cluster) -> Verdicts | None:
        if not pod.node_name:
            return None
        rejected = np.ones(cluster.size, dtype=np.bool_)
        row = cluster.index.get(pod.node_name)
        if row is not None:
            rejected[row] = False
        return Verdicts.single(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON, rejected)


def new(config: SchedulerConfig) -> NodeName:
    return NodeName()
