"""Events and the PodScheduled condition, as kube-scheduler writes them."""

from __future__ import annotations

import pytest
from custom_scheduler.controller.events import EventRecorder, truncate_message
from custom_scheduler.kube.client import KubeClient

from tests.scheduler.controller.support import our_pod
from tests.scheduler.fakeapi import FakeApiServer
from tests.scheduler.fakeapi.invariants import wait_for

MESSAGE = "0/3 nodes are available: 3 Insufficient cpu."


@pytest.mark.parametrize(
    ("length", "want_length", "cut"),
    [
        pytest.param(100, 100, False, id="short-unchanged"),
        pytest.param(1024, 1024, False, id="exactly-the-limit"),
        pytest.param(1025, 1024, True, id="one-over-is-cut"),
        pytest.param(5000, 1024, True, id="long-is-cut"),
    ],
)
def test_messages_are_truncated_to_1024_characters_with_an_ellipsis(
    length: int, want_length: int, cut: bool
) -> None:
    message = truncate_message("x" * length)
    assert len(message) == want_length
    assert message.endswith(" ...") == cut


@pytest.fixture
def recorder(client: KubeClient) -> EventRecorder:
    return EventRecorder(client, component="custom-scheduler", instance="host_1234")


def test_scheduled_is_a_normal_event_naming_pod_and_node(
    fake_api: FakeApiServer, recorder: EventRecorder
) -> None:
    pod = fake_api.cluster.create("pods", our_pod("web"))
    recorder.scheduled(pod, "node-a")
    [event] = fake_api.cluster.events_for("default", "web")
    assert (event["type"], event["reason"], event["message"]) == (
        "Normal",
        "Scheduled",
        "Successfully assigned default/web to node-a",
    )
    assert event["involvedObject"]["uid"] == pod["metadata"]["uid"]
    assert (event["reportingComponent"], event["reportingInstance"]) == ("custom-scheduler", "host_1234")


def test_failed_scheduling_is_a_warning_plus_pod_scheduled_false(
    fake_api: FakeApiServer, recorder: EventRecorder
) -> None:
    pod = fake_api.cluster.create("pods", our_pod("big"))
    recorder.failed_scheduling(pod, MESSAGE)
    wait_for(
        lambda: "conditions" in fake_api.cluster.get("pods", "default", "big")["status"],
        timeout=10,
        what="patch",
    )
    [event] = fake_api.cluster.events_for("default", "big")
    assert (event["type"], event["reason"], event["message"]) == ("Warning", "FailedScheduling", MESSAGE)
    [condition] = fake_api.cluster.get("pods", "default", "big")["status"]["conditions"]
    assert (condition["type"], condition["status"], condition["reason"], condition["message"]) == (
        "PodScheduled",
        "False",
        "Unschedulable",
        MESSAGE,
    )


def test_an_unchanged_condition_is_not_patched_again(
    fake_api: FakeApiServer, recorder: EventRecorder
) -> None:
    fake_api.cluster.create("pods", our_pod("big"))
    recorder.failed_scheduling(fake_api.cluster.get("pods", "default", "big"), MESSAGE)
    wait_for(
        lambda: "conditions" in fake_api.cluster.get("pods", "default", "big")["status"],
        timeout=10,
        what="patch",
    )
    recorder.failed_scheduling(fake_api.cluster.get("pods", "default", "big"), MESSAGE)
    wait_for(lambda: len(fake_api.cluster.events_for("default", "big")) == 2, timeout=10, what="second event")
    recorder.shutdown(wait=True)
    assert [method for method, _ in fake_api.requests].count("PATCH") == 1


