"""Specification of infra/kubeadm/scripts.py: reading scripts, binding parameters, the remote command.

Quoting and transport are proven by execution, not by inspecting strings: rendered prologues run in
bash and print their variables back; remote commands run through `sh -c` (dash here) and `bash -c`,
as sshd runs them with either login shell.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from infra.kubeadm import scripts

HOSTILE_VALUES = [
    pytest.param("plain", id="plain"),
    pytest.param("", id="empty"),
    pytest.param('it\'s "quoted"', id="quotes"),
    pytest.param("$(touch /tmp/kubevps-pwned) `id` ${HOME}", id="substitutions"),
    pytest.param("line 1\nline 2\n\n", id="newlines"),
    pytest.param("KUBEVPS_SCRIPT_EOF", id="heredoc-delimiter-inside-a-value-line"),
    pytest.param("a\\b; rm -rf / #", id="backslash-and-separator"),
    pytest.param("ünïcødé ✓", id="unicode"),
    pytest.param("-n", id="looks-like-an-option"),
]

# A probe with the structure of a real step: header, params, strict mode; prints one param and stdin.
PROBE_BODY = """#!/usr/bin/env bash
# kubevps-params: NODE_NAME
set -euo pipefail
printf 'param=%s\\n' "$KUBEVPS_NODE_NAME"
printf 'argv0=%s\\n' "$0"
printf 'stdin=%s\\n' "$(cat)"
"""


def _bash_prints_variable(script: str, name: str) -> str:
    """Run the rendered script's prologue (everything up to its body) and print one variable."""
    prologue = script.split("\n# kubevps-params:", 1)[0]
    completed = subprocess.run(
        ["bash", "-c", prologue + f'\nprintf "%s" "${name}"'], capture_output=True, text=True, check=True
    )
    return completed.stdout


def test_steps_are_the_bootstrap_ones_in_order_then_the_image_import() -> None:
    assert scripts.STEPS == (
        "preflight", "prepare", "init", "cni", "kubeconfig", "join-credentials", "join", "drain", "reset",
        "deregister", "import-image",
    )  # fmt: skip


@pytest.mark.parametrize("step", scripts.STEPS)
def test_script_body_is_the_file_on_disk(step: str) -> None:
    path = Path(scripts.__file__).parent / "scripts" / f"{step}.sh"

    assert scripts.script_body(step) == path.read_text()


def test_unknown_step_is_rejected_everywhere() -> None:
    with pytest.raises(ValueError, match="unknown step 'upgrade'"):
        scripts.script_body("upgrade")
    with pytest.raises(ValueError, match="unknown step"):
        scripts.render_script("upgrade", {})
    with pytest.raises(ValueError, match="unknown step"):
        scripts.remote_command("#!/usr/bin/env bash\n", step="upgrade", become_root=False)


