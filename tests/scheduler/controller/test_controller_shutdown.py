"""Stopping a leading controller: the Lease is released only when no binding can still land, and the
controller never waits long for bindings stuck on the wire (its worker threads are daemons)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from custom_scheduler.controller import runner

from tests.scheduler.controller.support import SCHEDULER, RunningController, fast_config, our_pod, sized_node
from tests.scheduler.fakeapi import FakeApiServer
from tests.scheduler.fakeapi.invariants import wait_for

DEADLINE_SECONDS = 30.0
"""Deadline for waiting; the held binding would otherwise hang for a minute."""
SLOW_LEASE = {"leaseDurationSeconds": 15, "renewDeadlineSeconds": 10, "retryPeriodSeconds": 2}
"""A renew deadline long enough that a binding's own time budget cannot end it during the test."""

Start = Callable[..., RunningController]


def start_leader(fake_api: FakeApiServer, start_controller: Start) -> RunningController:
    fake_api.cluster.create("nodes", sized_node("node-a"))
    handle = start_controller(fast_config(leaderElection=SLOW_LEASE), leader_elect=True)
    wait_for(handle.controller.leader.is_leader, timeout=DEADLINE_SECONDS, what="leadership")
    return handle


def holder(fake_api: FakeApiServer) -> str:
    return str(fake_api.cluster.get("leases", "kube-system", SCHEDULER)["spec"]["holderIdentity"])


def test_stopping_with_a_binding_stuck_on_the_wire_exits_without_releasing_the_lease(
    fake_api: FakeApiServer, start_controller: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "SHUTDOWN_GRACE_SECONDS", 0.2)
    handle = start_leader(fake_api, start_controller)
    stuck = fake_api.faults.hold(path="/binding$")
    fake_api.cluster.create("pods", our_pod("web"))
    wait_for(lambda: stuck.fired == 1, timeout=DEADLINE_SECONDS, what="the binding to be on the wire")

    handle.stopped.set()
    handle.thread.join(timeout=DEADLINE_SECONDS)

    assert not handle.thread.is_alive(), "the controller waited for the stuck binding"
    assert stuck.hold is not None
    assert not stuck.hold.is_set(), "the binding was still on the wire when the controller stopped"
    assert holder(fake_api) == handle.controller.leader.identity, "the lease must expire, not be released"
    workers = [t for t in threading.enumerate() if t.name.startswith(("bind_", "events_"))]
    assert workers
    assert all(t.daemon for t in workers), "no worker thread may hold the process at exit"


def test_stopping_with_no_binding_in_flight_releases_the_lease(
    fake_api: FakeApiServer, start_controller: Start
) -> None:
    handle = start_leader(fake_api, start_controller)
    fake_api.cluster.create("pods", our_pod("web"))
    wait_for(lambda: len(fake_api.cluster.bindings) == 1, timeout=DEADLINE_SECONDS, what="the binding")
    wait_for(lambda: handle.controller.binder.in_flight() == 0, timeout=DEADLINE_SECONDS, what="it to end")
    handle.stop()
    assert not handle.thread.is_alive()
    assert holder(fake_api) == ""
