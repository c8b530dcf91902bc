"""Runs one plugin (or the whole default profile) through the real Engine, for table-driven tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from custom_scheduler.config import SchedulerConfig
from custom_scheduler.engine import Engine, ScheduleResult

from tests.scheduler.builders import make_node, make_pod

FIXED_NOW = 1_700_000_000.0

Obj = Mapping[str, Any]


def engine_with(
    nodes: Iterable[Obj],
    running: Iterable[Obj] = (),
    metrics: Iterable[Obj] = (),
    *,
    config: SchedulerConfig | None = None,
    filters: list[str] | None = None,
    scores: dict[str, int] | None = None,
    seed: int = 0,
) -> Engine:
    """An engine on a fixed clock holding these nodes, running pods and (fresh) NodeMetrics."""
    engine = Engine(
        config or SchedulerConfig(), seed=seed, filters=filters, scores=scores, clock=lambda: FIXED_NOW
    )
    for node in nodes:
        engine.upsert_node(node)
    for pod in running:
        engine.upsert_pod(pod)
    for item in metrics:
        engine.set_node_metrics(item, observed_at=FIXED_NOW)
    return engine


def run_filter(
    plugin: str,
    pod: Obj,
    nodes: Iterable[Obj],
    running: Iterable[Obj] = (),
    *,
    config: SchedulerConfig | None = None,
) -> ScheduleResult:
    """Schedule ``pod`` with only the filter ``plugin`` and no scoring."""
    return engine_with(nodes, running, config=config, filters=[plugin], scores={}).schedule(pod)


def run_score(
    plugin: str,
    pod: Obj,
    nodes: Iterable[Obj],
    running: Iterable[Obj] = (),
    metrics: Iterable[Obj] = (),
    *,
    config: SchedulerConfig | None = None,
) -> dict[str, int]:
    """Every node's normalised 0-100 score from the score ``plugin`` alone (weight 1, no filters)."""
    engine = engine_with(nodes, running, metrics, config=config, filters=[], scores={plugin: 1})
    return engine.schedule(pod).scores


def resource_node(name: str, cpu: int, memory: int) -> dict[str, Any]:
    """A node with ``cpu`` millicores and ``memory`` bytes allocatable, sized as kube's score tests do."""
    return make_node(name).alloc(cpu=f"{cpu}m", memory=memory, pods=110).obj()


def resource_pod(*containers: tuple[int, int], name: str = "pod", on: str = "") -> dict[str, Any]:
    """A pod with one container per (millicores, bytes) request, running on ``on`` if given."""
    builder = make_pod(name)
    for cpu, memory in containers:
        builder.container({"cpu": f"{cpu}m", "memory": memory})
    if on:
        builder.node(on)
    return builder.obj()