@pytest.mark.parametrize(
    ("step", "required", "optional"),
    [
        ("preflight", ("NODE_NAME", "ROLE", "CPU", "MEMORY_GIB", "DISK_GIB"), ()),
        ("prepare", ("K8S_VERSION", "NODE_IP", "NFT_RULESET"), ("NODE_LABELS", "NODE_TAINTS")),
        ("init", ("NODE_NAME", "KUBEADM_CONFIG"), ()),
        ("cni", ("CNI", "POD_SUBNET", "MTU"), ()),
        ("kubeconfig", ("API_ENDPOINT",), ()),
        ("join-credentials", ("NODE_NAME", "JOIN_AS", "API_ENDPOINT", "TOKEN_TTL"), ()),
        ("join", ("NODE_NAME", "JOIN_AS"), ("ADVERTISE_ADDRESS",)),
        ("drain", ("NODE_NAME",), ()),
        ("reset", (), ()),
        ("deregister", ("NODE_NAME",), ()),
    ],
)
def test_declared_params(step: str, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    assert scripts.script_params(step) == scripts.ScriptParams(required=required, optional=optional)


def test_render_starts_with_shebang_step_comment_and_sorted_readonly_params() -> None:
    text = scripts.render_script("join", {"NODE_NAME": "w-1", "JOIN_AS": "worker"})
    lines = text.splitlines()

    assert lines[0] == "#!/usr/bin/env bash"
    assert lines[1].startswith("# kubevps step: join")
    assert lines[2:4] == ["readonly KUBEVPS_JOIN_AS=worker", "readonly KUBEVPS_NODE_NAME=w-1"]
    assert text.endswith(scripts.script_body("join").split("\n", 1)[1])
    assert text.count("#!") == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"NODE_NAME": "w-1"}, "requires parameters ['JOIN_AS']", id="missing-required"),
        pytest.param(
            {"NODE_NAME": "w-1", "JOIN_AS": "worker", "TOKEN": "x"},
            "parameters ['TOKEN'] are not declared by scripts/join.sh",
            id="undeclared",
        ),
        pytest.param(
            {"NODE_NAME": "w-1", "JOIN_AS": "worker", "node_ip": "x"},
            "invalid parameter names",
            id="lowercase",
        ),
        pytest.param(
            {"NODE_NAME": "w-1", "JOIN_AS": "worker", "KUBEVPS_NODE_NAME": "x"},
            "are not declared",
            id="prefixed-name-is-just-undeclared",
        ),
        pytest.param(
            {"NODE_NAME": "w-1", "JOIN_AS": "worker", "1X": "x"}, "invalid parameter names", id="digit"
        ),
        pytest.param(
            {"NODE_NAME": "w-1", "JOIN_AS": "worker", "A-B": "x"}, "invalid parameter names", id="dash"
        ),
        pytest.param({"NODE_NAME": "w\0-1", "JOIN_AS": "worker"}, "NUL byte", id="nul-byte"),
        pytest.param({"NODE_NAME": 1, "JOIN_AS": "worker"}, "must be a string", id="not-a-string"),
    ],
)
def test_render_rejects_bad_params_naming_them(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match="cannot render step 'join'") as raised:
        scripts.render_script("join", params)

    assert message in str(raised.value)


def test_optional_param_may_be_omitted() -> None:
    text = scripts.render_script("join", {"NODE_NAME": "w-1", "JOIN_AS": "worker"})

    assert "KUBEVPS_ADVERTISE_ADDRESS=" not in text


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_values_reach_bash_byte_for_byte(value: str) -> None:
    script = scripts.render_script("drain", {"NODE_NAME": value})

    assert _bash_prints_variable(script, "KUBEVPS_NODE_NAME") == value
    assert not Path("/tmp/kubevps-pwned").exists()


def test_params_are_readonly_in_the_script() -> None:
    script = scripts.render_script("drain", {"NODE_NAME": "w-1"})
    prologue = script.split("\n# kubevps-params:", 1)[0]

    completed = subprocess.run(
        ["bash", "-c", prologue + "\nKUBEVPS_NODE_NAME=other"], capture_output=True, check=False
    )

    assert completed.returncode != 0
    assert b"readonly variable" in completed.stderr


@pytest.fixture
def probe_step(monkeypatch: pytest.MonkeyPatch) -> str:
    """Make the `drain` step's body the probe script, so transport is tested on known output."""
    real_body = scripts.script_body

    def body(step: str) -> str:
        return PROBE_BODY if step == "drain" else real_body(step)

    monkeypatch.setattr(scripts, "script_body", body)
    return "drain"


