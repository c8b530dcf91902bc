"""The bootstrap scripts as data: read one, bind its parameters, wrap it into a remote command.

Each step is a real shell file in `scripts/<step>.sh`. A script declares the parameters it reads in a
header line, `# kubevps-params: NAME OTHER [OPTIONAL]`, and reads each one as `KUBEVPS_<NAME>`.
`render_script` binds values by prepending `readonly KUBEVPS_<NAME>=<quoted value>` lines, so the text
that runs on a host is self-contained and can be shown as-is in the offline plan. Parameter values are
never secret: secrets reach a script only on its standard input.

`remote_command` passes the script to `bash -c` through a quoted here-document instead of piping it
into `bash -s`, so that the SSH session's standard input stays free for those secrets.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Final

STEPS: Final[tuple[str, ...]] = (
    "preflight",
    "prepare",
    "init",
    "cni",
    "kubeconfig",
    "join-credentials",
    "join",
    "drain",
    "reset",
    "deregister",
    "import-image",
)

SHEBANG: Final = "#!/usr/bin/env bash"
HEREDOC_DELIMITER: Final = "KUBEVPS_SCRIPT_EOF"
# Linux caps one argv string at 128 KiB (MAX_ARG_STRLEN) and the script travels as bash's `-c` argument.
MAX_SCRIPT_BYTES: Final = 120 * 1024

_PARAM_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_PARAMS_HEADER = re.compile(r"^# kubevps-params:(?P<names>.*)$", re.MULTILINE)
_COMMAND = re.compile(
    r"(?P<sudo>sudo -n )?bash -c \"\$\(cat <<'" + HEREDOC_DELIMITER + r"'\n"
    r"(?P<script>.*)\n" + HEREDOC_DELIMITER + r"\n\)\" kubevps-(?P<step>[a-z-]+)",
    re.DOTALL,
)


@dataclass(frozen=True)
class ScriptParams:
    """The parameters a script declares in its `# kubevps-params:` header (names without the prefix)."""

    required: tuple[str, ...]
    optional: tuple[str, ...]


@functools.cache
def script_body(step: str) -> str:
    """The text of `scripts/<step>.sh`.

    Raises:
        ValueError: `step` is not one of STEPS.
    """
    _check_step(step)
    return resources.files(__package__).joinpath("scripts", f"{step}.sh").read_text(encoding="utf-8")


def script_params(step: str) -> ScriptParams:
    """The parameters `step` declares.

    Raises:
        ValueError: unknown step, or a script whose header is missing, repeated or malformed (a bug).
    """
    headers = _PARAMS_HEADER.findall(script_body(step))
    if len(headers) != 1:
        raise ValueError(
            f"scripts/{step}.sh must have exactly one '# kubevps-params:' line, has {len(headers)}"
        )
    required: list[str] = []
    optional: list[str] = []
    for token in headers[0].split():
        is_optional = token.startswith("[") and token.endswith("]")
        name = token[1:-1] if is_optional else token
        if not _PARAM_NAME.fullmatch(name):
            raise ValueError(f"scripts/{step}.sh declares a malformed parameter {token!r}")
        (optional if is_optional else required).append(name)
    return ScriptParams(required=tuple(required), optional=tuple(optional))


def render_script(step: str, params: Mapping[str, str]) -> str:
    """The full text that runs on the host for `step`, with `params` bound as readonly KUBEVPS_* variables.

    Raises:
        ValueError: unknown step; a parameter name that is not [A-Z][A-Z0-9_]*, that the script does not
            declare, or a required one that is missing; a value that is not a string or holds a NUL byte.
    """
    declared = script_params(step)
    problems = []
    invalid = sorted(name for name in params if not _PARAM_NAME.fullmatch(name))
    if invalid:
        problems.append(f"invalid parameter names (expected [A-Z][A-Z0-9_]*, no KUBEVPS_ prefix): {invalid}")
    unknown = sorted(set(params) - set(declared.required) - set(declared.optional) - set(invalid))
    if unknown:
        problems.append(f"parameters {unknown} are not declared by scripts/{step}.sh")
    missing = sorted(set(declared.required) - set(params))
    if missing:
        problems.append(f"scripts/{step}.sh requires parameters {missing}")
    for name, value in params.items():
        if not isinstance(value, str):
            problems.append(f"parameter {name} must be a string, got {type(value).__name__}")
        elif "\0" in value:
            problems.append(f"parameter {name} contains a NUL byte, which a shell variable cannot hold")
    if problems:
        raise ValueError(f"cannot render step {step!r}: " + "; ".join(problems))

    body = script_body(step)
    if body.startswith("#!"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
    lines = [SHEBANG, f"# kubevps step: {step} (parameters bound by infra/kubeadm/scripts.py)"]
    lines += [f"readonly KUBEVPS_{name}={shlex.quote(params[name])}" for name in sorted(params)]
    return "\n".join(lines) + "\n" + body


def remote_command(script: str, *, step: str, become_root: bool) -> str:
    """The `create` command of a `pulumi_command.remote.Command` that runs `script` on the host.

    The script becomes the `-c` argument of bash (via a quoted here-document, so nothing in it is expanded
    by the login shell, which may be dash or bash) and `$0` is `kubevps-<step>`. Standard input is left to
    the script. With `become_root`, the command runs through `sudo -n` (the SSH user needs passwordless
    sudo without a tty; pulumi-command allocates none).

    Raises:
        ValueError: unknown step; a script line equal to the here-document delimiter (it would end the
            document early); a script too long for one argv string.
    """
    _check_step(step)
    if HEREDOC_DELIMITER in script.split("\n"):
        raise ValueError(
            f"the script for step {step!r} has a line {HEREDOC_DELIMITER!r}, which would end it early"
        )
    if len(script.encode("utf-8")) > MAX_SCRIPT_BYTES:
        raise ValueError(
            f"the script for step {step!r} is {len(script.encode('utf-8'))} bytes; the limit is "
            f"{MAX_SCRIPT_BYTES} (one argv string); ship large inputs another way"
        )
    script = script.rstrip("\n")  # command substitution drops trailing newlines anyway
    sudo = "sudo -n " if become_root else ""
    return f"{sudo}bash -c \"$(cat <<'{HEREDOC_DELIMITER}'\n{script}\n{HEREDOC_DELIMITER}\n)\" kubevps-{step}"


def extract_script(command: str) -> str | None:
    """The script inside a command built by `remote_command`, or None if `command` is not one of ours.

    The result equals the script given to `remote_command` up to trailing newlines, which the shell's
    command substitution removes too; it ends with exactly one newline.
    """
    match = _COMMAND.fullmatch(command)
    if match is None or match["step"] not in STEPS:
        return None
    return match["script"] + "\n"


def _check_step(step: str) -> None:
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}; expected one of {', '.join(STEPS)}")
