"""The column store behind the filters: rows move when nodes leave, arrays grow, pods stay counted."""

from __future__ import annotations

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.engine.harness import engine_with

GPU = "example.com/gpu"


def test_many_nodes_grow_the_columns_and_deletes_keep_rows_consistent() -> None:
    nodes = [
        make_node(f"n{i:03d}")
        .alloc({"cpu": "1", "memory": "1Gi", "pods": 10, GPU: i % 3})
        .label("i", str(i))
        .obj()
        for i in range(150)
    ]
    engine = engine_with(nodes)
    for i in range(0, 150, 2):
        engine.upsert_pod(make_pod(f"r{i}").container({"cpu": "900m", GPU: i % 3}).node(f"n{i:03d}").obj())
    for i in range(0, 150, 5):
        engine.delete_node(f"n{i:03d}")
    assert len(engine.node_names()) == 120
    result = engine.schedule(make_pod().container({"cpu": "500m", GPU: 1}).obj())
    want = sorted(f"n{i:03d}" for i in range(150) if i % 5 and i % 2 and i % 3)
    assert result.feasible == want
    assert result.reasons["n002"] == ["Insufficient cpu", f"Insufficient {GPU}"]
    assert result.reasons["n003"] == [f"Insufficient {GPU}"]


def test_label_columns_follow_node_changes() -> None:
    engine = engine_with([make_node("a").label("zone", "x").obj(), make_node("b").label("zone", "y").obj()])
    pod = make_pod().node_selector(zone="x").obj()
    assert engine.schedule(pod).feasible == ["a"]
    engine.upsert_node(make_node("b").label("zone", "x").obj())
    assert engine.schedule(pod).feasible == ["a", "b"]
    engine.delete_node("a")
    assert engine.schedule(pod).feasible == ["b"]


def test_pods_bound_before_their_node_is_known_count_when_it_arrives() -> None:
    engine = engine_with([])
    engine.upsert_pod(make_pod("r").req(cpu="3").node("late").obj())
    engine.upsert_node(make_node("late").obj())
    assert engine.schedule(make_pod().req(cpu="2").obj()).reasons == {"late": ["Insufficient cpu"]}