@pytest.mark.parametrize("login_shell", ["sh", "bash"])
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_remote_command_runs_the_script_and_leaves_stdin_to_it(
    login_shell: str, value: str, probe_step: str
) -> None:
    script = scripts.render_script(probe_step, {"NODE_NAME": value})
    command = scripts.remote_command(script, step=probe_step, become_root=False)

    completed = subprocess.run(
        [login_shell, "-c", command], input="secret from stdin", capture_output=True, text=True, check=False
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"param={value}\nargv0=kubevps-drain\nstdin=secret from stdin\n"


@pytest.mark.parametrize("login_shell", ["sh", "bash"])
@pytest.mark.parametrize("step", scripts.STEPS)
def test_remote_command_delivers_every_real_script_intact(
    login_shell: str, step: str, tmp_path: Path, realistic_params: dict[str, dict[str, str]]
) -> None:
    # A stand-in `bash` on PATH saves the -c argument it receives instead of running it: the real
    # scripts (with their quotes, case patterns, here-documents) must arrive unchanged through the
    # login shell's parsing of the here-document inside a command substitution.
    received = tmp_path / "received.sh"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "bash").write_text(
        f'#!/bin/sh\nprintf "%s" "$2" > {received}\nprintf "%s" "$3" > {received}.0\n'
    )
    (fake_bin / "bash").chmod(0o755)
    script = scripts.render_script(step, realistic_params[step])
    command = scripts.remote_command(script, step=step, become_root=False)

    shell = shutil.which(login_shell)
    assert shell is not None
    subprocess.run([shell, "-c", command], env={"PATH": f"{fake_bin}:/usr/bin:/bin"}, check=True)

    assert received.read_text() == script.rstrip("\n")
    assert Path(f"{received}.0").read_text() == f"kubevps-{step}"


@pytest.mark.parametrize("login_shell", ["sh", "bash"])
def test_become_root_command_passes_script_argv0_and_stdin_through_sudo(
    login_shell: str, probe_step: str, tmp_path: Path
) -> None:
    # A stand-in sudo that insists on -n (no password prompt, no tty) and then runs the command as given.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "sudo").write_text('#!/bin/sh\n[ "$1" = -n ] || exit 99\nshift\nexec "$@"\n')
    (fake_bin / "sudo").chmod(0o755)
    command = scripts.remote_command(
        scripts.render_script(probe_step, {"NODE_NAME": "it's $(x)"}), step=probe_step, become_root=True
    )

    completed = subprocess.run(
        [login_shell, "-c", command],
        input="secret",
        capture_output=True,
        text=True,
        env={"PATH": f"{fake_bin}:/usr/bin:/bin"},
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "param=it's $(x)\nargv0=kubevps-drain\nstdin=secret\n"


def test_become_root_runs_through_non_interactive_sudo() -> None:
    script = scripts.render_script("reset", {})

    assert scripts.remote_command(script, step="reset", become_root=True).startswith("sudo -n bash -c ")
    assert scripts.remote_command(script, step="reset", become_root=False).startswith("bash -c ")


def test_remote_command_rejects_a_script_line_equal_to_the_delimiter() -> None:
    with pytest.raises(ValueError, match="would end it early"):
        scripts.remote_command(
            "#!/usr/bin/env bash\nKUBEVPS_SCRIPT_EOF\nrm -rf /\n", step="reset", become_root=False
        )


def test_remote_command_rejects_a_script_too_long_for_one_argument() -> None:
    with pytest.raises(ValueError, match="the limit is"):
        scripts.remote_command("#" * (scripts.MAX_SCRIPT_BYTES + 1), step="reset", become_root=False)


@pytest.mark.parametrize("become_root", [True, False])
@pytest.mark.parametrize("step", scripts.STEPS)
def test_extract_script_inverts_remote_command(
    step: str, become_root: bool, realistic_params: dict[str, dict[str, str]]
) -> None:
    script = scripts.render_script(step, realistic_params[step])

    assert (
        scripts.extract_script(scripts.remote_command(script, step=step, become_root=become_root)) == script
    )


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("kubeadm reset -f", id="other-command"),
        pytest.param(
            "bash -c \"$(cat <<'KUBEVPS_SCRIPT_EOF'\necho hi\nKUBEVPS_SCRIPT_EOF\n)\" kubevps-upgrade",
            id="bad-step",
        ),
        pytest.param(
            "sudo bash -c \"$(cat <<'KUBEVPS_SCRIPT_EOF'\necho\nKUBEVPS_SCRIPT_EOF\n)\" kubevps-reset",
            id="sudo",
        ),
        pytest.param(
            "bash -c \"$(cat <<'KUBEVPS_SCRIPT_EOF'\necho\nKUBEVPS_SCRIPT_EOF\n)\" kubevps-reset; id",
            id="tail",
        ),
    ],
)
def test_extract_script_returns_none_for_foreign_commands(command: str) -> None:
    assert scripts.extract_script(command) is None
