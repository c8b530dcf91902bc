"""The offline plan contract (DESIGN.md 2.4): files, secrets masked, exit codes, shellcheck-clean scripts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.plan import ROOT, PlanError, Recorder, Resource, main, resources_json
from tests.infra.stacks import private_key

EXAMPLE_STACKS = ("dev", "prod-sgp", "prod-fra")
SECRET_MARKERS = (
    "PRIVATE KEY",
    "offline-plan-placeholder",
    "b2ZmbGluZS1wbGFuLWpvaW4tYnVuZGxl",
    "kubevps-plan",
)
"""Text only secrets carry in a plan: key blocks, the placeholders of secure values, the stand-ins for the
join credentials and the kubeconfig."""


@pytest.fixture(scope="module", params=EXAMPLE_STACKS)
def planned(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(request.param)
    assert main(["--stack", request.param, "--out", str(out)]) == 0
    return out


def test_the_plan_writes_every_artefact(planned: Path) -> None:
    resources = json.loads((planned / "resources.json").read_text())
    outputs = json.loads((planned / "outputs.json").read_text())
    assert {"type", "name", "parent", "dependsOn", "inputs"} == set(resources[0])
    assert {"kubeconfig", "apiEndpoint", "nodes"} <= set(outputs)
    assert outputs["kubeconfig"] == {"secret": True, "value": "[secret]"}
    commands = [r for r in resources if r["type"] == "command:remote:Command"]
    assert {p.name for p in (planned / "scripts").glob("*.sh") if not p.name.endswith(".delete.sh")} == {
        f"{c['name']}.sh" for c in commands
    }


def test_no_secret_text_reaches_any_plan_file(planned: Path) -> None:
    for path in planned.rglob("*"):
        if path.is_file():
            text = path.read_text()
            for marker in SECRET_MARKERS:
                assert marker not in text, f"{marker!r} in {path.relative_to(planned)}"


def test_every_plan_script_passes_shellcheck(planned: Path) -> None:
    scripts = sorted(str(p) for p in (planned / "scripts").glob("*.sh"))
    result = subprocess.run(
        [_tool("shellcheck"), "--severity=style", "--shell=bash", *scripts],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_resource_names_are_unique_and_parents_exist(planned: Path) -> None:
    resources = json.loads((planned / "resources.json").read_text())
    names = [r["name"] for r in resources]
    assert len(names) == len(set(names))
    assert {r["parent"] for r in resources} - {None} <= set(names)
    assert {d for r in resources for d in r["dependsOn"]} <= set(names)


def test_a_duplicate_resource_name_fails_the_plan_as_the_engine_would() -> None:
    recorder = Recorder()
    recorder.resources = [
        Resource("command:remote:Command", "x", "urn:1", "", [], {}),
        Resource("kubernetes:v1:ConfigMap", "x", "urn:2", "", [], {}),
    ]
    with pytest.raises(PlanError, match="two resources are both named 'x'"):
        resources_json(recorder)


BAD_STACK = """
config:
  kubevps:cluster: {name: bad, podSubnet: 10.96.0.0/16}
  kubevps:ssh: {privateKey: {secure: v1:abc}}
  kubevps:nodes:
    - {name: cp-1, role: control-plane, size: {cpu: 2, memoryGiB: 2, diskGiB: 40}, publicIp: 203.0.113.1}
    - {name: cp-2, role: control-plane, size: {cpu: 2, memoryGiB: 4, diskGiB: 40}}
"""


def _run_plan(tmp_path: Path, text: str, *extra: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "Pulumi.t.yaml").write_text(text)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.plan",
            "--stack",
            "t",
            "--stack-dir",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
            *extra,
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_bad_config_exits_2_with_one_line_per_problem_and_no_traceback(tmp_path: Path) -> None:
    result = _run_plan(tmp_path, BAD_STACK)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert "kubevps:nodes[0].size.memoryGiB: 2 is below the minimum of 4" in lines
    assert (
        "kubevps:nodes[1].publicIp: required for provider existing (the address Pulumi reaches over SSH)"
        in lines
    )
    assert any(line.startswith("kubevps:nodes: 2 control-plane nodes") for line in lines)
    assert any(line.startswith("kubevps:cluster.serviceSubnet: 10.96.0.0/12 overlaps") for line in lines)
    assert all(line.startswith("kubevps:") for line in lines)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config: [1, 2", "not valid YAML"),
        ("- just a list", "expected a mapping"),
    ],
    ids=["broken YAML", "not a mapping"],
)
def test_an_unreadable_stack_file_exits_2(tmp_path: Path, text: str, message: str) -> None:
    result = _run_plan(tmp_path, text)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_stack_names_the_ones_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "nowhere"]) == 2
    assert "stacks: dev, prod-fra, prod-sgp" in capsys.readouterr().err


def test_a_plain_text_key_in_the_stack_file_is_refused(tmp_path: Path) -> None:
    document = yaml.safe_load(BAD_STACK)
    document["config"]["kubevps:ssh"] = {"privateKey": private_key()}
    result = _run_plan(tmp_path, yaml.safe_dump(document))
    assert result.returncode == 2
    assert "kubevps:ssh.privateKey: must be a secret" in result.stderr
    assert "PRIVATE KEY" not in result.stderr + result.stdout


def test_a_fifty_node_stack_plans(tmp_path: Path) -> None:
    nodes = [
        {
            "name": f"n-{i}",
            "role": "control-plane" if i < 3 else "worker",
            "provider": "hcloud",
            "region": "fsn1",
            "size": "cpx31",
        }
        for i in range(50)
    ]
    document = {
        "config": {
            "kubevps:cluster": {"name": "big"},
            "kubevps:ssh": {"privateKey": {"secure": "v1:abc"}},
            "kubevps:nodes": nodes,
        }
    }
    result = _run_plan(tmp_path, yaml.safe_dump(document))
    assert result.returncode == 0, result.stderr
    resources = json.loads((tmp_path / "o" / "resources.json").read_text())
    assert len([r for r in resources if r["type"] == "hcloud:index/server:Server"]) == 50
    assert "plan of stack t" in result.stdout


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is installed by make setup"
    return found
