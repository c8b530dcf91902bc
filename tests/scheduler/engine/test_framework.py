"""The framework: registry, plugin order, first failure per node, score range, seeded tie-breaking."""

from __future__ import annotations

import random

import numpy as np
import pytest
from custom_scheduler.cluster import Cluster, Int64Array
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.engine import Engine
from custom_scheduler.framework.interface import default_normalize
from custom_scheduler.framework.registry import DuplicatePluginError, Registry
from custom_scheduler.framework.runtime import PluginScoreError, Profile
from custom_scheduler.objects import PodInfo, parse_pod
from custom_scheduler.plugins import default_registry, names, node_unschedulable

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.engine.harness import engine_with


def test_registering_a_name_twice_is_an_error() -> None:
    registry = Registry()
    registry.register_filter(names.NODE_UNSCHEDULABLE, node_unschedulable.new)
    with pytest.raises(DuplicatePluginError, match="already exists"):
        registry.register_filter(names.NODE_UNSCHEDULABLE, node_unschedulable.new)


def test_every_filter_is_registered_in_kube_scheduler_order_then_ours() -> None:
    assert tuple(default_registry().filter_names()) == names.FILTER_ORDER
    assert names.FILTER_ORDER[:6] == (
        "NodeUnschedulable",
        "NodeName",
        "TaintToleration",
        "NodeAffinity",
        "NodePorts",
        "NodeResourcesFit",
    )


def test_every_configurable_weight_names_a_registered_scorer() -> None:
    assert set(SchedulerConfig().weights.by_plugin()) == set(default_registry().score_names())


def test_unknown_plugin_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown plugin"):
        Engine(SchedulerConfig(), filters=["NoSuchFilter"])


def test_filters_run_in_kube_scheduler_order_whatever_order_they_are_given() -> None:
    engine = engine_with(
        [make_node("n").unschedulable().taint("k").obj()],
        filters=[names.TAINT_TOLERATION, names.NODE_UNSCHEDULABLE],
        scores={},
    )
    assert engine.schedule(make_pod().obj()).reasons == {"n": ["node(s) were unschedulable"]}


@pytest.mark.parametrize(
    ("scores", "reverse", "want"),
    [
        ([0, 0, 0], False, [0, 0, 0]),
        ([0, 0, 0], True, [100, 100, 100]),
        ([1, 2, 4], False, [25, 50, 100]),
        ([1, 2, 3], True, [67, 34, 0]),
    ],
    ids=["all zero", "all zero reversed", "scaled to the maximum", "reversed, integer division first"],
)
def test_default_normalize(scores: list[int], reverse: bool, want: list[int]) -> None:
    assert default_normalize(np.array(scores, dtype=np.int64), reverse=reverse).tolist() == want


class _OutOfRange:
    name = "OutOfRange"

    def score(self, pod: PodInfo, cluster: Cluster) -> Int64Array:
        return np.full(cluster.size, 101, dtype=np.int64)

    def normalize(self, scores: Int64Array) -> Int64Array:
        return scores


def test_a_score_outside_0_to_100_is_a_plugin_bug() -> None:
    cluster = engine_with([make_node("n").obj()]).cluster
    profile = Profile([], [(_OutOfRange(), 1)], rng=random.Random(0))
    with pytest.raises(PluginScoreError, match="invalid score"):
        profile.schedule(parse_pod(make_pod().obj()), cluster)


def test_ties_break_at_random_but_reproducibly_with_a_seed() -> None:
    nodes = [make_node(f"n{i}").obj() for i in range(8)]
    pod = make_pod().obj()

    def picks(seed: int) -> list[str | None]:
        engine = engine_with(nodes, seed=seed)
        return [engine.schedule(pod).node for _ in range(20)]

    assert picks(1) == picks(1)
    assert len(set(picks(1))) > 1


def test_percentage_of_nodes_to_score_limits_scoring_on_big_clusters() -> None:
    config = SchedulerConfig.model_validate({"percentageOfNodesToScore": 10})
    engine = engine_with([make_node(f"n{i:03d}").obj() for i in range(300)], config=config)
    assert len(engine.schedule(make_pod().obj()).feasible) == 100
