"""`custom-scheduler extender` as a real process: serves, answers kube-scheduler's JSON, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import orjson
import pytest

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.fakeapi.invariants import wait_for

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_the_extender_command_serves_filter_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
    with (tmp_path / "extender.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "custom_scheduler", "extender", "--addr", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_for(lambda: healthy(port), timeout=60, what="the extender to serve")
        body = {"Pod": make_pod("web").obj(), "Nodes": {"items": [make_node("a").obj()]}, "NodeNames": None}
        request = urllib.request.Request(f"http://127.0.0.1:{port}/filter", data=orjson.dumps(body))
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = orjson.loads(response.read())
        assert [node["metadata"]["name"] for node in answer["Nodes"]["items"]] == ["a"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
