"""The binder's outcomes against the fake API: bound, conflict (someone else bound it), gone, failed,
and a lost answer settled by reading the pod back before anything is re-sent."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import pytest
from custom_scheduler.controller.binder import Binder, BindOutcome, Result
from custom_scheduler.controller.events import EventRecorder
from custom_scheduler.kube.client import KubeClient

from tests.scheduler.controller.support import our_pod, sized_node
from tests.scheduler.fakeapi import FakeApiServer
from tests.scheduler.fakeapi.invariants import wait_for


class Harness:
    def __init__(
        self,
        fake_api: FakeApiServer,
        client: KubeClient,
        *,
        leading: bool = True,
        may_bind: Callable[[], bool] | None = None,
    ) -> None:
        self.nodes = {"node-a", "node-b"}
        self.cluster = fake_api.cluster
        for name in ("node-a", "node-b"):
            self.cluster.create("nodes", sized_node(name))
        self.pod = self.cluster.create("pods", our_pod("web"))
        self.outcomes: queue.Queue[BindOutcome] = queue.Queue()
        recorder = EventRecorder(client, component="custom-scheduler", instance="test")
        self.binder = Binder(
            client,
            recorder=recorder,
            report=self.outcomes.put,
            may_bind=may_bind or (lambda: leading),
            node_exists=self.nodes.__contains__,
        )

    def bind(self, node: str = "node-a", pod: dict[str, Any] | None = None) -> BindOutcome:
        self.binder.submit(pod or self.pod, node, started=0.0)
        return self.outcomes.get(timeout=30)

    def bound_to(self) -> str | None:
        node: str | None = self.cluster.get("pods", "default", "web")["spec"].get("nodeName")
        return node


@pytest.fixture
def harness(fake_api: FakeApiServer, client: KubeClient) -> Harness:
    return Harness(fake_api, client)


def test_a_binding_carries_the_uid_and_records_a_scheduled_event(harness: Harness) -> None:
    outcome = harness.bind()
    assert outcome.result is Result.BOUND
    assert harness.bound_to() == "node-a"
    assert [r.uid for r in harness.cluster.bindings] == [harness.pod["metadata"]["uid"]]
    wait_for(lambda: harness.cluster.events_for("default", "web"), timeout=10, what="the Scheduled event")
    assert [e["reason"] for e in harness.cluster.events_for("default", "web")] == ["Scheduled"]


def test_a_pod_bound_by_someone_else_is_a_conflict_with_the_pod_read_back(harness: Harness) -> None:
    harness.cluster.bind("default", "web", {"target": {"name": "node-b"}}, by="competitor")
    outcome = harness.bind()
    assert outcome.result is Result.CONFLICT
    assert outcome.current is not None
    assert outcome.current["spec"]["nodeName"] == "node-b"
    assert harness.cluster.events_for("default", "web") == []


def test_a_recreated_pod_with_the_same_name_is_not_bound(harness: Harness) -> None:
    harness.cluster.delete("pods", "default", "web")
    harness.cluster.create("pods", our_pod("web"))
    outcome = harness.bind()
    assert outcome.result is Result.CONFLICT
    assert harness.bound_to() is None


def test_a_deleted_pod_is_gone(harness: Harness) -> None:
    harness.cluster.delete("pods", "default", "web")
    assert harness.bind().result is Result.GONE


def test_a_lost_answer_to_a_committed_binding_counts_as_bound(
    fake_api: FakeApiServer, harness: Harness
) -> None:
    fake_api.faults.lose_responses(path="/binding$", times=1)
    assert harness.bind().result is Result.BOUND
    assert len(harness.cluster.bindings) == 1


def test_a_server_error_that_did_not_bind_is_a_failure_to_retry(
    fake_api: FakeApiServer, harness: Harness
) -> None:
    fake_api.faults.fail(path="/binding$", status=500, times=1)
    outcome = harness.bind()
    assert outcome.result is Result.FAILED
    assert harness.bound_to() is None


def test_without_leadership_nothing_is_sent(fake_api: FakeApiServer, client: KubeClient) -> None:
    harness = Harness(fake_api, client, leading=False)
    assert harness.bind().result is Result.ABANDONED
    assert harness.cluster.bindings == []


def test_a_node_deleted_since_the_decision_is_not_bound_to(harness: Harness) -> None:
    harness.nodes.discard("node-a")
    assert harness.bind("node-a").result is Result.ABANDONED
    assert harness.cluster.bindings == []


def test_an_answer_lost_with_the_pod_unreadable_is_unknown(fake_api: FakeApiServer, harness: Harness) -> None:
    fake_api.faults.lose_responses(path="/binding$", times=1)
    fake_api.faults.fail(path="/pods/web$", method="GET", status=500)
    outcome = harness.bind()
    assert outcome.result is Result.UNKNOWN
    assert harness.bound_to() == "node-a", "the binding did land: keeping the assumption was right"


def test_a_conflict_on_a_pod_that_is_still_pending_is_a_failure_to_retry(
    fake_api: FakeApiServer, harness: Harness
) -> None:
    fake_api.faults.fail(path="/binding$", status=409, times=1)
    outcome = harness.bind()
    assert outcome.result is Result.FAILED
    assert harness.bound_to() is None
    assert harness.bind().result is Result.BOUND


def test_a_conflict_on_a_pod_being_deleted_is_final(fake_api: FakeApiServer, harness: Harness) -> None:
    fake_api.cluster.mutate(
        "pods", "default", "web", lambda p: p["metadata"].update(deletionTimestamp="2024-01-01T00:00:00Z")
    )
    fake_api.faults.fail(path="/binding$", status=409, times=1)
    assert harness.bind().result is Result.CONFLICT


def test_no_binding_is_resent_once_leadership_is_lost_while_the_server_throttles(
    fake_api: FakeApiServer, client: KubeClient
) -> None:
    def binding_requests() -> int:
        return sum(1 for _, path in fake_api.requests if path.endswith("/binding"))

    # Leadership is lost as soon as the first binding request has reached the server.
    harness = Harness(fake_api, client, may_bind=lambda: binding_requests() == 0)
    fake_api.faults.fail(path="/binding$", status=429, retry_after=1)
    outcome = harness.bind()
    assert outcome.result is Result.ABANDONED
    assert binding_requests() == 1
    assert harness.bound_to() is None


def test_shutdown_stops_a_binding_waiting_out_retry_after(fake_api: FakeApiServer, harness: Harness) -> None:
    throttle = fake_api.faults.fail(path="/binding$", status=429, retry_after=10)
    harness.binder.submit(harness.pod, "node-a", started=0.0)
    wait_for(lambda: throttle.fired, timeout=10, what="the first throttled binding")
    assert harness.binder.shutdown(grace_seconds=30)
    assert harness.outcomes.get(timeout=30).result is Result.ABANDONED
    assert throttle.fired == 1


def test_a_binding_never_retries_past_its_budget(fake_api: FakeApiServer, client: KubeClient) -> None:
    harness = Harness(fake_api, client)
    harness.binder = Binder(
        client,
        recorder=EventRecorder(client, component="custom-scheduler", instance="test"),
        report=harness.outcomes.put,
        may_bind=lambda: True,
        node_exists=harness.nodes.__contains__,
        retry_budget_seconds=0.5,
    )
    throttle = fake_api.faults.fail(path="/binding$", status=429, retry_after=1)
    assert harness.bind().result is Result.FAILED
    assert throttle.fired == 1
