"""BusinessLine: keeps business lines on their own nodes and everyone else in the shared pool.

A node labelled ``<labelKey>=X`` is dedicated to line X. A pod labelled ``<labelKey>=X`` may run only on
X nodes, plus the shared pool (nodes without the label) when X is listed in ``spillToShared``; a pod
without the label runs only in the shared pool. The label's presence decides, whatever its value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from custom_scheduler.cluster import BoolArray
from custom_scheduler.framework.interface import Verdicts
from custom_scheduler.framework.status import Code, Status
from custom_scheduler.objects import PodInfo
from custom_scheduler.plugins import names
from custom_scheduler.plugins.helper import ShapeCache

if TYPE_CHECKING:
    from custom_scheduler.cluster import Cluster
    from custom_scheduler.config import SchedulerConfig

NAME: Final = names.BUSINESS_LINE
ERR_REASON: Final = "node(s) didn't match Pod's business line"


class BusinessLine:
    """Rejects nodes of other business lines (UnschedulableAndUnresolvable: nothing but a relabel helps)."""

    name: Final = NAME

    def __init__(self, *, label_key: str, spill_to_shared: frozenset[str]) -> None:
        self.label_key = label_key
        self.spill_to_shared = spill_to_shared
        self._shapes: ShapeCache[BoolArray | None] = ShapeCache()

    def pre_filter(self, pod: PodInfo, cluster: Cluster) -> Status | None:
        return None

    def filter(self, pod: PodInfo, cluster: Cluster) -> Verdicts | None:
        line = pod.labels.get(self.label_key)
        rejected = self._shapes.get(cluster, line, lambda: self._rejected(line, cluster))
        if rejected is None:
            return None
        return Verdicts.single(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON, rejected)

    def _rejected(self, line: str | None, cluster: Cluster) -> BoolArray | None:
        column = cluster.labels(self.label_key)
        shared = column.codes < 0
        if line is None:
            allowed = shared
        else:
            allowed = column.code_mask((line,))
            if line in self.spill_to_shared:
                allowed |= shared
        rejected = ~allowed
        return rejected if rejected.any() else None


def new(config: SchedulerConfig) -> BusinessLine:
    return BusinessLine(
        label_key=config.business_line.label_key,
        spill_to_shared=frozenset(config.business_line.spill_to_shared),
    )
