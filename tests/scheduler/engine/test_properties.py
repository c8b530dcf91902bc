"""Properties on random clusters: the vectorised filters agree with a per-node reference, and no sequence
of placements ever over-commits a node."""

from __future__ import annotations

from typing import Any

from custom_scheduler.config import parse_config
from custom_scheduler.objects import parse_node, parse_pod
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.scheduler.builders import expression, make_node, make_pod, name_field, term
from tests.scheduler.engine.harness import engine_with, run_score
from tests.scheduler.engine.reference import BUSINESS_LINE, reference_reasons, reference_scores

GPU = "example.com/gpu"
TAINTS = [
    ("dedicated", "gpu", "NoSchedule"),
    ("node.kubernetes.io/not-ready", "", "NoExecute"),
    ("soft", "x", "PreferNoSchedule"),
    (BUSINESS_LINE, "payments", "NoSchedule"),
    ("dedicated", "db", "NoSchedule"),
]
TOLERATIONS = [
    {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
    {"key": "dedicated", "operator": "Exists"},
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
    {"operator": "Exists"},
    {"key": "dedicated", "value": "db", "effect": "NoExecute"},
]
REQUIREMENTS = [
    expression("zone", "In", "a"),
    expression("zone", "NotIn", "a", "b"),
    expression("disk", "Exists"),
    expression("disk", "DoesNotExist"),
    expression("tier", "Gt", "5"),
    expression("tier", "Lt", "12"),
    expression("tier", "Gt", "x"),
    expression("zone", "In"),
    expression("bad key!", "Exists"),
]
FIELDS = [
    name_field("In", "n0"),
    name_field("NotIn", "n1"),
    name_field("In", "n1", "n2"),
    name_field("In", "n3"),
]
PORTS = [(80, "TCP", ""), (80, "TCP", "10.0.0.1"), (80, "UDP", ""), (443, "TCP", "10.0.0.2")]

cpu = st.sampled_from(["0", "100m", "250m", "500m", "1", "1500m", "2"])
memory = st.sampled_from(["0", "128Mi", "512Mi", "1Gi", "2Gi"])


@st.composite
def nodes(draw: st.DrawFn) -> list[dict[str, Any]]:
    result = []
    for index in range(draw(st.integers(1, 6))):
        node = make_node(f"n{index}").alloc(
            {
                "cpu": draw(st.sampled_from(["0", "1", "2", "4"])),
                "memory": draw(st.sampled_from(["1Gi", "2Gi", "4Gi"])),
                "pods": draw(st.integers(0, 6)),
                "ephemeral-storage": draw(st.sampled_from(["0", "10Gi"])),
                GPU: draw(st.integers(0, 2)),
            }
        )
        labels = {"kubernetes.io/hostname": f"n{index}"}
        for key, values in (("zone", ["a", "b"]), ("disk", ["ssd"]), ("tier", ["3", "7", "15", "x"])):
            if draw(st.booleans()):
                labels[key] = draw(st.sampled_from(values))
        line = draw(st.sampled_from([None, "payments", "search"]))
        if line:
            labels[BUSINESS_LINE] = line
        node.labels(labels)
        for key, value, effect in draw(st.lists(st.sampled_from(TAINTS), max_size=2)):
            node.taint(key, value, effect)
        if draw(st.integers(0, 5)) == 0:
            node.unschedulable()
        result.append(node.obj())
    return result


@st.composite
def pods(draw: st.DrawFn, name: str, node_names: list[str] | None = None) -> dict[str, Any]:
    pod = make_pod(name)
    requests: dict[str, str | int] = {"cpu": draw(cpu), "memory": draw(memory)}
    if draw(st.integers(0, 4)) == 0:
        requests[GPU] = draw(st.integers(0, 2))
    if draw(st.integers(0, 6)) == 0:
        requests["ephemeral-storage"] = "5Gi"
    if draw(st.integers(0, 5)) == 0:
        pod.container({})
    else:
        pod.container(requests)
    if draw(st.integers(0, 4)) == 0:
        pod.init_container({"cpu": draw(cpu), "memory": draw(memory)}, sidecar=draw(st.integers(0, 5)) == 0)
    if draw(st.integers(0, 5)) == 0:
        pod.overhead(cpu="100m", memory="64Mi")
    for port, protocol, ip in draw(st.lists(st.sampled_from(PORTS), max_size=2, unique=True)):
        pod.host_port(port, protocol, ip)
    if node_names is not None:
        pod.node(draw(st.sampled_from(node_names)))
        return pod.obj()
    for toleration in draw(st.lists(st.sampled_from(TOLERATIONS), max_size=2)):
        pod.toleration(
            toleration.get("key", ""),
            toleration.get("value", ""),
            operator=toleration.get("operator", ""),
            effect=toleration.get("effect", ""),
        )
    if draw(st.booleans()):
        pod.node_selector_label("zone", draw(st.sampled_from(["a", "b"])))
    if draw(st.booleans()):
        terms = []
        for _ in range(draw(st.integers(0, 2))):
            expressions = draw(st.lists(st.sampled_from(REQUIREMENTS), max_size=2))
            fields = draw(st.lists(st.sampled_from(FIELDS), max_size=2))
            terms.append(term(*expressions, fields=fields or None))
        pod.required(*terms)
    for _ in range(draw(st.integers(0, 3))):
        expressions = draw(st.lists(st.sampled_from(REQUIREMENTS), min_size=1, max_size=2))
        pod.preferred(draw(st.integers(0, 100)), term(*expressions))
    line = draw(st.sampled_from([None, "payments", "search"]))
    if line:
        pod.label(BUSINESS_LINE, line)
    return pod.obj()


@st.composite
def clusters(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    node_objs = draw(nodes())
    names = [n["metadata"]["name"] for n in node_objs]
    running = [draw(pods(f"r{i}", names)) for i in range(draw(st.integers(0, 8)))]
    return node_objs, running, draw(pods("pending"))


SPILL = frozenset({"search"})
CONFIG = parse_config({"businessLine": {"spillToShared": sorted(SPILL)}}, source="test")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_vectorised_filters_agree_with_the_per_node_reference(
    cluster: tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]],
) -> None:
    node_objs, running, pending = cluster
    result = engine_with(node_objs, running, config=CONFIG).schedule(pending)
    pods_on: dict[str, list[Any]] = {}
    for obj in running:
        pod = parse_pod(obj)
        pods_on.setdefault(pod.node_name, []).append(pod)
    want = reference_reasons(parse_pod(pending), [parse_node(n) for n in node_objs], pods_on, spill=SPILL)
    assert result.reasons == want
    assert result.feasible == sorted({n["metadata"]["name"] for n in node_objs} - set(want))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    clusters(), st.sampled_from(["LeastAllocated", "BalancedAllocation", "TaintToleration", "NodeAffinity"])
)
def test_kube_scores_agree_with_the_per_node_reference(
    cluster: tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]], plugin: str
) -> None:
    node_objs, running, pending = cluster
    pods_on: dict[str, list[Any]] = {}
    for obj in running:
        pod = parse_pod(obj)
        pods_on.setdefault(pod.node_name, []).append(pod)
    want = reference_scores(plugin, parse_pod(pending), [parse_node(n) for n in node_objs], pods_on)
    assert run_score(plugin, pending, node_objs, running) == want


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nodes(), st.data())
def test_no_sequence_of_placements_over_commits_a_node(
    node_objs: list[dict[str, Any]], data: st.DataObject
) -> None:
    engine = engine_with(node_objs, config=CONFIG, seed=data.draw(st.integers(0, 3)))
    placed: dict[str, list[Any]] = {}
    for index in range(data.draw(st.integers(1, 15))):
        obj = data.draw(pods(f"p{index}"))
        node = engine.schedule(obj).node
        if node is not None:
            engine.assume(obj, node)
            placed.setdefault(node, []).append(parse_pod(obj))
    for obj in node_objs:
        node = parse_node(obj)
        on_node = placed.get(node.name, [])
        assert len(on_node) <= node.allowed_pods
        assert sum(p.requests.cpu for p in on_node) <= node.allocatable.cpu
        assert sum(p.requests.memory for p in on_node) <= node.allocatable.memory
        assert sum(p.requests.ephemeral_storage for p in on_node) <= node.allocatable.ephemeral_storage
        gpus = sum(dict(p.requests.scalars).get(GPU, 0) for p in on_node)
        assert gpus <= dict(node.allocatable.scalars).get(GPU, 0)
        ports = [(hp.protocol, hp.port) for p in on_node for hp in p.host_ports if hp.ip == "0.0.0.0"]
        assert len(ports) == len(set(ports))
