"""Inputs that once crashed or were misread: flow-style YAML, quantities beyond int64, bad weights."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FLOW_STYLE = """{kind: Node, metadata: {name: n1}, status: {allocatable: {cpu: "2", memory: 4Gi, pods: "9"}}}
---
{kind: Pod, metadata: {name: p}, spec: {containers: [{name: c}]}}
"""

HUGE = """kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "2", memory: 10Ei, pods: "110"}}
---
kind: Pod
metadata: {name: r, namespace: default}
spec: {nodeName: n1, containers: [{name: c, resources: {requests: {cpu: "10E"}}}]}
---
kind: Pod
metadata: {name: p, namespace: default}
spec: {containers: [{name: c, resources: {requests: {cpu: "1", memory: 1Gi}}}]}
"""

NEGATIVE_WEIGHT = """kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "2", memory: 4Gi, pods: "110"}}
---
kind: Pod
metadata: {name: p, namespace: default}
spec:
  containers: [{name: c}]
  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - {weight: -5, preference: {matchExpressions: [{key: a, operator: Exists}]}}
"""


def _simulate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "input.yaml"
    path.write_text(text)
    command = [sys.executable, "-m", "custom_scheduler", "simulate", "--format", "lines", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_yaml_in_flow_style_is_yaml_even_though_it_starts_with_a_brace(tmp_path: Path) -> None:
    result = _simulate(tmp_path, FLOW_STYLE)
    assert (result.returncode, result.stdout) == (0, "default/p n1\n"), result.stderr


def test_quantities_beyond_int64_saturate_as_in_kubernetes(tmp_path: Path) -> None:
    result = _simulate(tmp_path, HUGE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "default/p -\n", "the node's CPU is taken by the running pod"


def test_a_preferred_term_weight_outside_1_to_100_is_bad_input(tmp_path: Path) -> None:
    result = _simulate(tmp_path, NEGATIVE_WEIGHT)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "preferredDuringSchedulingIgnoredDuringExecution[0].weight: -5 is not in 1..100" in result.stderr
