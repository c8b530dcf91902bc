"""NodeUnschedulable: nodes cordoned with ``spec.unschedulable`` take only pods that tolerate that."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from custom_scheduler.framework.interface import Verdicts
from custom_scheduler.framework.status import Code, Status
from custom_scheduler.objects import PodInfo, Taint, tolerates_taint
from custom_scheduler.plugins import names

if TYPE_CHECKING:
    from custom_scheduler.cluster import Cluster
    from custom_scheduler.config import SchedulerConfig

NAME: Final = names.NODE_UNSCHEDULABLE
ERR_REASON_UNSCHEDULABLE: Final = "node(s) were unschedulable"
UNSCHEDULABLE_TAINT: Final = Taint(key="node.kubernetes.io/unschedulable", value="", effect="NoSchedule")


class NodeUnschedulable:
    """Rejects cordoned nodes unless the pod tolerates ``node.kubernetes.io/unschedulable:NoSchedule``."""

    name: Final = NAME

    def pre_filter(self, pod: PodInfo, cluster: Cluster) -> Status | None:
        return None

    def filter(self, pod: PodInfo, cluster: Cluster) -> Verdicts | None:
        if tolerates_taint(pod.tolerations, UNSCHEDULABLE_TAINT):
            return None
        return Verdicts.single(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_UNSCHEDULABLE, cluster.unschedulable()
        )


def new(config: SchedulerConfig) -> NodeUnschedulable:
    return NodeUnschedulable()
