"""The plugin interfaces. Plugins decide for all nodes at once: inputs and outputs are column arrays.

A filter plugin answers with :class:`Verdicts` (which nodes it rejects, why, with what code) or None when
it has nothing to say about this pod (kube-scheduler's PreFilter ``Skip``). A score plugin returns raw
scores for all nodes and normalises those of the feasible nodes to 0-100; the runtime weights and sums.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

import numpy as np
import numpy.typing as npt

from custom_scheduler.cluster import BoolArray, Cluster, Int64Array
from custom_scheduler.framework.status import Code, Status

if TYPE_CHECKING:
    from custom_scheduler.objects import PodInfo

MAX_NODE_SCORE: Final = 100

Explanation = Sequence[tuple[str, BoolArray]]
"""Reasons with the nodes each applies to; a node's reasons are listed in this order."""


@dataclass(frozen=True, slots=True)
class Verdicts:
    """One filter plugin's answer for every node: ``rejected[i]`` and, lazily, the reasons."""

    code: Code
    rejected: BoolArray
    explain: Callable[[], Explanation]

    @classmethod
    def single(cls, code: Code, reason: str, rejected: BoolArray) -> Verdicts:
        """All rejected nodes share one reason."""
        return cls(code, rejected, lambda: ((reason, rejected),))


class FilterPlugin(Protocol):
    """Decides which nodes can run a pod."""

    @property
    def name(self) -> str: ...

    def pre_filter(self, pod: PodInfo, cluster: Cluster) -> Status | None:
        """Reject the pod outright (every node gets this status), or None to continue.

        May return Unschedulable or UnschedulableAndUnresolvable; never raises for a bad pod.
        """
        ...

    def filter(self, pod: PodInfo, cluster: Cluster) -> Verdicts | None:
        """Judge every node; None means this plugin accepts all nodes for this pod.

        ``Verdicts.code`` is Unschedulable or UnschedulableAndUnresolvable. Reasons are kube-scheduler's
        strings where the plugin comes from kube-scheduler.
        """
        ...


class ScorePlugin(Protocol):
    """Ranks feasible nodes."""

    @property
    def name(self) -> str: ...

    def score(self, pod: PodInfo, cluster: Cluster) -> Int64Array | int:
        """Raw integer scores for every node (the runtime keeps the feasible ones): one array op per
        column beats gathering each column for the feasible rows first. A plain int means the same raw
        score for every node (the plugin has no preference for this pod), which costs no array work."""
        ...

    def normalize(self, scores: Int64Array) -> Int64Array:
        """Map the raw scores of the feasible nodes into [0, 100]."""
        ...


def default_normalize(scores: Int64Array, *, reverse: bool) -> Int64Array:
    """kube-scheduler's ``DefaultNormalizeScore(MaxNodeScore, reverse, scores)``, integer arithmetic."""
    top = int(scores.max()) if scores.size else 0
    if top == 0:
        return np.full_like(scores, MAX_NODE_SCORE) if reverse else scores
    normalized: npt.NDArray[np.int64] = MAX_NODE_SCORE * scores // top
    return MAX_NODE_SCORE - normalized if reverse else normalized
