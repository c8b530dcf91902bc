"""NodeResourcesFit: the pod's requests must fit in the node's allocatable minus what is already requested.

kube-scheduler 1.28's ``fitsRequest``: "Too many pods" is checked even for pods without requests; a
resource is insufficient when the request is strictly greater than what is left; every insufficient
resource is reported. Pods with restartable (sidecar) init containers are rejected up front, because
the SidecarContainers feature is off in 1.28.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING, Final

import numpy as np

from custom_scheduler.cluster import BoolArray
from custom_scheduler.framework.interface import Verdicts
from custom_scheduler.framework.status import Code, Status
from custom_scheduler.objects import PodInfo
from custom_scheduler.plugins import names

if TYPE_CHECKING:
    from custom_scheduler.cluster import Cluster
    from custom_scheduler.config import SchedulerConfig

NAME: Final = names.NODE_RESOURCES_FIT
ERR_REASON_TOO_MANY_PODS: Final = "Too many pods"
ERR_REASON_INSUFFICIENT: Final = "Insufficient %s"
ERR_REASON_SIDECAR: Final = (
    "Pod has a restartable init container and the SidecarContainers feature is disabled"
)


def insufficient(resource: str) -> str:
    return ERR_REASON_INSUFFICIENT % resource


class NodeResourcesFit:
    """Rejects nodes without room for the pod's requests (cpu, memory, storage, scalars, pod count)."""

    name: Final = NAME

    def pre_filter(self, pod: PodInfo, cluster: Cluster) -> Status | None:
        if pod.has_restartable_init_container:
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_SIDECAR,))
        return None

    def filter(self, pod: PodInfo, cluster: Cluster) -> Verdicts | None:
        reasons: list[tuple[str, BoolArray]] = [
            (ERR_REASON_TOO_MANY_PODS, cluster.column("pod_count") + 1 > cluster.column("alloc_pods"))
        ]
        requests = pod.requests
        for resource, amount, alloc, used in (
            ("cpu", requests.cpu, "alloc_cpu", "req_cpu"),
            ("memory", requests.memory, "alloc_memory", "req_memory"),
            ("ephemeral-storage", requests.ephemeral_storage, "alloc_ephemeral", "req_ephemeral"),
        ):
            if amount > 0:
                reasons.append(
                    (insufficient(resource), amount > cluster.column(alloc) - cluster.column(used))
                )
        for resource, amount in requests.scalars:
            if amount != 0:
                scalar_alloc, scalar_used = cluster.scalar(resource)
                reasons.append((insufficient(resource), amount > scalar_alloc - scalar_used))
        rejected = reduce(np.logical_or, (mask for _, mask in reasons))
        return Verdicts(Code.UNSCHEDULABLE, rejected, lambda: reasons)


def new(config: SchedulerConfig) -> NodeResourcesFit:
    return NodeResourcesFit()
