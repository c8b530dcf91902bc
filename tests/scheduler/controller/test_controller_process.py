"""`custom-scheduler run` as a real process against the fake API: killed with SIGKILL and restarted,
two leader-elected replicas with the leader killed, and a graceful SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scheduler.controller.support import our_pod, sized_node
from tests.scheduler.fakeapi import FakeApiServer, FakeCluster
from tests.scheduler.fakeapi.invariants import unbound, violations, wait_for

SCHEDULER = "custom-scheduler"
DEADLINE_SECONDS = 90.0
"""Deadline for waiting on a process (start-up imports numpy and the kubernetes client)."""
FAST_CONFIG = """\
schedulerName: custom-scheduler
queue: {podInitialBackoffSeconds: 0.1, podMaxBackoffSeconds: 0.5, podMaxInUnschedulablePodsSeconds: 3}
leaderElection: {leaseDurationSeconds: 2, renewDeadlineSeconds: 1.5, retryPeriodSeconds: 0.25}
"""

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SchedulerProcess:
    """One `custom-scheduler run` subprocess with its own metrics port and log file."""

    def __init__(self, tmp_path: Path, kubeconfig: str, *, name: str, leader_elect: bool) -> None:
        config = tmp_path / "config.yaml"
        config.write_text(FAST_CONFIG)
        self.port = free_port()
        self.log = tmp_path / f"{name}.log"
        command = [sys.executable, "-m", "custom_scheduler", "run", "--kubeconfig", kubeconfig]
        command += ["--config", str(config), "--metrics-addr", f"127.0.0.1:{self.port}"]
        if not leader_elect:
            command.append("--no-leader-elect")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def metrics(self) -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as response:
                return response.read().decode()
        except OSError:
            return ""

    def is_leader(self) -> bool:
        return "custom_scheduler_leader 1.0" in self.metrics()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=DEADLINE_SECONDS)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=DEADLINE_SECONDS)


@pytest.fixture
def processes() -> Iterator[list[SchedulerProcess]]:
    """Scheduler processes started by a test; any still running are killed afterwards."""
    started: list[SchedulerProcess] = []
    yield started
    for process in started:
        process.stop()


def start(
    processes: list[SchedulerProcess], tmp_path: Path, kubeconfig: str, *, leader_elect: bool
) -> SchedulerProcess:
    process = SchedulerProcess(
        tmp_path, kubeconfig, name=f"scheduler-{len(processes)}", leader_elect=leader_elect
    )
    processes.append(process)
    return process


def populate(cluster: FakeCluster, *, nodes: int, pods: int) -> None:
    for index in range(nodes):
        cluster.create("nodes", sized_node(f"node-{index}", cpu="8", memory="32Gi"))
    for index in range(pods):
        cluster.create("pods", our_pod(f"pod-{index}"))
    cluster.create("pods", our_pod("foreign", scheduler="default-scheduler"))


def settle(cluster: FakeCluster) -> None:
    wait_for(
        lambda: not unbound(cluster, scheduler_name=SCHEDULER),
        timeout=DEADLINE_SECONDS,
        what="all pods bound",
    )
    assert violations(cluster, scheduler_name=SCHEDULER) == []
    assert len(cluster.pending_pods("default-scheduler")) == 1


def test_killed_with_sigkill_mid_run_and_restarted_binds_every_pod_exactly_once(
    fake_api: FakeApiServer, kubeconfig: str, tmp_path: Path, processes: list[SchedulerProcess]
) -> None:
    cluster = fake_api.cluster
    fake_api.faults.latency_seconds = 0.005
    populate(cluster, nodes=20, pods=400)
    first = start(processes, tmp_path, kubeconfig, leader_elect=False)
    wait_for(lambda: len(cluster.bindings) >= 50, timeout=DEADLINE_SECONDS, what="the first bindings")
    first.kill()
    assert first.process.returncode == -signal.SIGKILL
    assert unbound(cluster, scheduler_name=SCHEDULER), "the kill should land mid-run"
    second = start(processes, tmp_path, kubeconfig, leader_elect=False)
    settle(cluster)
    assert second.process.poll() is None
    assert "custom_scheduler_schedule_attempts_total" in second.metrics()


def test_two_replicas_bind_each_pod_once_and_the_standby_takes_over_from_a_killed_leader(
    fake_api: FakeApiServer, kubeconfig: str, tmp_path: Path, processes: list[SchedulerProcess]
) -> None:
    cluster = fake_api.cluster
    fake_api.faults.latency_seconds = 0.005
    replicas = [start(processes, tmp_path, kubeconfig, leader_elect=True) for _ in range(2)]
    wait_for(lambda: any(r.is_leader() for r in replicas), timeout=DEADLINE_SECONDS, what="a leader")
    leader = next(r for r in replicas if r.is_leader())
    standby = next(r for r in replicas if r is not leader)
    assert not standby.is_leader()
    populate(cluster, nodes=20, pods=400)
    wait_for(lambda: len(cluster.bindings) >= 50, timeout=DEADLINE_SECONDS, what="the first bindings")
    leader.kill()
    wait_for(standby.is_leader, timeout=DEADLINE_SECONDS, what="the standby to take over")
    settle(cluster)
    assert standby.process.poll() is None
    holder = cluster.get("leases", "kube-system", SCHEDULER)["spec"]["holderIdentity"]
    assert holder.startswith(f"{socket.gethostname()}_")


def test_sigterm_mid_run_stops_cleanly_releases_the_lease_and_a_successor_finishes(
    fake_api: FakeApiServer, kubeconfig: str, tmp_path: Path, processes: list[SchedulerProcess]
) -> None:
    cluster = fake_api.cluster
    fake_api.faults.latency_seconds = 0.005
    populate(cluster, nodes=20, pods=400)
    first = start(processes, tmp_path, kubeconfig, leader_elect=True)
    wait_for(lambda: len(cluster.bindings) >= 50, timeout=DEADLINE_SECONDS, what="the first bindings")
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(timeout=DEADLINE_SECONDS) == 0
    assert "scheduler stopped" in first.log.read_text()
    assert cluster.get("leases", "kube-system", SCHEDULER)["spec"]["holderIdentity"] == ""
    assert violations(cluster, scheduler_name=SCHEDULER) == []
    assert unbound(cluster, scheduler_name=SCHEDULER), "the signal should land mid-run"
    start(processes, tmp_path, kubeconfig, leader_elect=True)
    settle(cluster)


def test_a_bad_kubeconfig_fails_fast_with_a_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "custom_scheduler", "run", "--kubeconfig", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot load Kubernetes client config" in result.stderr
