"""copy-image.sh, run for real against a stand-in ``ssh`` that records what it was given."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from infra.addons.scheduler_image import COPY_SCRIPT

FAKE_SSH = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$RECORD_DIR/argv"
for arg in "$@"; do if [[ -f $arg ]]; then cp "$arg" "$RECORD_DIR/identity"; fi; done
cat > "$RECORD_DIR/stdin"
"""
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n"


def _run(tmp_path: Path, tarball: Path) -> subprocess.CompletedProcess[str]:
    bin_dir, record = tmp_path / "bin", tmp_path / "record"
    bin_dir.mkdir()
    record.mkdir()
    (bin_dir / "ssh").write_text(FAKE_SSH)
    (bin_dir / "ssh").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "RECORD_DIR": str(record),
        "TMPDIR": str(tmp_path / "tmp"),
        "KUBEVPS_HOST": "203.0.113.7",
        "KUBEVPS_USER": "root",
        "KUBEVPS_TARBALL": str(tarball),
        "KUBEVPS_REMOTE_PATH": "/tmp/kubevps-custom-scheduler.tar",
    }
    (tmp_path / "tmp").mkdir()
    return subprocess.run(
        ["bash", str(COPY_SCRIPT)], input=KEY, env=env, capture_output=True, text=True, check=False
    )


def test_the_tarball_is_streamed_to_the_node_with_the_key_from_stdin(tmp_path: Path) -> None:
    tarball = tmp_path / "image.tar"
    tarball.write_bytes(b"docker-archive-bytes")
    result = _run(tmp_path, tarball)
    assert result.returncode == 0, result.stderr
    record = tmp_path / "record"
    argv = (record / "argv").read_text()
    assert (record / "stdin").read_bytes() == b"docker-archive-bytes"
    assert (record / "identity").read_text() == KEY, "ssh got the key from a file"
    assert "PRIVATE KEY" not in argv
    assert "root@203.0.113.7" in argv
    assert "cat > /tmp/kubevps-custom-scheduler.tar" in argv
    assert not list((tmp_path / "tmp").iterdir()), "the key's temp dir is removed"


def test_a_missing_tarball_says_how_to_rebuild_it(tmp_path: Path) -> None:
    result = _run(tmp_path, tmp_path / "absent.tar")
    assert result.returncode == 1
    assert "is missing" in result.stderr
    assert "--target-replace" in result.stderr
    assert not (tmp_path / "record" / "argv").exists()


@pytest.mark.parametrize("path", ["relative/path.tar", "/tmp/x.tar; rm -rf /"])
def test_a_remote_path_that_is_not_plain_is_refused(tmp_path: Path, path: str) -> None:
    tarball = tmp_path / "image.tar"
    tarball.write_bytes(b"x")
    result = subprocess.run(
        ["bash", str(COPY_SCRIPT)],
        input=KEY,
        env={
            **os.environ,
            "KUBEVPS_HOST": "h",
            "KUBEVPS_USER": "u",
            "KUBEVPS_TARBALL": str(tarball),
            "KUBEVPS_REMOTE_PATH": path,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "expected a plain absolute path" in result.stderr
