"""The engine facade: the one API the controller (``run``), the extender and ``simulate`` call.

It owns the cluster view and one profile of plugins, and is used from one thread. Objects come in as
Kubernetes JSON dicts (v1 Node, v1 Pod, metrics.k8s.io/v1beta1 NodeMetrics); decisions come out as
:class:`ScheduleResult`. ``schedule`` never changes state: the caller ``assume``s the pod on the chosen
node before binding (so the next decision sees it) and ``forget``s it if the binding fails.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from custom_scheduler.cluster import Cluster, PodUsage, parse_node_metrics
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.errors import InputError
from custom_scheduler.framework.runtime import Decision, Profile
from custom_scheduler.objects import TERMINAL_PHASES, ObjectError, PodInfo, parse_node, parse_pod
from custom_scheduler.plugins import default_registry, names


@dataclass(frozen=True)
class ScheduleResult:
    """One scheduling decision.

    ``node`` is the chosen node or None; ``feasible`` the sorted names of nodes that passed every filter;
    ``scores`` their final weighted scores; ``reasons`` why each other node was rejected (kube-scheduler's
    strings, first failing filter only); ``message`` the ``0/N nodes are available: ...`` text when no node
    fits, else None; ``unresolvable`` whether every rejection was UnschedulableAndUnresolvable.
    """

    node: str | None
    feasible: list[str]
    scores: dict[str, int]
    reasons: dict[str, list[str]]
    message: str | None
    unresolvable: bool


class Engine:
    """Scheduling decisions over an in-memory view of the cluster, fed by the caller."""

    def __init__(
        self,
        config: SchedulerConfig,
        *,
        seed: int | None = None,
        filters: Sequence[str] | None = None,
        scores: Mapping[str, int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``filters``/``scores`` pick a subset of plugins by name (scores with their weights); None means
        every filter, and every scorer with its configured weight. ``clock`` returns seconds since the epoch
        (metrics freshness and "placed since the measurement"); inject a fake one in tests."""
        registry = default_registry()
        filter_names = list(names.FILTER_ORDER) if filters is None else list(filters)
        weights = config.weights.by_plugin() if scores is None else dict(scores)
        unknown = [n for n in filter_names if n not in set(registry.filter_names())]
        unknown += [n for n in weights if n not in set(registry.score_names())]
        if unknown:
            raise ValueError(f"unknown plugin(s): {', '.join(unknown)}")
        ordered = [n for n in names.FILTER_ORDER if n in filter_names]
        self.config = config
        self.cluster = Cluster(clock=clock)
        self.profile = Profile(
            [registry.new_filter(n, config) for n in ordered],
            [(registry.new_score(n, config), w) for n, w in weights.items()],
            rng=random.Random(seed),
            percentage_of_nodes_to_score=config.percentage_of_nodes_to_score,
        )

    # --- cluster state -------------------------------------------------------------------------
    def upsert_node(self, node: Mapping[str, Any]) -> None:
        """Add or update a v1 Node; raises InputError if it is malformed."""
        self.cluster.upsert_node(_parsed(parse_node, node, "Node"))

    def delete_node(self, name: str) -> None:
        self.cluster.delete_node(name)

    def upsert_pod(self, pod: Mapping[str, Any]) -> None:
        """Add or replace any pod (by uid). It counts against ``spec.nodeName`` unless Succeeded/Failed;
        an assumed pod seen again still unbound stays assumed."""
        self.upsert_pod_info(_parsed(parse_pod, pod, "Pod"))

    def upsert_pod_info(self, pod: PodInfo) -> None:
        previous = self.cluster.pods.get(pod.uid)
        if pod.counts_on_node:
            if previous is not None and previous.node != pod.node_name:
                self.cluster.remove_estimate(pod.uid, previous.node)
            self.cluster.add_pod(PodUsage.of(pod, pod.node_name, assumed=False))
            return
        if previous is None:
            return
        binding_in_flight = previous.assumed and not pod.node_name and pod.phase not in TERMINAL_PHASES
        if not binding_in_flight:
            self.delete_pod(pod.uid)

    def delete_pod(self, uid: str) -> None:
        usage = self.cluster.remove_pod(uid)
        if usage is not None:
            self.cluster.remove_estimate(uid, usage.node)

    def set_node_metrics(self, metrics: Mapping[str, Any], *, observed_at: float | None = None) -> None:
        """Record a NodeMetrics object, measured at ``observed_at`` (else its ``timestamp``, else now)."""
        try:
            node, cpu, memory, stamp = parse_node_metrics(metrics)
        except ValueError as error:
            raise InputError([f"NodeMetrics: {error}"]) from None
        when = (
            observed_at if observed_at is not None else stamp if stamp is not None else self.cluster.clock()
        )
        self.cluster.set_metrics(node, cpu_millis=cpu, memory_bytes=memory, time=when)

    # --- decisions -----------------------------------------------------------------------------
    def schedule(self, pod: Mapping[str, Any], *, node_names: Sequence[str] | None = None) -> ScheduleResult:
        """Pick a node for the pod on the current state (only among ``node_names`` if given)."""
        info = _parsed(parse_pod, pod, "Pod")
        return self.result(self.decide(info, node_names=node_names))

    def decide(self, pod: PodInfo, *, node_names: Sequence[str] | None = None) -> Decision:
        """The raw decision (rows into the cluster's columns); cheaper than :meth:`schedule`."""
        candidates = None
        if node_names is not None:
            candidates = np.zeros(self.cluster.size, dtype=np.bool_)
            rows = [self.cluster.index[n] for n in node_names if n in self.cluster.index]
            candidates[rows] = True
        return self.profile.schedule(pod, self.cluster, candidates)

    def result(self, decision: Decision) -> ScheduleResult:
        """Spell a decision out with node names, scores, reasons and the failure message."""
        names_ = self.cluster.names
        outcome = decision.outcome
        scores = {
            names_[row]: int(total)
            for row, total in zip(decision.rows.tolist(), decision.totals.tolist(), strict=True)
        }
        reasons = {names_[row]: reasons for row, reasons in sorted(outcome.reasons_by_row().items())}
        placed = decision.row is not None
        return ScheduleResult(
            node=names_[decision.row] if decision.row is not None else None,
            feasible=sorted(scores),
            scores=dict(sorted(scores.items())),
            reasons=dict(sorted(reasons.items())),
            message=None if placed else outcome.message(),
            unresolvable=False if placed else outcome.unresolvable,
        )

    def assume(self, pod: Mapping[str, Any], node_name: str) -> None:
        """Count the pod on ``node_name`` now, before its binding is confirmed."""
        self.assume_info(_parsed(parse_pod, pod, "Pod"), node_name)

    def assume_info(self, pod: PodInfo, node_name: str) -> None:
        self.cluster.add_pod(PodUsage.of(pod, node_name, assumed=True))
        self.cluster.add_estimate(node_name, pod.uid, cpu=pod.estimate_cpu, memory=pod.estimate_memory)

    def forget(self, uid: str) -> None:
        """Undo :meth:`assume` (the binding failed); a pod confirmed since is left alone."""
        usage = self.cluster.pods.get(uid)
        if usage is not None and usage.assumed:
            self.delete_pod(uid)

    def node_names(self) -> list[str]:
        return list(self.cluster.names)

    def has_pod(self, uid: str) -> bool:
        """Whether the pod is counted on a node (bound or assumed)."""
        return uid in self.cluster.pods


T = TypeVar("T")


def _parsed(parse: Callable[[Mapping[str, Any]], T], obj: Mapping[str, Any], kind: str) -> T:
    try:
        return parse(obj)
    except ObjectError as error:
        metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
        name = metadata.get("name", "?") if isinstance(metadata, Mapping) else "?"
        raise InputError([f"{kind} {name}: {error}"]) from None
