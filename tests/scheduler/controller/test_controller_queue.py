"""The scheduling queue: priority then age, backoff 1 s doubling to 10 s, the unschedulable set and its
moves on cluster events or after 5 minutes, gated pods. Time is a fake clock, stepped by the tests."""

from __future__ import annotations

import pytest
from custom_scheduler.controller.queue import SchedulingQueue


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> SchedulingQueue:
    return SchedulingQueue(initial_backoff=1, max_backoff=10, max_in_unschedulable=300, clock=clock)


def pop_all(queue: SchedulingQueue) -> list[str]:
    popped = []
    while (entry := queue.pop()) is not None:
        popped.append(entry.uid)
    return popped


def test_higher_priority_first_then_older_first(queue: SchedulingQueue, clock: FakeClock) -> None:
    for uid, priority in [("old-low", 0), ("old-high", 100), ("new-low", 0), ("new-high", 100)]:
        queue.add(uid, priority=priority)
        clock.advance(1)
    assert pop_all(queue) == ["old-high", "new-high", "old-low", "new-low"]


@pytest.mark.parametrize(
    ("attempts", "want"),
    [
        pytest.param(1, 1, id="first-failure-1s"),
        pytest.param(2, 2, id="doubles"),
        pytest.param(4, 8, id="fourth-8s"),
        pytest.param(5, 10, id="capped-at-10s"),
        pytest.param(50, 10, id="stays-capped"),
    ],
)
def test_backoff_duration_doubles_from_initial_to_max(
    queue: SchedulingQueue, attempts: int, want: float
) -> None:
    assert queue.backoff_duration(attempts) == want


def test_a_failed_pod_waits_out_its_backoff(queue: SchedulingQueue, clock: FakeClock) -> None:
    queue.add("p", priority=0)
    for expected_wait in (1, 2, 4):
        entry = queue.pop()
        assert entry is not None
        queue.backoff("p")
        assert queue.where("p") == "backoff"
        clock.advance(expected_wait - 0.01)
        assert queue.pop() is None
        clock.advance(0.01)
    assert pop_all(queue) == ["p"]


def test_unschedulable_pods_wait_for_a_cluster_event(queue: SchedulingQueue, clock: FakeClock) -> None:
    queue.add("p", priority=0)
    queue.pop()
    queue.unschedulable("p")
    clock.advance(60)
    assert queue.pop() is None
    assert queue.move_all() == 1
    assert pop_all(queue) == ["p"]


def test_an_event_during_backoff_moves_the_pod_to_backoff_not_active(
    queue: SchedulingQueue, clock: FakeClock
) -> None:
    queue.add("p", priority=0)
    queue.pop()
    queue.unschedulable("p")
    clock.advance(0.5)
    queue.move_all()
    assert queue.where("p") == "backoff"
    clock.advance(0.5)
    assert pop_all(queue) == ["p"]


def test_unschedulable_pods_are_retried_after_five_minutes_without_events(
    queue: SchedulingQueue, clock: FakeClock
) -> None:
    queue.add("p", priority=0)
    queue.pop()
    queue.unschedulable("p")
    assert queue.next_wakeup() == 300
    clock.advance(299)
    assert queue.pop() is None
    clock.advance(1)
    assert pop_all(queue) == ["p"]


def test_gated_pods_are_counted_but_never_popped_until_their_gates_lift(queue: SchedulingQueue) -> None:
    queue.add("p", priority=0, gated=True)
    assert queue.pop() is None
    assert queue.counts() == {"active": 0, "backoff": 0, "unschedulable": 0, "gated": 1}
    queue.update("p", priority=0, gated=False, changed=True)
    assert pop_all(queue) == ["p"]


def test_a_spec_change_frees_an_unschedulable_pod(queue: SchedulingQueue, clock: FakeClock) -> None:
    queue.add("p", priority=0)
    queue.pop()
    queue.unschedulable("p")
    clock.advance(5)
    queue.update("p", priority=0, gated=False, changed=False)
    assert queue.where("p") == "unschedulable"
    queue.update("p", priority=0, gated=False, changed=True)
    assert pop_all(queue) == ["p"]


def test_removed_and_in_flight_pods_are_not_requeued_by_updates(queue: SchedulingQueue) -> None:
    queue.add("a", priority=0)
    queue.add("b", priority=0)
    assert queue.pop() is not None
    queue.add("a", priority=5)
    assert queue.where("a") == "in_flight"
    queue.remove("b")
    queue.backoff("b")
    assert pop_all(queue) == []
    assert "b" not in queue


def test_counts_by_queue(queue: SchedulingQueue) -> None:
    for uid in "abcd":
        queue.add(uid, priority=0)
    queue.add("g", priority=0, gated=True)
    queue.pop()
    queue.backoff("a")
    queue.pop()
    queue.unschedulable("b")
    queue.pop()
    assert queue.counts() == {"active": 1, "backoff": 1, "unschedulable": 1, "gated": 1}
    assert len(queue) == 5
