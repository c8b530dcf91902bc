"""NodePorts: host ports must be free; 0.0.0.0 conflicts with every IP (kube-scheduler 1.28 cases)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from custom_scheduler.plugins import node_ports

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.engine.harness import run_filter


def pod_with_ports(*specs: str, name: str = "pod", node: str = "") -> dict[str, Any]:
    """Ports as kube's test helper writes them: ``PROTOCOL/IP/PORT``."""
    builder = make_pod(name)
    for spec in specs:
        protocol, ip, port = spec.split("/")
        builder.host_port(int(port), protocol, ip)
    if node:
        builder.node(node)
    return builder.obj()


@dataclass(frozen=True)
class Case:
    name: str
    wanted: tuple[str, ...]
    used: tuple[str, ...]
    fits: bool


CASES = [
    Case("nothing running", (), (), True),
    Case("other port", ("UDP/127.0.0.1/8080",), ("UDP/127.0.0.1/9090",), True),
    Case("same udp port", ("UDP/127.0.0.1/8080",), ("UDP/127.0.0.1/8080",), False),
    Case("same tcp port", ("TCP/127.0.0.1/8080",), ("TCP/127.0.0.1/8080",), False),
    Case("different host ip", ("TCP/127.0.0.1/8080",), ("TCP/127.0.0.2/8080",), True),
    Case("different protocol", ("UDP/127.0.0.1/8080",), ("TCP/127.0.0.1/8080",), True),
    Case(
        "second udp port conflict",
        ("UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"),
        ("UDP/127.0.0.1/8080",),
        False,
    ),
    Case(
        "first tcp port conflict",
        ("TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"),
        ("TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"),
        False,
    ),
    Case(
        "first tcp port conflict due to 0.0.0.0 hostIP", ("TCP/0.0.0.0/8001",), ("TCP/127.0.0.1/8001",), False
    ),
    Case(
        "TCP hostPort conflict due to 0.0.0.0 hostIP",
        ("TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"),
        ("TCP/127.0.0.1/8001",),
        False,
    ),
    Case("second tcp port conflict to 0.0.0.0 hostIP", ("TCP/127.0.0.1/8001",), ("TCP/0.0.0.0/8001",), False),
    Case("second different protocol", ("UDP/127.0.0.1/8001",), ("TCP/0.0.0.0/8001",), True),
    Case(
        "UDP hostPort conflict due to 0.0.0.0 hostIP",
        ("UDP/127.0.0.1/8001",),
        ("TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"),
        False,
    ),
    Case("empty protocol means TCP and empty IP means 0.0.0.0", ("//8080",), ("TCP/10.1.1.1/8080",), False),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_filter(case: Case) -> None:
    running = [pod_with_ports(*case.used, name="running", node="node1")] if case.used else []
    result = run_filter(node_ports.NAME, pod_with_ports(*case.wanted), [make_node("node1").obj()], running)
    assert result.reasons.get("node1") == (None if case.fits else [node_ports.ERR_REASON])


def test_init_container_ports_are_ignored() -> None:
    running = make_pod("running").node("node1").obj()
    running["spec"]["initContainers"] = [{"name": "i", "ports": [{"containerPort": 80, "hostPort": 80}]}]
    result = run_filter(
        node_ports.NAME, pod_with_ports("TCP/0.0.0.0/80"), [make_node("node1").obj()], [running]
    )
    assert result.feasible == ["node1"]


def test_a_finished_pod_frees_its_ports() -> None:
    done = make_pod("done").host_port(80).node("node1").phase("Succeeded").obj()
    result = run_filter(node_ports.NAME, pod_with_ports("TCP/0.0.0.0/80"), [make_node("node1").obj()], [done])
    assert result.feasible == ["node1"]
