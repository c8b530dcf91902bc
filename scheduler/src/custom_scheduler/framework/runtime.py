"""Runs one profile's plugins for one pod over all nodes: filters in order, then scores, then selection.

Filtering mirrors kube-scheduler's ``RunFilterPlugins`` without its per-node loop: each plugin judges all
nodes at once, and a node keeps only the first plugin that rejected it (later plugins' verdicts for that
node are ignored), so reasons and counts match kube-scheduler's. Scores are normalised per plugin to
0-100, weighted and summed; the highest total wins and ties are broken uniformly at random.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

import numpy as np

from custom_scheduler.cluster import BoolArray, Cluster, Int64Array
from custom_scheduler.framework.interface import MAX_NODE_SCORE, FilterPlugin, ScorePlugin, Verdicts
from custom_scheduler.framework.status import Code, Status

if TYPE_CHECKING:
    from custom_scheduler.objects import PodInfo

NO_NODES_MESSAGE: Final = "no nodes available to schedule pods"
MIN_FEASIBLE_NODES_TO_FIND: Final = 100


class PluginScoreError(RuntimeError):
    """A score plugin returned a score outside [0, 100] after normalising (a bug in the plugin)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """The nodes whose first failing filter was ``plugin``."""

    plugin: str
    verdicts: Verdicts
    nodes: BoolArray

    def explain(self) -> list[tuple[str, BoolArray]]:
        """Each reason with the nodes (of this rejection) it applies to."""
        return [(reason, mask & self.nodes) for reason, mask in self.verdicts.explain()]


@dataclass(frozen=True, slots=True)
class FilterOutcome:
    """Which candidate nodes can run the pod, and why the others cannot."""

    candidates: BoolArray
    feasible: BoolArray
    pre_filter: Status | None
    rejections: tuple[Rejection, ...]

    @property
    def node_count(self) -> int:
        """N in ``0/N nodes are available``: every node the pod was judged against."""
        return int(self.candidates.sum())

    def reasons_by_row(self) -> dict[int, list[str]]:
        """Reasons for every rejected node, by row, in the first failing plugin's order."""
        if self.pre_filter is not None:
            return {int(row): list(self.pre_filter.reasons) for row in np.flatnonzero(self.candidates)}
        reasons: dict[int, list[str]] = {}
        for rejection in self.rejections:
            for reason, mask in rejection.explain():
                for row in np.flatnonzero(mask).tolist():
                    reasons.setdefault(row, []).append(reason)
        return reasons

    def message(self) -> str:
        """kube-scheduler's FitError text: ``0/N nodes are available: <count> <reason>, ... .``"""
        total = self.node_count
        if total == 0:
            return NO_NODES_MESSAGE
        head = f"0/{total} nodes are available:"
        if self.pre_filter is not None:
            return f"{head} {self.pre_filter.message}."
        counts: dict[str, int] = {}
        for rejection in self.rejections:
            for reason, mask in rejection.explain():
                counts[reason] = counts.get(reason, 0) + int(mask.sum())
        histogram = sorted(f"{count} {reason}" for reason, count in counts.items() if count)
        return f"{head} {', '.join(histogram)}." if histogram else head

    @property
    def unresolvable(self) -> bool:
        """Whether every rejection was UnschedulableAndUnresolvable (preemption could not help)."""
        if self.pre_filter is not None:
            return self.pre_filter.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
        return bool(self.rejections) and all(
            r.verdicts.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE for r in self.rejections
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one scheduling cycle: the chosen row (or None) and what led to it."""

    row: int | None
    rows: Int64Array
    totals: Int64Array
    outcome: FilterOutcome


class Profile:
    """An ordered set of filters and weighted scorers, with the tie-breaking random source."""

    def __init__(
        self,
        filters: Sequence[FilterPlugin],
        scorers: Sequence[tuple[ScorePlugin, int]],
        *,
        rng: random.Random,
        percentage_of_nodes_to_score: int = 100,
    ) -> None:
        self.filters = tuple(filters)
        self.scorers = tuple((plugin, weight) for plugin, weight in scorers if weight > 0)
        self._rng = rng
        self._percentage = percentage_of_nodes_to_score
        self._next_start = 0

    def schedule(self, pod: PodInfo, cluster: Cluster, candidates: BoolArray | None = None) -> Decision:
        """Filter, score and pick a node for ``pod``; does not change the cluster."""
        outcome = self.run_filters(pod, cluster, candidates)
        rows = self._rows_to_score(outcome.feasible)
        if rows.size == 0:
            return Decision(None, rows, np.zeros(0, dtype=np.int64), outcome)
        totals = self.run_scores(pod, cluster, rows)
        best = np.flatnonzero(totals == totals.max())
        pick = int(best[0]) if best.size == 1 else int(best[self._rng.randrange(best.size)])
        return Decision(int(rows[pick]), rows, totals, outcome)

    def run_filters(
        self, pod: PodInfo, cluster: Cluster, candidates: BoolArray | None = None
    ) -> FilterOutcome:
        """Run every filter over all candidate nodes, keeping each node's first failure."""
        remaining = np.ones(cluster.size, dtype=np.bool_) if candidates is None else candidates.copy()
        judged = remaining.copy()
        for plugin in self.filters:
            status = plugin.pre_filter(pod, cluster)
            if status is not None:
                nothing = np.zeros(cluster.size, dtype=np.bool_)
                return FilterOutcome(judged, nothing, replace(status, plugin=plugin.name), ())
        rejections = []
        for plugin in self.filters:
            verdicts = plugin.filter(pod, cluster)
            if verdicts is None:
                continue
            first = verdicts.rejected & remaining
            if first.any():
                rejections.append(Rejection(plugin.name, verdicts, first))
                remaining ^= first
        return FilterOutcome(judged, remaining, None, tuple(rejections))

    def run_scores(self, pod: PodInfo, cluster: Cluster, rows: Int64Array) -> Int64Array:
        """Weighted sum of every scorer's normalised 0-100 score for the nodes at ``rows``."""
        totals = np.zeros(rows.size, dtype=np.int64)
        constant = 0
        every_node = rows.size == cluster.size
        for plugin, weight in self.scorers:
            raw = plugin.score(pod, cluster)
            if isinstance(raw, int):
                scores = plugin.normalize(np.array([raw], dtype=np.int64))
            else:
                scores = plugin.normalize(raw if every_node else raw[rows])
            if scores.size and (scores.min() < 0 or scores.max() > MAX_NODE_SCORE):
                raise PluginScoreError(
                    f"plugin {plugin.name!r} returns an invalid score {scores.min()}..{scores.max()}, "
                    "it should in the range of [0, 100] after normalizing"
                )
            if isinstance(raw, int):
                constant += weight * int(scores[0])
            else:
                totals += weight * scores
        totals += constant
        return totals

    def _rows_to_score(self, feasible: BoolArray) -> Int64Array:
        """kube-scheduler's percentageOfNodesToScore: stop after enough feasible nodes, round-robin."""
        rows = np.flatnonzero(feasible).astype(np.int64)
        total = feasible.size
        wanted = self._feasible_nodes_to_find(total)
        if rows.size <= wanted:
            return rows
        start = self._next_start % total
        rotated = np.concatenate((rows[rows >= start], rows[rows < start]))[:wanted]
        self._next_start = (start + int((rotated[-1] - start) % total) + 1) % total
        return np.sort(rotated)

    def _feasible_nodes_to_find(self, total: int) -> int:
        if total < MIN_FEASIBLE_NODES_TO_FIND or self._percentage >= 100:
            return total
        return max(total * self._percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)
