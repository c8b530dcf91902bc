"""``make bench`` for the scheduler: the simulate scenarios of DESIGN.md 5, on generated clusters.

1. Throughput: 5,000 nodes and 10,000 pending pods (JSON, ``--format lines``). Scheduling alone is timed
   in-process (pods/s); the whole command (parsing included) is timed as a subprocess.
2. Memory: 5,000 nodes with 50,000 running pods and 1,000 pending; peak RSS of the subprocess.
Both runs are checked for over-committed nodes (cpu, memory, pod count) from the placements printed.
"""

from __future__ import annotations

import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.objects import parse_node, parse_pod
from custom_scheduler.simulate import Simulation

NODES: Final = 5_000
PENDING: Final = 10_000
RUNNING_FOR_MEMORY: Final = 50_000
PENDING_FOR_MEMORY: Final = 1_000
LINE_LABEL: Final = "kubevps.dev/business-line"
TARGET_PODS_PER_SECOND: Final = 2_000
TARGET_WALL_SECONDS: Final = 15.0
TARGET_RSS_MIB: Final = 300.0

_NODE_SHAPES: Final = (("4", "8Gi"), ("8", "16Gi"), ("16", "64Gi"), ("32", "128Gi"))
_POD_SHAPES: Final = (("100m", "128Mi"), ("250m", "512Mi"), ("500m", "1Gi"), ("1", "2Gi"), (None, None))


@dataclass(frozen=True)
class Figures:
    pods_per_second: float
    scheduled: int
    unschedulable: int
    wall_seconds: float
    peak_rss_mib: float
    overcommitted: int


def generate_nodes(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Nodes of four sizes in three zones; a tenth dedicated to business lines, a few cordoned or tainted."""
    nodes = []
    for index in range(count):
        cpu, memory = _NODE_SHAPES[index % len(_NODE_SHAPES)]
        labels = {
            "kubernetes.io/hostname": f"node-{index:05d}",
            "topology.kubernetes.io/zone": f"zone-{index % 3}",
        }
        taints = []
        if index % 10 == 0:
            line = ("payments", "search")[index // 10 % 2]
            labels[LINE_LABEL] = line
            taints.append({"key": LINE_LABEL, "value": line, "effect": "NoSchedule"})
        if index % 97 == 0:
            taints.append({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"})
        nodes.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": f"node-{index:05d}", "labels": labels},
                "spec": {"taints": taints, "unschedulable": index % 211 == 0},
                "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"}},
            }
        )
    return nodes


def generate_metrics(nodes: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """NodeMetrics for nine nodes in ten (the rest fall back to requests), with random real load."""
    metrics = []
    for index, node in enumerate(nodes):
        if index % 10 == 9:
            continue
        cpu = int(node["status"]["allocatable"]["cpu"]) * 1000
        metrics.append(
            {
                "apiVersion": "metrics.k8s.io/v1beta1",
                "kind": "NodeMetrics",
                "metadata": {"name": node["metadata"]["name"]},
                "timestamp": "2026-01-01T00:00:00Z",
                "window": "20s",
                "usage": {"cpu": f"{rng.randrange(cpu // 2)}m", "memory": f"{rng.randrange(1, 4000)}Mi"},
            }
        )
    return metrics


def generate_pods(
    count: int, rng: random.Random, *, prefix: str, nodes: int | None = None
) -> list[dict[str, Any]]:
    """Pods of a few common shapes (identical pods are the norm); some of a business line, some with a
    node selector. With ``nodes``, each pod runs on a node already and carries little beyond its requests."""
    pods = []
    for index in range(count):
        cpu, memory = ("100m", "128Mi") if nodes is not None else _POD_SHAPES[index % len(_POD_SHAPES)]
        requests = {} if cpu is None else {"cpu": cpu, "memory": memory}
        metadata: dict[str, Any] = {"name": f"{prefix}-{index}", "namespace": "bench"}
        spec: dict[str, Any] = {"containers": [{"name": "app", "resources": {"requests": requests}}]}
        if nodes is not None:
            spec["nodeName"] = f"node-{rng.randrange(nodes):05d}"
            metadata["uid"] = f"{prefix}-{index}"
        elif index % 20 == 0:
            metadata["labels"] = {LINE_LABEL: "payments"}
        elif index % 20 == 1:
            spec["nodeSelector"] = {"topology.kubernetes.io/zone": "zone-1"}
        pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
    return pods


def write_json(path: Path, objects: list[dict[str, Any]]) -> None:
    path.write_bytes(orjson.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))


def count_overcommitted(files: Iterable[Path], lines: str) -> int:
    """Nodes that placements pushed over allocatable cpu, memory or pod count (requests of running pods
    plus placed pods); a node already over-committed by its running pods is not the scheduler's doing."""
    nodes: dict[str, Any] = {}
    pods: dict[str, Any] = {}
    for path in files:
        for obj in orjson.loads(path.read_bytes())["items"]:
            if obj["kind"] == "Node":
                node = parse_node(obj)
                nodes[node.name] = [node.allocatable.cpu, node.allocatable.memory, node.allowed_pods]
            elif obj["kind"] == "Pod":
                pod = parse_pod(obj)
                pods[pod.key] = pod
                if pod.node_name:
                    _charge(nodes, pod.node_name, pod)
    full_before = {name for name, left in nodes.items() if min(left) < 0}
    for line in lines.splitlines():
        key, node_name = line.split(" ")
        if node_name != "-":
            _charge(nodes, node_name, pods[key])
    return sum(1 for name, left in nodes.items() if min(left) < 0 and name not in full_before)


def _charge(nodes: dict[str, Any], name: str, pod: Any) -> None:
    left = nodes[name]
    left[0] -= pod.requests.cpu
    left[1] -= pod.requests.memory
    left[2] -= 1


def run_command(files: list[Path]) -> tuple[float, float, str]:
    """Run ``custom-scheduler simulate --format lines``; return wall seconds, peak RSS MiB and stdout.

    The peak is the child's own high-water mark (``VmHWM``, sampled until it exits). ``ru_maxrss`` from
    ``wait4`` is the fallback only: it also counts the parent's memory the child shared between fork and
    exec, which overstates the command's peak by however much this benchmark process holds.
    """
    command = [sys.executable, "-m", "custom_scheduler", "simulate", "--format", "lines", *map(str, files)]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out)
        high_water_kib = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            high_water_kib = max(high_water_kib, _high_water_kib(process.pid))
            time.sleep(0.01)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}")
        out.seek(0)
        peak_kib = high_water_kib or usage.ru_maxrss
        return wall, peak_kib / 1024, out.read().decode()


