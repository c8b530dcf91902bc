"""NodeAffinity: ``nodeSelector`` and required node affinity filter nodes; preferred terms add score.

Semantics are component-helpers' ``nodeaffinity`` in 1.28: nodeSelector AND (any required term), where a
term is all its matchExpressions AND all its matchFields, a term that failed to parse matches nothing,
and ``NotIn``/``DoesNotExist`` match nodes without the key.

Two deliberate differences from 1.28, both about which nodes get a status, never about which fit:
nodes outside a ``metadata.name In`` PreFilterResult are still filtered (kube-scheduler skips them and
gives them no status; here they get this plugin's reason, as its Filter would); and a preferred term
that fails to parse is ignored (kube-scheduler fails the whole scheduling cycle with an error).
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING, Final

import numpy as np

from custom_scheduler.cluster import BoolArray, Int64Array
from custom_scheduler.framework.interface import Verdicts, default_normalize
from custom_scheduler.framework.status import Code, Status
from custom_scheduler.objects import (
    OBJECT_NAME_FIELD,
    FieldRequirement,
    LabelRequirement,
    NodeSelectorTerm,
    PodInfo,
)
from custom_scheduler.plugins import names
from custom_scheduler.plugins.helper import ShapeCache

if TYPE_CHECKING:
    from custom_scheduler.cluster import Cluster
    from custom_scheduler.config import SchedulerConfig

NAME: Final = names.NODE_AFFINITY
ERR_REASON_POD: Final = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_CONFLICT: Final = "pod affinity terms conflict"


class NodeAffinity:
    """Filters by nodeSelector and required affinity; scores by the weights of matching preferred terms."""

    name: Final = NAME

    def __init__(self) -> None:
        self._filter_shapes: ShapeCache[BoolArray | None] = ShapeCache()
        self._score_shapes: ShapeCache[Int64Array] = ShapeCache()

    def pre_filter(self, pod: PodInfo, cluster: Cluster) -> Status | None:
        if pod.affinity_names_conflict:
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_CONFLICT,))
        return None

    def filter(self, pod: PodInfo, cluster: Cluster) -> Verdicts | None:
        if not pod.node_selector and pod.required_terms is None:
            return None
        key = (pod.node_selector, pod.required_terms)
        rejected = self._filter_shapes.get(cluster, key, lambda: _rejected(pod, cluster))
        if rejected is None:
            return None
        return Verdicts.single(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_POD, rejected)

    def score(self, pod: PodInfo, cluster: Cluster) -> Int64Array | int:
        if not pod.preferred_terms:
            return 0
        return self._score_shapes.get(cluster, pod.preferred_terms, lambda: _preferred_totals(pod, cluster))

    def normalize(self, scores: Int64Array) -> Int64Array:
        return default_normalize(scores, reverse=False)


def _rejected(pod: PodInfo, cluster: Cluster) -> BoolArray | None:
    matches = np.ones(cluster.size, dtype=np.bool_)
    for key, value in pod.node_selector:
        matches &= cluster.labels(key).code_mask((value,))
    if pod.required_terms is not None:
        any_term = np.zeros(cluster.size, dtype=np.bool_)
        for term in pod.required_terms:
            any_term |= term_matches(term, cluster)
        matches &= any_term
    rejected = ~matches
    return rejected if rejected.any() else None


def _preferred_totals(pod: PodInfo, cluster: Cluster) -> Int64Array:
    totals = np.zeros(cluster.size, dtype=np.int64)
    for preferred in pod.preferred_terms:
        totals += preferred.weight * term_matches(preferred.term, cluster)
    return totals


def term_matches(term: NodeSelectorTerm, cluster: Cluster) -> BoolArray:
    """Nodes matching one node selector term (all of its requirements)."""
    everyone = np.ones(cluster.size, dtype=np.bool_)
    if not term.valid:
        return ~everyone
    masks = [label_matches(r, cluster) for r in term.labels or ()]
    masks += [field_matches(r, cluster) for r in term.fields or ()]
    return reduce(np.logical_and, masks, everyone)


def label_matches(requirement: LabelRequirement, cluster: Cluster) -> BoolArray:
    """``labels.Requirement.Matches`` over all nodes."""
    column = cluster.labels(requirement.key)
    operator = requirement.operator
    if operator == "In":
        return column.code_mask(requirement.values)
    if operator == "NotIn":
        return ~column.code_mask(requirement.values)
    if operator == "Exists":
        return column.codes >= 0
    if operator == "DoesNotExist":
        return column.codes < 0
    numbers, parsed = column.integers()
    bound = requirement.bound if requirement.bound is not None else 0
    return parsed & (numbers > bound if operator == "Gt" else numbers < bound)


def field_matches(requirement: FieldRequirement, cluster: Cluster) -> BoolArray:
    """A ``matchFields`` requirement: nodes have only the field ``metadata.name``; others read as ""."""
    if requirement.key == OBJECT_NAME_FIELD:
        equal = cluster.name_codes().code_mask((requirement.value,))
    else:
        equal = np.full(cluster.size, requirement.value == "", dtype=np.bool_)
    return equal if requirement.operator == "In" else ~equal


def new(config: SchedulerConfig) -> NodeAffinity:
    return NodeAffinity()
