"""Benchmark: the offline plan of a generated 50-node stack (DESIGN.md 5: under 5 s)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
NODES = 50
TARGET_SECONDS = 5.0


def _stack() -> dict[str, object]:
    nodes = [
        {
            "name": f"bench-{'cp' if i < 3 else 'worker'}-{i}",
            "role": "control-plane" if i < 3 else "worker",
            "provider": ("hcloud", "existing")[i % 2],
            "region": "fsn1",
            **(
                {"size": "cpx31"}
                if i % 2 == 0
                else {"size": {"cpu": 4, "memoryGiB": 8, "diskGiB": 80}, "publicIp": f"203.0.113.{i}"}
            ),
        }
        for i in range(NODES)
    ]
    return {
        "config": {
            "kubevps:cluster": {"name": "bench"},
            "kubevps:ssh": {"privateKey": {"secure": "v1:bench"}},
            "kubevps:nodes": nodes,
        }
    }


def main() -> int:
    """Plan the generated stack in a fresh process (as `make plan` does) and print the wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "Pulumi.bench.yaml").write_text(yaml.safe_dump(_stack()))
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "infra.plan",
                "--stack",
                "bench",
                "--stack-dir",
                tmp,
                "--out",
                f"{tmp}/out",
            ],
            cwd=ROOT,
            check=False,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return 1
    verdict = "ok" if elapsed < TARGET_SECONDS else f"SLOWER than the {TARGET_SECONDS:g} s target"
    print(f"plan, {NODES}-node stack: {elapsed:.2f} s wall, peak RSS {peak_mib:.0f} MiB ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