def _high_water_kib(pid: int) -> int:
    """A process's peak resident set so far (``VmHWM``, KiB), or 0 if it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def scheduling_throughput(files: list[Path]) -> tuple[float, int, int]:
    """Scheduling alone, in-process: pods/s, scheduled and unschedulable counts."""
    simulation = Simulation(SchedulerConfig(), seed=0)
    simulation.load(files)
    start = time.perf_counter()
    placements = simulation.run(details=False)
    elapsed = time.perf_counter() - start
    scheduled = sum(1 for p in placements if p.node is not None)
    return len(placements) / elapsed, scheduled, len(placements) - scheduled


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.machine()


def main() -> int:
    rng = random.Random(42)
    with tempfile.TemporaryDirectory(prefix="kubevps-bench-") as tmp:
        folder = Path(tmp)
        nodes = generate_nodes(NODES, rng)
        cluster = folder / "cluster.json"
        write_json(cluster, nodes + generate_metrics(nodes, rng))
        pending = folder / "pending.json"
        write_json(pending, generate_pods(PENDING, rng, prefix="pending"))
        throughput_files = [cluster, pending]
        rate, scheduled, unschedulable = scheduling_throughput(throughput_files)
        wall, rss, lines = run_command(throughput_files)
        throughput = Figures(
            rate, scheduled, unschedulable, wall, rss, count_overcommitted(throughput_files, lines)
        )

        running = folder / "running.json"
        write_json(running, generate_pods(RUNNING_FOR_MEMORY, rng, prefix="running", nodes=NODES))
        few = folder / "pending-1k.json"
        write_json(few, generate_pods(PENDING_FOR_MEMORY, rng, prefix="pending"))
        memory_files = [cluster, running, few]
        wall_m, rss_m, lines_m = run_command(memory_files)
        memory_overcommitted = count_overcommitted(memory_files, lines_m)

    print(f"machine: {_cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"simulate {NODES} nodes / {PENDING} pending pods (JSON, --format lines):")
    rate = f"{throughput.pods_per_second:,.0f} pods/s"
    print(f"  scheduling throughput: {rate} (target >= {TARGET_PODS_PER_SECOND})")
    print(f"  placed {throughput.scheduled}, unschedulable {throughput.unschedulable}")
    print(f"  whole command wall time: {throughput.wall_seconds:.2f} s (target < {TARGET_WALL_SECONDS:g} s)")
    print(f"  peak RSS: {throughput.peak_rss_mib:.0f} MiB; over-committed nodes: {throughput.overcommitted}")
    print(f"simulate {NODES} nodes / {RUNNING_FOR_MEMORY} running / {PENDING_FOR_MEMORY} pending pods:")
    print(f"  peak RSS: {rss_m:.0f} MiB (target < {TARGET_RSS_MIB:g} MiB); wall time {wall_m:.2f} s")
    print(f"  over-committed nodes: {memory_overcommitted}")
    ok = (
        throughput.overcommitted == 0
        and memory_overcommitted == 0
        and throughput.pods_per_second >= TARGET_PODS_PER_SECOND
        and throughput.wall_seconds < TARGET_WALL_SECONDS
        and rss_m < TARGET_RSS_MIB
    )
    print("all targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1
