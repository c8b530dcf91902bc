"""Lease leader election against the fake API, which enforces resourceVersion on updates (so every
successful renewal here carried it) and the MicroTime format; a fake clock steps the lease arithmetic."""

from __future__ import annotations

import re
import socket

import pytest
from custom_scheduler.config import LeaderElection
from custom_scheduler.controller.leader import LeaderElector, new_identity
from custom_scheduler.kube.client import KubeClient

from tests.scheduler.fakeapi import FakeApiServer

TIMING = LeaderElection(leaseDurationSeconds=15, renewDeadlineSeconds=10, retryPeriodSeconds=2)
MICRO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def elector(client: KubeClient, clock: FakeClock, identity: str) -> LeaderElector:
    return LeaderElector(
        client,
        namespace="kube-system",
        name="custom-scheduler",
        timing=TIMING,
        identity=identity,
        clock=clock,
    )


def test_identities_are_hostname_underscore_uuid_and_unique_per_process() -> None:
    first, second = new_identity(), new_identity()
    assert first.startswith(f"{socket.gethostname()}_")
    assert first != second


def test_the_first_candidate_creates_the_lease_with_micro_times(
    fake_api: FakeApiServer, client: KubeClient, clock: FakeClock
) -> None:
    leader = elector(client, clock, "a")
    assert leader.try_acquire_or_renew()
    assert leader.is_leader()
    spec = fake_api.cluster.get("leases", "kube-system", "custom-scheduler")["spec"]
    assert (spec["holderIdentity"], spec["leaseDurationSeconds"], spec["leaseTransitions"]) == ("a", 15, 0)
    assert MICRO_TIME.match(spec["acquireTime"])
    assert MICRO_TIME.match(spec["renewTime"])


def test_a_standby_waits_a_full_lease_duration_of_silence_before_taking_over(
    fake_api: FakeApiServer, client: KubeClient, clock: FakeClock
) -> None:
    leader, standby = elector(client, clock, "a"), elector(client, clock, "b")
    assert leader.try_acquire_or_renew()
    assert not standby.try_acquire_or_renew()
    clock.now += 14
    assert not standby.try_acquire_or_renew()
    clock.now += 2
    assert standby.try_acquire_or_renew()
    spec = fake_api.cluster.get("leases", "kube-system", "custom-scheduler")["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("b", 1)


def test_a_renewing_leader_keeps_the_lease(client: KubeClient, clock: FakeClock) -> None:
    leader, standby = elector(client, clock, "a"), elector(client, clock, "b")
    leader.try_acquire_or_renew()
    standby.try_acquire_or_renew()
    for _ in range(20):
        clock.now += 2
        assert leader.try_acquire_or_renew()
        assert not standby.try_acquire_or_renew()


def test_a_leader_cut_off_from_the_api_stops_leading_at_its_renew_deadline(
    fake_api: FakeApiServer, client: KubeClient, clock: FakeClock
) -> None:
    leader = elector(client, clock, "a")
    leader.try_acquire_or_renew()
    fake_api.faults.fail(path="/leases", status=500)
    clock.now += 9.9
    assert not leader.try_acquire_or_renew()
    assert leader.is_leader()
    clock.now += 0.1
    assert not leader.is_leader()


def test_release_hands_the_lease_over_at_once(
    fake_api: FakeApiServer, client: KubeClient, clock: FakeClock
) -> None:
    leader, standby = elector(client, clock, "a"), elector(client, clock, "b")
    leader.try_acquire_or_renew()
    standby.try_acquire_or_renew()
    leader.release()
    assert not leader.is_leader()
    assert fake_api.cluster.get("leases", "kube-system", "custom-scheduler")["spec"]["holderIdentity"] == ""
    assert standby.try_acquire_or_renew()


def test_a_leader_that_sees_another_holder_stops_leading_at_once(
    fake_api: FakeApiServer, client: KubeClient, clock: FakeClock
) -> None:
    leader = elector(client, clock, "a")
    leader.try_acquire_or_renew()
    fake_api.cluster.mutate(
        "leases", "kube-system", "custom-scheduler", lambda lease: lease["spec"].update(holderIdentity="b")
    )
    clock.now += 2
    assert not leader.try_acquire_or_renew()
    assert not leader.is_leader()
