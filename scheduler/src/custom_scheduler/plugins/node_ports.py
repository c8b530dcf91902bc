"""NodePorts: a pod's host ports must be free on the node (containers only; init containers ignored).

A wanted port on 0.0.0.0 conflicts with the same protocol and port on any host IP; a wanted port on a
specific IP conflicts with that IP or 0.0.0.0 (kube-scheduler's ``HostPortInfo.CheckConflict``).
"""

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

NAME: Final = names.NODE_PORTS
ERR_REASON: Final = "node(s) didn't have free ports for the requested pod ports"
BIND_ALL: Final = "0.0.0.0"


class NodePorts:
    """Rejects nodes where another pod already holds one of the pod's host ports."""

    name: Final = NAME

    def pre_filter(self, pod: PodInfo, cluster: Cluster) -> Status | None:
        return None

    def filter(self, pod: PodInfo, cluster: Cluster) -> Verdicts | None:
        if not pod.host_ports:
            return None
        rejected = np.zeros(cluster.size, dtype=np.bool_)
        for wanted in pod.host_ports:
            for node, ips in cluster.host_ports.get((wanted.protocol, wanted.port), {}).items():
                row = cluster.index.get(node)
                if row is not None and (wanted.ip == BIND_ALL or BIND_ALL in ips or wanted.ip in ips):
                    rejected[row] = True
        return Verdicts.single(Code.UNSCHEDULABLE, ERR_REASON, rejected)


def new(config: SchedulerConfig) -> NodePorts:
    return NodePorts()
