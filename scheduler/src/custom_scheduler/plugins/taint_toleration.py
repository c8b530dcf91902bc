"""TaintToleration: NoSchedule/NoExecute taints must be tolerated; PreferNoSchedule ones lower the score.

The business-line taint key (``businessLine.labelKey``) is left to the BusinessLine filter: infra taints
dedicated nodes so the default scheduler stays off them, and this scheduler decides by label instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from custom_scheduler.cluster import BoolArray, Int32Array, Int64Array
from custom_scheduler.framework.interface import Explanation, Verdicts, default_normalize
from custom_scheduler.framework.status import Code, Status
from custom_scheduler.objects import PodInfo, Taint, Toleration, tolerates_taint
from custom_scheduler.plugins import names
from custom_scheduler.plugins.helper import ShapeCache

if TYPE_CHECKING:
    from custom_scheduler.cluster import Cluster
    from custom_scheduler.config import SchedulerConfig

NAME: Final = names.TAINT_TOLERATION
ERR_REASON_UNTOLERATED: Final = "node(s) had untolerated taint {%s: %s}"
"""kube-scheduler 1.28's format, filled with the first untolerated taint's key and value."""
FILTERED_EFFECTS: Final = frozenset({"NoSchedule", "NoExecute"})
PREFER_NO_SCHEDULE: Final = "PreferNoSchedule"


def untolerated_reason(taint: Taint) -> str:
    return ERR_REASON_UNTOLERATED % (taint.key, taint.value)


@dataclass(frozen=True, slots=True)
class _FilterShape:
    rejected: BoolArray
    codes: Int32Array
    reasons: tuple[str, ...]

    def explain(self) -> Explanation:
        return [(reason, self.codes == code) for code, reason in enumerate(self.reasons)]


class TaintToleration:
    """Filters nodes by their first untolerated NoSchedule/NoExecute taint; scores PreferNoSchedule taints."""

    name: Final = NAME

    def __init__(self, *, ignored_key: str) -> None:
        self._ignored_key = ignored_key
        self._filter_shapes: ShapeCache[_FilterShape | None] = ShapeCache()
        self._score_shapes: ShapeCache[Int64Array | int] = ShapeCache()

    def pre_filter(self, pod: PodInfo, cluster: Cluster) -> Status | None:
        return None

    def filter(self, pod: PodInfo, cluster: Cluster) -> Verdicts | None:
        shape = self._filter_shapes.get(cluster, pod.tolerations, lambda: self._filter_shape(pod, cluster))
        if shape is None:
            return None
        return Verdicts(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, shape.rejected, shape.explain)

    def score(self, pod: PodInfo, cluster: Cluster) -> Int64Array | int:
        return self._score_shapes.get(cluster, pod.tolerations, lambda: self._score_shape(pod, cluster))

    def normalize(self, scores: Int64Array) -> Int64Array:
        return default_normalize(scores, reverse=True)

    def first_untolerated(
        self, taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...]
    ) -> Taint | None:
        """The first NoSchedule/NoExecute taint (in node order) that no toleration tolerates."""
        for taint in taints:
            considered = taint.effect in FILTERED_EFFECTS and taint.key != self._ignored_key
            if considered and not tolerates_taint(tolerations, taint):
                return taint
        return None

    def intolerable_preferred(self, taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...]) -> int:
        """PreferNoSchedule taints not tolerated by the pod's "" or PreferNoSchedule tolerations."""
        preferred = [t for t in tolerations if t.effect in ("", PREFER_NO_SCHEDULE)]
        return sum(
            1
            for taint in taints
            if taint.effect == PREFER_NO_SCHEDULE
            and taint.key != self._ignored_key
            and not tolerates_taint(preferred, taint)
        )

    def _filter_shape(self, pod: PodInfo, cluster: Cluster) -> _FilterShape | None:
        reasons: dict[str, int] = {}
        per_set = np.full(len(cluster.taint_sets), -1, dtype=np.int32)
        for set_id, taints in enumerate(cluster.taint_sets):
            taint = self.first_untolerated(taints, pod.tolerations)
            if taint is not None:
                per_set[set_id] = reasons.setdefault(untolerated_reason(taint), len(reasons))
        codes = per_set[cluster.taint_set_ids()]
        rejected = codes >= 0
        if not rejected.any():
            return None
        return _FilterShape(rejected, codes, tuple(reasons))

    def _score_shape(self, pod: PodInfo, cluster: Cluster) -> Int64Array | int:
        per_set = np.array(
            [self.intolerable_preferred(taints, pod.tolerations) for taints in cluster.taint_sets],
            dtype=np.int64,
        )
        if not per_set.any():
            return 0
        counts: Int64Array = per_set[cluster.taint_set_ids()]
        return counts


def new(config: SchedulerConfig) -> TaintToleration:
    return TaintToleration(ignored_key=config.business_line.label_key)
