"""Behaviour of preflight.sh, run for real on this machine (it only reads) inside a sandbox.

The sizes it measures are this machine's own; the tests derive the declared sizes from the same
sources (/proc/meminfo, statvfs of /, the CPU count), so they hold on any Linux machine. The sandbox's
/etc lets a test choose the OS release and whether the host looks like a cluster member. One thing is
the machine's own: /sys/class/dmi/id/product_uuid, which containers often lack; tests accept either
the printed value or preflight's explanation, whichever this machine warrants.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

PRODUCT_UUID = Path("/sys/class/dmi/id/product_uuid")
GIB = 1024**3


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024 / GIB
    raise AssertionError("no MemTotal in /proc/meminfo")


def _disk_gib() -> float:
    stats = os.statvfs("/")
    return stats.f_blocks * stats.f_frsize / GIB


def _os_release(os_id: str, version: str) -> str:
    return f'PRETTY_NAME="test"\nID={os_id}\nVERSION_ID="{version}"\n'


def _failures(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kubevps: FAILED: ")]


def _expected_failures() -> list[str]:
    """Failures that come from this machine rather than from the test's inputs."""
    return [] if PRODUCT_UUID.exists() else ["/sys/class/dmi/id/product_uuid is not readable"]


def _assert_only_machine_failures(stderr: str) -> None:
    unexpected = [line for line in _failures(stderr) if not any(e in line for e in _expected_failures())]
    assert unexpected == [], stderr


@pytest.fixture
def host(sandbox):
    sandbox.write("/etc/os-release", _os_release("ubuntu", "24.04"))
    return sandbox


def _preflight(host, role: str = "worker", cpu: object = 1, memory: object = 1, disk: object = 1):
    return host.run_step(
        "preflight",
        {
            "NODE_NAME": "sgp-w-1",
            "ROLE": role,
            "CPU": str(cpu),
            "MEMORY_GIB": str(memory),
            "DISK_GIB": str(disk),
        },
    )


def test_a_host_that_fits_is_described_and_identified(host) -> None:
    run = _preflight(host)

    _assert_only_machine_failures(run.stderr)
    assert "kubevps: os: ubuntu 24.04" in run.stderr
    assert f"kubevps: cpu: {os.cpu_count()} (declared 1)" in run.stderr
    assert "kubevps: memory: " in run.stderr
    assert "kubevps: disk: root filesystem " in run.stderr
    assert [line.split("=")[0] for line in run.stdout.splitlines()] == [
        *(["kubevps: product_uuid"] if PRODUCT_UUID.exists() else []),
        "kubevps: mac",
    ]
    assert run.returncode == (0 if PRODUCT_UUID.exists() else 1)


@pytest.mark.parametrize(("os_id", "version"), [("ubuntu", "22.04"), ("ubuntu", "24.04"), ("debian", "12")])
def test_supported_releases_are_accepted(host, os_id: str, version: str) -> None:
    host.write("/etc/os-release", _os_release(os_id, version))

    run = _preflight(host)

    assert f"kubevps: os: {os_id} {version}" in run.stderr
    _assert_only_machine_failures(run.stderr)


@pytest.mark.parametrize(("os_id", "version"), [("ubuntu", "20.04"), ("debian", "11"), ("centos", "9")])
def test_other_releases_are_refused_with_what_to_do(host, os_id: str, version: str) -> None:
    host.write("/etc/os-release", _os_release(os_id, version))

    run = _preflight(host)

    run.assert_fails(
        f"operating system is '{os_id} {version}'; expected Ubuntu 22.04, Ubuntu 24.04 or Debian 12"
    )


def test_memory_is_accepted_down_to_ninety_percent_of_the_declared_size(host) -> None:
    # Declared sizes a little under and over what the 90 % tolerance allows.
    limit = _memory_gib() / 0.9
    accepted = _preflight(host, memory=f"{limit * 0.99:.2f}")
    refused = _preflight(host, memory=f"{limit * 1.01:.2f}")

    _assert_only_machine_failures(accepted.stderr)
    refused.assert_fails(f"the stack declares {limit * 1.01:.2f} GiB (at least 90 % of it is needed)")


def test_fractional_sizes_are_accepted(host) -> None:
    run = _preflight(host, memory="0.5", disk="1.5")

    _assert_only_machine_failures(run.stderr)
    assert "(declared 0.5 GiB)" in run.stderr


def test_disk_is_accepted_down_to_ninety_percent_of_the_declared_size(host) -> None:
    limit = _disk_gib() / 0.9
    accepted = _preflight(host, disk=f"{limit * 0.99:.2f}")
    refused = _preflight(host, disk=f"{limit * 1.01:.2f}")

    _assert_only_machine_failures(accepted.stderr)
    refused.assert_fails(
        f"the root filesystem is {_disk_gib():.2f} GiB; the stack declares {limit * 1.01:.2f}"
    )


def test_every_problem_is_listed_in_one_run(host) -> None:
    cpus = os.cpu_count() or 1

    run = _preflight(host, cpu=cpus + 1, memory=100_000, disk=100_000)

    run.assert_fails(
        f"the host has {cpus} CPUs; the stack declares {cpus + 1}", "GiB of memory", "root filesystem"
    )
    assert len(_failures(run.stderr)) == 3 + len(_expected_failures())
    assert f"found {len(_failures(run.stderr))} problem(s)" in run.stderr


@pytest.fixture
def busy_kubelet_port() -> Iterator[None]:
    listener = socket.socket()
    try:
        listener.bind(("0.0.0.0", 10250))
    except OSError as error:
        pytest.skip(f"cannot hold port 10250 for the test: {error}")
    listener.listen()
    yield
    listener.close()


@pytest.mark.usefixtures("busy_kubelet_port")
def test_a_busy_port_is_named_on_a_new_node(host) -> None:
    run = _preflight(host)

    run.assert_fails("TCP port 10250 is in use", "a worker needs it free")


@pytest.mark.usefixtures("busy_kubelet_port")
def test_ports_are_not_checked_on_a_cluster_member(host) -> None:
    host.write("/etc/kubernetes/kubelet.conf", "kind: Config\n", 0o600)

    run = _preflight(host)

    assert "ports: not checked, /etc/kubernetes/kubelet.conf exists" in run.stderr
    _assert_only_machine_failures(run.stderr)


@pytest.mark.parametrize(
    ("role", "cpu", "message"),
    [
        pytest.param("master", 1, "ROLE is 'master'; expected control-plane or worker", id="role"),
        pytest.param("worker", 0, "CPU is '0'; expected a positive whole number", id="cpu-zero"),
        pytest.param("worker", "1.5", "CPU is '1.5'; expected a positive whole number", id="cpu-fraction"),
    ],
)
def test_bad_params_are_refused(host, role: str, cpu: object, message: str) -> None:
    _preflight(host, role=role, cpu=cpu).assert_fails(message)


@pytest.mark.parametrize("memory", ["0", "0.0", "4GiB", "-4", ".5"])
def test_bad_sizes_are_refused(host, memory: str) -> None:
    _preflight(host, memory=memory).assert_fails(
        f"MEMORY_GIB is '{memory}'; expected a positive number of GiB"
    )
