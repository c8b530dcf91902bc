"""What the extender decides: our own filters (BusinessLine, LoadThreshold) and load-aware scores
(NodeLoad, NetworkBandwidth, BusinessPriority), computed by the same engine `run` uses.

The default scheduler has already applied its in-tree filters and scores; the extender adds only what
it lacks. Its engine either holds a cluster view kept fresh by watches (with a kubeconfig: nodes, pods
and NodeMetrics) or is built per request from the Node objects kube-scheduler sends (without one: load
then falls back to requests, of which a bare request carries none, so load scores are even).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Final

from custom_scheduler.config import SchedulerConfig
from custom_scheduler.engine import Engine, ScheduleResult
from custom_scheduler.errors import InputError
from custom_scheduler.extender.protocol import (
    MAX_EXTENDER_PRIORITY,
    ExtenderArgs,
    error_result,
    filter_result,
    host_priority_list,
)
from custom_scheduler.kube.client import JsonObject
from custom_scheduler.plugins import business_line, names

EXTENDER_FILTERS: Final = (names.BUSINESS_LINE, names.LOAD_THRESHOLD)
EXTENDER_SCORES: Final = (names.NODE_LOAD, names.NETWORK_BANDWIDTH, names.BUSINESS_PRIORITY)
UNRESOLVABLE_REASONS: Final = frozenset({business_line.ERR_REASON})
"""Reasons kube-scheduler must not try to fix by preemption (FailedAndUnresolvableNodes)."""
NOT_IN_CACHE: Final = "node not found in the extender's node cache"
NO_CACHE: Final = (
    "the extender has no node cache (started without --kubeconfig): "
    "configure it with nodeCacheCapable: false so kube-scheduler sends Node objects"
)


def new_engine(config: SchedulerConfig) -> Engine:
    """An engine with only the extender's filters and scores, weighted as configured."""
    weights = config.weights.by_plugin()
    return Engine(config, filters=EXTENDER_FILTERS, scores={name: weights[name] for name in EXTENDER_SCORES})


def extender_score(total: int, weights: Mapping[str, int]) -> int:
    """A weighted engine total (each plugin 0-100) rescaled to kube-scheduler's 0-10 extender range."""
    most = 100 * sum(weights.values())
    return round(total * MAX_EXTENDER_PRIORITY / most) if most else 0


class Extender:
    """Answers /filter and /prioritize; thread-safe (one lock around the engine)."""

    def __init__(
        self, config: SchedulerConfig, *, engine: Engine | None = None, lock: threading.Lock | None = None
    ):
        """With `engine` (kept fresh by the caller under `lock`), decide on its cluster view; without,
        build an engine per request from the request's Node objects."""
        self._config = config
        self._engine = engine
        self._lock = lock or threading.Lock()
        weights = config.weights.by_plugin()
        self._weights = {name: weights[name] for name in EXTENDER_SCORES}

    def filter(self, args: ExtenderArgs) -> JsonObject:
        """An ExtenderFilterResult: nodes passing our filters, the others with kube-scheduler's reasons."""
        try:
            result, unknown = self._decide(args)
        except LookupError:
            return error_result(NO_CACHE)
        except InputError as error:
            return error_result(str(error))
        failed: dict[str, str] = dict.fromkeys(unknown, NOT_IN_CACHE)
        unresolvable: dict[str, str] = {}
        for node, reasons in result.reasons.items():
            target = unresolvable if UNRESOLVABLE_REASONS.intersection(reasons) else failed
            target[node] = ", ".join(reasons)
        return filter_result(args, passed=result.feasible, failed=failed, unresolvable=unresolvable)

    def prioritize(self, args: ExtenderArgs) -> list[JsonObject]:
        """A HostPriorityList: each node's load-aware score, 0-10 (0 for nodes our filters reject)."""
        try:
            result, _ = self._decide(args)
        except (LookupError, InputError):
            return host_priority_list({}, args.node_names)
        scores = {node: extender_score(total, self._weights) for node, total in result.scores.items()}
        return host_priority_list(scores, args.node_names)

    def _decide(self, args: ExtenderArgs) -> tuple[ScheduleResult, list[str]]:
        """The engine's verdict on the request's nodes, and the names it does not know.

        Raises LookupError when only names were sent and there is no cache to look them up in.
        """
        if self._engine is None:
            if args.nodes is None:
                raise LookupError(NO_CACHE)
            engine = new_engine(self._config)
            for node in args.nodes:
                engine.upsert_node(node)
            return engine.schedule(args.pod, node_names=args.node_names), []
        with self._lock:
            known = set(self._engine.node_names())
            for node in args.nodes or []:
                if node.get("metadata", {}).get("name") not in known:
                    self._engine.upsert_node(node)
                    known.add(node["metadata"]["name"])
            unknown = [name for name in args.node_names if name not in known]
            return self._engine.schedule(args.pod, node_names=args.node_names), unknown
