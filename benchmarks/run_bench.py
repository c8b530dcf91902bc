"""``make bench`` for the controller: `custom-scheduler run` against the fake API (DESIGN.md 5).

The fake API runs in its own process (`python -m tests.scheduler.fakeapi`), with 1,000 nodes; the
scheduler runs as `custom-scheduler run --no-leader-elect` in another. Once the scheduler is ready,
N pending pods are created in one request and the clock runs until every pod is bound *and* has its
`Scheduled` event. Reported: pods/s bound with events, plus the correctness counters (bindings of the
same pod twice, kubelet over-commit rejections), which must be zero.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Final

import orjson

from tests.scheduler.builders import make_node, make_pod

NODES: Final = 1_000
PODS: Final = 3_000
TARGET_PODS_PER_SECOND: Final = 200
DEADLINE_SECONDS: Final = 300.0
REPO_ROOT: Final = Path(__file__).resolve().parents[1]


def _request(url: str, body: Any | None = None) -> Any:
    data = None if body is None else orjson.dumps(body)
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return orjson.loads(response.read())


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _kubeconfig(url: str, directory: str) -> str:
    path = os.path.join(directory, "kubeconfig")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: fake, cluster: {{server: '{url}'}}}}]\n"
            "users: [{name: fake, user: {token: fake}}]\n"
            "contexts: [{name: fake, context: {cluster: fake, user: fake}}]\n"
            "current-context: fake\n"
        )
    return path


def run(nodes: int, pods: int) -> dict[str, Any]:
    """One measured run; returns the figures."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    api = subprocess.Popen(
        [sys.executable, "-m", "tests.scheduler.fakeapi"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    scheduler = None
    try:
        assert api.stdout is not None
        url = api.stdout.readline().split()[-1]
        node_list = [
            make_node(f"node-{i:04d}").alloc(cpu="16", memory="64Gi", pods="110").obj() for i in range(nodes)
        ]
        _request(f"{url}/fake/nodes", {"items": node_list})
        with tempfile.TemporaryDirectory() as directory, open(os.path.join(directory, "log"), "wb") as log:
            port = _free_port()
            command = [sys.executable, "-m", "custom_scheduler", "run", "--no-leader-elect"]
            command += ["--kubeconfig", _kubeconfig(url, directory), "--metrics-addr", f"127.0.0.1:{port}"]
            scheduler = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            _wait(lambda: _ready(port), "the scheduler to be ready")
            pod_list = [
                make_pod(f"bench-{i:05d}").scheduler("custom-scheduler").req(cpu="100m", memory="128Mi").obj()
                for i in range(pods)
            ]
            started = time.monotonic()
            _request(f"{url}/fake/pods", {"items": pod_list})
            bound_at = None
            while True:
                stats = _request(f"{url}/fake/stats")
                if bound_at is None and stats["bindings"] >= pods:
                    bound_at = time.monotonic()
                if stats["bindings"] >= pods and stats["events"].get("Scheduled", 0) >= pods:
                    break
                if time.monotonic() - started > DEADLINE_SECONDS:
                    raise RuntimeError(f"not done after {DEADLINE_SECONDS:g}s: {stats}")
                time.sleep(0.05)
            elapsed = time.monotonic() - started
        return {
            "nodes": nodes,
            "pods": pods,
            "seconds_to_bound": round((bound_at or started) - started, 2),
            "seconds_to_bound_with_events": round(elapsed, 2),
            "pods_per_second_with_events": round(pods / elapsed, 1),
            "bound_twice": stats["bound_twice"],
            "kubelet_rejections": stats["kubelet_rejections"],
        }
    finally:
        for process in (scheduler, api):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    """Run the controller benchmark and print its figures; 1 if a correctness counter is not zero."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=NODES)
    parser.add_argument("--pods", type=int, default=PODS)
    args = parser.parse_args(argv)
    figures = run(args.nodes, args.pods)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    rate = figures["pods_per_second_with_events"]
    verdict = "meets" if rate >= TARGET_PODS_PER_SECOND else "BELOW"
    print(f"controller: {args.pods} pods on {args.nodes} nodes ({machine})")
    print(
        f"  all bound after {figures['seconds_to_bound']} s, with their Scheduled events after "
        f"{figures['seconds_to_bound_with_events']} s"
    )
    print(f"  {rate} pods/s bound with events ({verdict} the {TARGET_PODS_PER_SECOND} pods/s target)")
    print(
        f"  bound twice: {figures['bound_twice']}; rejected by the kubelet: {figures['kubelet_rejections']}"
    )
    return 1 if figures["bound_twice"] or figures["kubelet_rejections"] else 0


if __name__ == "__main__":
    sys.exit(main())
