"""KubeClient: config resolution, raw JSON round trips, and the one mapping of API errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from custom_scheduler import errors
from custom_scheduler.kube import paths
from custom_scheduler.kube.client import (
    MAX_RETRY_AFTER_ATTEMPTS,
    KubeClient,
    load_configuration,
    resolve_kubeconfig,
)

from tests.scheduler.controller.support import our_pod, sized_node
from tests.scheduler.fakeapi import FakeApiServer


@pytest.mark.parametrize(
    ("explicit", "environ", "want"),
    [
        pytest.param("/a/config", {"KUBECONFIG": "/b/config"}, "/a/config", id="flag-wins"),
        pytest.param(None, {"KUBECONFIG": "/b/config"}, "/b/config", id="env-next"),
        pytest.param(None, {"KUBECONFIG": "/b/config:/c/config"}, "/b/config:/c/config", id="env-whole-list"),
        pytest.param(None, {"KUBECONFIG": ":/b/config:"}, "/b/config", id="env-empty-entries-dropped"),
        pytest.param(None, {}, None, id="in-cluster-last"),
        pytest.param(None, {"KUBECONFIG": ""}, None, id="empty-env-is-unset"),
    ],
)
def test_kubeconfig_is_resolved_flag_then_env_then_in_cluster(
    explicit: str | None, environ: dict[str, str], want: str | None
) -> None:
    assert resolve_kubeconfig(explicit, environ) == want


def test_missing_config_is_a_kubeconfig_error_naming_where_it_looked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(errors.KubeconfigError, match="in-cluster"):
        load_configuration(None)
    with pytest.raises(errors.KubeconfigError, match="/nonexistent/kubeconfig"):
        load_configuration("/nonexistent/kubeconfig")


def test_plain_http_server_round_trip(fake_api: FakeApiServer, client: KubeClient) -> None:
    assert client.host.startswith("http://")
    created = client.post("/api/v1/namespaces/default/pods", our_pod("p"))
    assert created.status == 201
    listed = client.get(paths.PODS)
    assert [item["metadata"]["name"] for item in listed["items"]] == ["p"]


def test_binding_success_returns_the_status_body(fake_api: FakeApiServer, client: KubeClient) -> None:
    fake_api.cluster.create("nodes", sized_node("n1"))
    uid = client.post("/api/v1/namespaces/default/pods", our_pod("p")).body["metadata"]["uid"]
    binding = {"metadata": {"name": "p", "uid": uid}, "target": {"kind": "Node", "name": "n1"}}
    response = client.post(paths.pod("default", "p", "binding"), binding)
    assert (response.status, response.body["kind"], response.body["status"]) == (201, "Status", "Success")


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        pytest.param(403, errors.ApiForbiddenError, id="403"),
        pytest.param(404, errors.ApiNotFoundError, id="404"),
        pytest.param(409, errors.ApiConflictError, id="409"),
        pytest.param(410, errors.ApiGoneError, id="410"),
        pytest.param(422, errors.ApiInvalidError, id="422"),
        pytest.param(500, errors.ApiServerError, id="500"),
        pytest.param(503, errors.ApiServerError, id="503"),
        pytest.param(400, errors.ApiError, id="400-base-class"),
    ],
)
def test_http_errors_map_to_the_package_exception_tree(
    fake_api: FakeApiServer, client: KubeClient, status: int, error_class: type[errors.ApiError]
) -> None:
    fake_api.faults.fail(path="^/api/v1/nodes$", status=status)
    with pytest.raises(error_class) as raised:
        client.get(paths.NODES)
    assert raised.value.status == status
    assert isinstance(raised.value, errors.SchedulerError)


def test_retry_after_is_honoured_then_the_request_succeeds(fake_api: FakeApiServer, kubeconfig: str) -> None:
    slept: list[float] = []
    client = KubeClient(load_configuration(kubeconfig), sleep=slept.append)
    fake_api.faults.fail(path="^/api/v1/nodes$", status=429, retry_after=3, times=2)
    assert client.get(paths.NODES)["items"] == []
    assert slept == [3.0, 3.0]


def test_a_server_that_keeps_throttling_raises_too_many_requests(
    fake_api: FakeApiServer, kubeconfig: str
) -> None:
    slept: list[float] = []
    client = KubeClient(load_configuration(kubeconfig), sleep=slept.append)
    fake_api.faults.fail(path="^/api/v1/nodes$", status=429, retry_after=1)
    with pytest.raises(errors.ApiTooManyRequestsError) as raised:
        client.get(paths.NODES)
    assert raised.value.retry_after == 1.0
    assert len(slept) == MAX_RETRY_AFTER_ATTEMPTS


def test_a_500_without_retry_after_is_not_retried(fake_api: FakeApiServer, client: KubeClient) -> None:
    rule = fake_api.faults.fail(path="^/api/v1/nodes$", status=500, times=1)
    with pytest.raises(errors.ApiServerError):
        client.get(paths.NODES)
    assert rule.fired == 1
    assert client.get(paths.NODES)["items"] == []


def test_a_lost_response_is_unavailable_though_the_write_happened(
    fake_api: FakeApiServer, client: KubeClient
) -> None:
    fake_api.faults.lose_responses(path="/pods$", method="POST", times=1)
    with pytest.raises(errors.ApiUnavailableError):
        client.post("/api/v1/namespaces/default/pods", our_pod("p"))
    assert [p["metadata"]["name"] for p in fake_api.cluster.all("pods")] == ["p"]


def test_an_unreachable_server_is_unavailable(fake_api: FakeApiServer, kubeconfig: str) -> None:
    client = KubeClient(load_configuration(kubeconfig), request_timeout=2)
    fake_api.stop()
    with pytest.raises(errors.ApiUnavailableError):
        client.get(paths.NODES)


def test_retry_after_is_not_waited_out_once_the_caller_must_stop(
    fake_api: FakeApiServer, kubeconfig: str
) -> None:
    slept: list[float] = []
    client = KubeClient(load_configuration(kubeconfig), sleep=slept.append)
    rule = fake_api.faults.fail(path="^/api/v1/nodes$", method="POST", status=429, retry_after=5)
    with pytest.raises(errors.ApiTooManyRequestsError):
        client.post(paths.NODES, sized_node("n1"), should_continue=lambda: sum(slept) < 0.3)
    assert rule.fired == 1, "nothing is re-sent once the caller says stop"
    assert sum(slept) < 5, "the pause is cut short"


def test_retry_after_retries_stay_within_the_budget(fake_api: FakeApiServer, kubeconfig: str) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    client = KubeClient(load_configuration(kubeconfig), sleep=sleep, clock=lambda: now[0])
    rule = fake_api.faults.fail(path="^/api/v1/nodes$", method="POST", status=429, retry_after=3)
    with pytest.raises(errors.ApiTooManyRequestsError):
        client.post(paths.NODES, sized_node("n1"), budget_seconds=7)
    assert rule.fired == 3
    assert now[0] == 6.0


def test_every_kubeconfig_entry_counts_so_a_missing_first_file_is_skipped(
    fake_api: FakeApiServer, kubeconfig: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "missing"), kubeconfig]))
    client = KubeClient.from_kubeconfig(None)
    try:
        assert client.get(paths.NODES)["items"] == []
    finally:
        client.close()
