"""``custom-scheduler simulate`` end to end: golden outputs in every format, JSON input, bad input.

Regenerate the goldens after an intended change with ``UPDATE_GOLDEN=1 pytest tests/scheduler/engine``
and review the diff.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import yaml
from custom_scheduler import simulate
from custom_scheduler.cli import main

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
INPUTS = [GOLDEN / "cluster.yaml", GOLDEN / "pending.yaml"]


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("fmt", ["json", "lines", "table"])
def test_golden_output(fmt: str) -> None:
    code, out, err = run("simulate", "--format", fmt, *map(str, INPUTS))
    assert (code, err) == (0, "")
    golden = GOLDEN / f"expected.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out)
    assert out == golden.read_text()


def test_table_is_the_default_format() -> None:
    assert run("simulate", *map(str, INPUTS))[1] == (GOLDEN / "expected.table").read_text()


@pytest.mark.parametrize("streamed", [False, True], ids=["parsed whole", "streamed as large files are"])
def test_json_input_gives_the_same_placements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    if streamed:
        monkeypatch.setattr(simulate, "STREAM_JSON_ABOVE", 0)
    converted = []
    for path in INPUTS:
        items = []
        for document in yaml.safe_load_all(path.read_text()):
            items.extend(document.get("items", [document]))
        target = tmp_path / f"{path.stem}.json"
        target.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
        converted.append(str(target))
    assert run("simulate", "--format", "lines", *converted)[1] == (GOLDEN / "expected.lines").read_text()


def test_typed_lists_may_omit_the_kind_of_their_items(tmp_path: Path) -> None:
    nodes = {
        "kind": "NodeList",
        "items": [{"metadata": {"name": "n1"}, "status": {"allocatable": {"pods": "9"}}}],
    }
    pods = {"kind": "PodList", "items": [{"metadata": {"name": "p"}, "spec": {"containers": []}}]}
    (tmp_path / "nodes.json").write_text(json.dumps(nodes))
    (tmp_path / "pods.json").write_text(json.dumps(pods))
    code, out, _ = run(
        "simulate", "--format", "lines", str(tmp_path / "nodes.json"), str(tmp_path / "pods.json")
    )
    assert (code, out) == (0, "default/p n1\n")


def test_the_seed_makes_runs_reproducible(tmp_path: Path) -> None:
    nodes = [
        {
            "kind": "Node",
            "metadata": {"name": f"n{i}"},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
        }
        for i in range(6)
    ]
    pods = [
        {"kind": "Pod", "metadata": {"name": f"p{i}"}, "spec": {"containers": [{"name": "c"}]}}
        for i in range(6)
    ]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(nodes + pods))
    first = run("simulate", "--format", "lines", "--seed", "7", str(path))[1]
    assert first == run("simulate", "--format", "lines", "--seed", "7", str(path))[1]


def test_each_placement_counts_before_the_next_pod(tmp_path: Path) -> None:
    node = {
        "kind": "Node",
        "metadata": {"name": "only"},
        "status": {"allocatable": {"cpu": "1", "pods": "9"}},
    }
    pods = [
        {
            "kind": "Pod",
            "metadata": {"name": f"p{i}"},
            "spec": {"containers": [{"resources": {"requests": {"cpu": "600m"}}}]},
        }
        for i in range(2)
    ]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump_all([node, *pods]))
    assert run("simulate", "--format", "lines", str(path))[1] == "default/p0 only\ndefault/p1 -\n"


BAD_INPUT = [
    ("a missing file", None, "cannot read"),
    ("broken YAML", "kind: Pod\nmetadata: {name: [\n", "not valid YAML"),
    ("broken JSON", '{"kind": "Pod", ', "not valid JSON"),
    (
        "a bad quantity names the file, the object and the field",
        "kind: Pod\nmetadata: {name: web, namespace: shop}\n"
        "spec: {containers: [{name: c, resources: {requests: {cpu: lots}}}]}\n",
        "#1 Pod shop/web: spec.containers[0].resources.requests.cpu: 'lots' is not a quantity",
    ),
    (
        "an unsupported kind",
        "kind: Deployment\nmetadata: {name: web}\n",
        "#1 Deployment web: kind 'Deployment' is not supported",
    ),
    ("a node without a name", "kind: Node\nmetadata: {}\n", "#1 Node: metadata.name: required"),
    ("a list of strings", "- just\n- text\n", "expected Kubernetes objects (mappings), found str"),
    (
        "a bad NodeMetrics usage",
        "kind: NodeMetrics\nmetadata: {name: n1}\nusage: {cpu: fast}\n",
        "#1 NodeMetrics n1: usage: 'fast' is not a quantity",
    ),
]


@pytest.mark.parametrize(
    ("content", "want"), [(c, w) for _, c, w in BAD_INPUT], ids=[n for n, _, _ in BAD_INPUT]
)
def test_bad_input_is_a_clear_error_and_exit_2(tmp_path: Path, content: str | None, want: str) -> None:
    path = tmp_path / ("input.json" if content and content.startswith("{") else "input.yaml")
    if content is not None:
        path.write_text(content)
    code, out, err = run("simulate", str(path))
    assert code == 2
    assert out == ""
    assert err.startswith(str(path))
    assert want in err
    assert "Traceback" not in err


def test_a_bad_config_is_a_clear_error_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("weights: {NodeLoad: 500}\n")
    code, _, err = run("simulate", "--config", str(config), *map(str, INPUTS))
    assert code == 2
    assert err == f"{config}: weights.NodeLoad: 500 not in valid range [0, 100]\n"


def test_usage_errors_exit_2() -> None:
    assert run("simulate", "--format", "yaml", str(INPUTS[0]))[0] == 2