def test_a_server_without_strategic_merge_gets_a_merge_patch_keeping_other_conditions(
    fake_api: FakeApiServer, recorder: EventRecorder
) -> None:
    created = fake_api.cluster.create("pods", our_pod("big"))
    ready = {"type": "Initialized", "status": "True"}
    pod = fake_api.cluster.mutate("pods", "default", "big", lambda p: p["status"].update(conditions=[ready]))
    assert pod["metadata"]["uid"] == created["metadata"]["uid"]
    fake_api.faults.fail(path="/status$", method="PATCH", status=415, times=1)
    recorder.failed_scheduling(pod, MESSAGE)
    wait_for(
        lambda: len(fake_api.cluster.get("pods", "default", "big")["status"]["conditions"]) == 2,
        timeout=10,
        what="patch",
    )
    conditions = fake_api.cluster.get("pods", "default", "big")["status"]["conditions"]
    assert [c["type"] for c in conditions] == ["Initialized", "PodScheduled"]


def test_event_and_condition_writes_are_retried_after_server_errors(
    fake_api: FakeApiServer, recorder: EventRecorder
) -> None:
    pod = fake_api.cluster.create("pods", our_pod("big"))
    fake_api.faults.fail(path="/events$", method="POST", status=500, times=2)
    fake_api.faults.fail(path="/status$", method="PATCH", status=503, times=1)
    recorder.failed_scheduling(pod, MESSAGE)
    recorder.shutdown(wait=True)
    assert [e["reason"] for e in fake_api.cluster.events_for("default", "big")] == ["FailedScheduling"]
    assert (
        fake_api.cluster.get("pods", "default", "big")["status"]["conditions"][0]["reason"] == "Unschedulable"
    )


def test_an_event_whose_answer_was_lost_is_not_written_twice(
    fake_api: FakeApiServer, recorder: EventRecorder
) -> None:
    pod = fake_api.cluster.create("pods", our_pod("web"))
    fake_api.faults.lose_responses(path="/events$", times=1)
    recorder.scheduled(pod, "node-a")
    assert len(fake_api.cluster.events_for("default", "web")) == 1


def patches(fake_api: FakeApiServer) -> int:
    return [method for method, _ in fake_api.requests].count("PATCH")


def test_the_condition_patch_is_guarded_by_uid_so_a_recreated_pod_is_not_patched(
    fake_api: FakeApiServer, recorder: EventRecorder
) -> None:
    old = fake_api.cluster.create("pods", our_pod("big"))
    fake_api.cluster.delete("pods", "default", "big")
    fake_api.cluster.create("pods", our_pod("big"))
    recorder.failed_scheduling(old, MESSAGE)
    recorder.shutdown(wait=True)
    assert patches(fake_api) == 1
    assert "conditions" not in fake_api.cluster.get("pods", "default", "big")["status"]


def test_no_condition_is_patched_on_a_pod_the_scheduler_no_longer_knows_as_pending(
    fake_api: FakeApiServer, client: KubeClient
) -> None:
    recorder = EventRecorder(
        client, component="custom-scheduler", instance="i", still_pending=lambda uid: False
    )
    pod = fake_api.cluster.create("pods", our_pod("big"))
    recorder.failed_scheduling(pod, MESSAGE)
    recorder.shutdown(wait=True)
    assert [e["reason"] for e in fake_api.cluster.events_for("default", "big")] == ["FailedScheduling"]
    assert patches(fake_api) == 0


def test_a_condition_write_being_retried_stops_once_the_pod_is_bound(
    fake_api: FakeApiServer, client: KubeClient
) -> None:
    pod = fake_api.cluster.create("pods", our_pod("big"))
    asked: list[str] = []

    def still_pending(uid: str) -> bool:
        asked.append(uid)
        return patches(fake_api) == 0  # bound while the first attempt failed

    recorder = EventRecorder(client, component="custom-scheduler", instance="i", still_pending=still_pending)
    fake_api.faults.fail(path="/status$", method="PATCH", status=503, times=1)
    recorder.failed_scheduling(pod, MESSAGE)
    recorder.shutdown(wait=True)
    assert patches(fake_api) == 1
    assert "conditions" not in fake_api.cluster.get("pods", "default", "big")["status"]
    assert set(asked) == {pod["metadata"]["uid"]}
