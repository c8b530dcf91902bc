"""The extender over real HTTP: business-line isolation and load-aware scores in kube-scheduler's JSON
shapes, with and without its own cluster cache (fed from the fake API)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.controller.metrics import SchedulerMetrics
from custom_scheduler.extender.decisions import NO_CACHE, Extender, extender_score
from custom_scheduler.extender.server import ExtenderServer, _start_cache
from custom_scheduler.kube.client import KubeClient
from custom_scheduler.plugins import business_line

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.fakeapi import FakeApiServer
from tests.scheduler.fakeapi.invariants import wait_for

LINE = "kubevps.dev/business-line"


def nodes() -> list[dict[str, Any]]:
    return [
        make_node("pay-1").label(LINE, "payments").taint(LINE, "payments").obj(),
        make_node("pay-2").label(LINE, "payments").taint(LINE, "payments").obj(),
        make_node("shared-1").obj(),
    ]


def payments_pod() -> dict[str, Any]:
    return make_pod("checkout").label(LINE, "payments").req(cpu="500m").obj()


Post = Callable[[str, dict[str, Any]], Any]


def serve(extender: Extender, ready: Callable[[], bool] = lambda: True) -> tuple[ExtenderServer, Post]:
    server = ExtenderServer("127.0.0.1:0", extender=extender, metrics=SchedulerMetrics(), ready=ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def post(path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}{path}",
            data=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            return orjson.loads(response.read())

    return server, post


@pytest.fixture
def stateless() -> Iterator[Post]:
    server, post = serve(Extender(SchedulerConfig()))
    yield post
    server.shutdown()


def test_filter_keeps_a_business_line_on_its_nodes(stateless: Post) -> None:
    answer = stateless(
        "/scheduler/filter", {"Pod": payments_pod(), "Nodes": {"items": nodes()}, "NodeNames": None}
    )
    assert [n["metadata"]["name"] for n in answer["Nodes"]["items"]] == ["pay-1", "pay-2"]
    assert answer["NodeNames"] is None
    assert answer["FailedNodes"] == {}
    assert answer["FailedAndUnresolvableNodes"] == {"shared-1": business_line.ERR_REASON}
    assert answer["Error"] == ""


def test_filter_keeps_unlabelled_pods_in_the_shared_pool(stateless: Post) -> None:
    answer = stateless("/filter", {"Pod": make_pod("web").obj(), "Nodes": {"items": nodes()}})
    assert [n["metadata"]["name"] for n in answer["Nodes"]["items"]] == ["shared-1"]
    assert sorted(answer["FailedAndUnresolvableNodes"]) == ["pay-1", "pay-2"]


def test_prioritize_answers_a_host_priority_list_scored_0_to_10(stateless: Post) -> None:
    answer = stateless("/prioritize", {"Pod": payments_pod(), "Nodes": {"items": nodes()}})
    assert [entry["Host"] for entry in answer] == ["pay-1", "pay-2", "shared-1"]
    assert all(0 <= entry["Score"] <= 10 for entry in answer)
    assert answer[2]["Score"] == 0


def test_names_only_without_a_cache_is_an_error_saying_what_to_configure(stateless: Post) -> None:
    answer = stateless("/filter", {"Pod": payments_pod(), "Nodes": None, "NodeNames": ["pay-1"]})
    assert answer["Error"] == NO_CACHE


def test_a_malformed_request_is_answered_with_an_error_not_a_crash(stateless: Post) -> None:
    assert stateless("/filter", {"NodeNames": ["a"]})["Error"].startswith("ExtenderArgs.Pod")
    assert stateless("/prioritize", {"NodeNames": ["a"]}) == []


@pytest.mark.parametrize(
    ("total", "weights", "want"),
    [
        pytest.param(0, {"NodeLoad": 5}, 0, id="zero"),
        pytest.param(500, {"NodeLoad": 5}, 10, id="best"),
        pytest.param(
            350, {"NodeLoad": 5, "NetworkBandwidth": 1, "BusinessPriority": 1}, 5, id="weighted-half"
        ),
        pytest.param(10, {}, 0, id="no-weights"),
    ],
)
def test_engine_totals_rescale_to_the_extender_range(total: int, weights: dict[str, int], want: int) -> None:
    assert extender_score(total, weights) == want


def test_with_a_kubeconfig_names_only_requests_use_the_watched_cache_and_node_metrics(
    tmp_path: Path,
) -> None:
    api = FakeApiServer().start()
    stop = threading.Event()
    try:
        for node in nodes():
            api.cluster.create("nodes", node)
        api.cluster.set_node_metrics("pay-1", cpu="3500m", memory="7Gi")
        api.cluster.set_node_metrics("pay-2", cpu="100m", memory="1Gi")
        client = KubeClient.from_kubeconfig(api.kubeconfig(str(tmp_path / "kubeconfig")))
        metrics = SchedulerMetrics()
        extender, state = _start_cache(SchedulerConfig(), client, metrics, stop)
        server, post = serve(extender, ready=lambda: state.synced)
        wait_for(
            lambda: state.synced and metrics.node_metrics_available._value.get() == 1, timeout=30, what="sync"
        )
        filtered = post(
            "/filter", {"Pod": payments_pod(), "Nodes": None, "NodeNames": ["pay-1", "pay-2", "gone"]}
        )
        assert filtered["NodeNames"] == ["pay-1", "pay-2"]
        assert filtered["Nodes"] is None
        assert list(filtered["FailedNodes"]) == ["gone"]
        wait_for(
            lambda: (
                post("/prioritize", {"Pod": payments_pod(), "NodeNames": ["pay-1", "pay-2"]})[1]["Score"]
                > post("/prioritize", {"Pod": payments_pod(), "NodeNames": ["pay-1", "pay-2"]})[0]["Score"]
            ),
            timeout=30,
            what="the idle node to outscore the busy one",
        )
        server.shutdown()
    finally:
        stop.set()
        api.stop()


def test_probes_and_metrics_are_served() -> None:
    synced = False
    server, _ = serve(Extender(SchedulerConfig()), ready=lambda: synced)
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert urllib.request.urlopen(f"{base}/healthz", timeout=5).status == 200
        with pytest.raises(urllib.error.HTTPError) as not_ready:
            urllib.request.urlopen(f"{base}/readyz", timeout=5)
        assert not_ready.value.code == 503
        synced = True
        assert urllib.request.urlopen(f"{base}/readyz", timeout=5).status == 200
        assert (
            b"custom_scheduler_node_metrics_available"
            in urllib.request.urlopen(f"{base}/metrics", timeout=5).read()
        )
    finally:
        server.shutdown()
