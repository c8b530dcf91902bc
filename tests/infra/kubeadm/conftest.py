"""Fixtures for running the bootstrap scripts on this machine, against fakes, without touching the host.

A `Sandbox` runs a script as root in a private mount namespace (`unshare -m`) whose `/etc` is an
overlay: a copy of this machine's /etc made once per session, under a per-test upper layer in the
test's tmp_path. The scripts run unmodified, with their real paths (`/etc/kubernetes/...`); what they
write lands in the upper layer, and the host's `/etc` never changes.

Commands named in `Sandbox.fakes` are replaced by small shell programs on PATH. The commands in
TRACED_COMMANDS run for real behind a shim that records their argv; with the fakes, that covers every
process the join scripts start (gzip included, which tar starts), so a test can prove that a secret
never reached any command line.

Needs root, mount namespaces and overlayfs; tests that use it are skipped otherwise, with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infra.kubeadm import scripts
from infra.kubeadm.render import render_init_configuration

# Commands the scripts under test start; each one gets an argv-recording shim in front of the real one.
TRACED_COMMANDS: tuple[str, ...] = (
    "awk", "base64", "cat", "chmod", "cmp", "curl", "dirname", "find", "grep", "gzip", "hostname", "install",
    "mktemp", "mv", "rm", "sed", "tar",
)  # fmt: skip


@dataclass(frozen=True)
class Run:
    """The outcome of one sandboxed script run."""

    returncode: int
    stdout: str
    stderr: str
    argv_log: str  # one line per started process (shims and fakes): "name arg1 arg2 ..."

    def argv(self, command: str) -> list[str]:
        """The recorded invocations of `command`, each as its argument string."""
        prefix = command + " "
        return [line.removeprefix(prefix) for line in self.argv_log.splitlines() if line.startswith(prefix)]

    def assert_ok(self) -> None:
        assert self.returncode == 0, f"exit {self.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"

    def assert_fails(self, *fragments: str) -> None:
        """The run failed, and its stderr names each of `fragments`."""
        assert self.returncode != 0, f"expected a failure\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        for fragment in fragments:
            assert fragment in self.stderr, f"{fragment!r} not in stderr:\n{self.stderr}"


@dataclass
class Sandbox:
    """A persistent fake host: `etc` (upper layer over `lower`) is mounted over /etc for each run, `tmp`
    is its TMPDIR; state persists from one run to the next, as on a real host."""

    root: Path
    lower: Path
    fakes: dict[str, str] = field(default_factory=dict)
    # Host directories (besides /etc) replaced by empty, persistent per-sandbox ones, e.g. ("/var/lib",).
    state_dirs: tuple[str, ...] = ()
    # Run in a new, empty network namespace, so no firewall or interface of this machine can be touched.
    private_network: bool = False

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def out(self) -> Path:
        """A directory fakes may write to (exported to them as $FAKE_OUT)."""
        return self.root / "out"

    def write(self, path: str, content: str | bytes, mode: int = 0o644) -> Path:
        """Create a file under the fake /etc, e.g. write("/etc/kubernetes/admin.conf", ...)."""
        assert path.startswith("/etc/"), path
        target = self.etc / path.removeprefix("/etc/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        target.chmod(mode)
        return target

    def state(self, path: str) -> Path:
        """Where a path under one of `state_dirs` lives on the real filesystem."""
        assert any(path == d or path.startswith(d + "/") for d in self.state_dirs), path
        return self.root / "state" / path.lstrip("/")

    def path(self, path: str) -> Path:
        """Where a /etc path of the sandbox lives on the real filesystem (written files are in the upper
        layer; unchanged ones in the session copy)."""
        assert path.startswith("/etc/"), path
        relative = path.removeprefix("/etc/")
        upper = self.etc / relative
        return upper if upper.exists() else self.lower / relative

    def run_command(
        self, command: str, *, stdin: str = "", env: Mapping[str, str] | None = None, shell: str = "sh"
    ) -> Run:
        """Run `command` with `shell -c` (as sshd runs a remote command) inside the sandbox."""
        bin_dir = self.root / "bin"
        shutil.rmtree(bin_dir, ignore_errors=True)
        bin_dir.mkdir()
        argv_log = self.root / "argv.log"
        argv_log.write_text("")
        for name in TRACED_COMMANDS:
            real = shutil.which(name)
            if real is not None and name not in self.fakes:
                _write_exec(bin_dir / name, f'log_argv "$@"\nexec {real} "$@"\n')
        for name, body in self.fakes.items():
            _write_exec(bin_dir / name, f'log_argv "$@"\n{body}\n')
        # Mount the overlay over /etc, then run the command; the mount dies with the namespace.
        work = self.root / "overlay-work"
        work.mkdir(exist_ok=True)
        overlay = f"lowerdir={self.lower},upperdir={self.etc},workdir={work}"
        mounts = [f"mount -t overlay overlay -o {overlay} /etc"]
        for directory in self.state_dirs:
            self.state(directory).mkdir(parents=True, exist_ok=True)
            mounts.append(f"mount --bind {self.state(directory)} {directory}")
        inner = " && ".join([*mounts, f'exec {shell} -c "$KUBEVPS_TEST_COMMAND"'])
        environment = {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "TMPDIR": str(self.tmp),
            "FAKE_OUT": str(self.out),
            "ARGV_LOG": str(argv_log),
            "KUBEVPS_TEST_COMMAND": command,
            "LC_ALL": "C.UTF-8",
            **(env or {}),
        }
        completed = subprocess.run(
            [
                "unshare",
                "--mount",
                *(["--net"] if self.private_network else []),
                "--propagation",
                "private",
                "bash",
                "-c",
                inner,
            ],
            input=stdin,
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
            check=False,
        )
        return Run(completed.returncode, completed.stdout, completed.stderr, argv_log.read_text())

    def run_step(
        self,
        step: str,
        params: Mapping[str, str],
        *,
        stdin: str = "",
        env: Mapping[str, str] | None = None,
        shell: str = "sh",
    ) -> Run:
        """Render `step` and run it exactly as the remote command would (login shell -> bash -c)."""
        command = scripts.remote_command(scripts.render_script(step, params), step=step, become_root=False)
        return self.run_command(command, stdin=stdin, env=env, shell=shell)

    def leftover_temp_files(self) -> list[str]:
        return sorted(path.name for path in self.tmp.iterdir())


# A ruleset of the shape the firewall renderer produces (table inet kubevps only).
REALISTIC_NFT_RULESET = """table inet kubevps {
  set cluster_nodes {
    type ipv4_addr
    elements = { 10.10.0.2, 10.10.0.3, 10.10.0.4 }
  }
  chain input {
    type filter hook input priority filter; policy drop;
    ct state established,related accept
    iif "lo" accept
    meta l4proto { icmp, ipv6-icmp } accept
    tcp dport 22 ip saddr { 0.0.0.0/0 } accept comment "ssh"
    tcp dport 6443 ip saddr @cluster_nodes accept comment "kube-apiserver"
    tcp dport 10250 ip saddr @cluster_nodes accept comment "kubelet"
    tcp dport 10250 ip saddr 10.244.0.0/16 accept comment "metrics-server"
    udp dport 4789 ip saddr @cluster_nodes accept comment "calico vxlan"
  }
}
"""


@pytest.fixture(scope="session")
def realistic_params() -> dict[str, dict[str, str]]:
    """Per step, parameters as the Pulumi components pass them (first control plane of an HA stack)."""
    kubeadm_config = render_init_configuration(
        cluster_name="prod-sgp",
        kubernetes_version="1.28.15",
        control_plane_endpoint="k8s.example.com:6443",
        cert_sans=["k8s.example.com", "203.0.113.10", "10.10.0.2"],
        pod_subnet="10.244.0.0/16",
        service_subnet="10.96.0.0/12",
        node_name="sgp-cp-1",
        node_ip="10.10.0.2",
        advertise_address="10.10.0.2",
        node_labels={"kubevps.dev/business-line": "payments"},
    )
    return {
        "preflight": {"NODE_NAME": "sgp-cp-1", "ROLE": "control-plane", "CPU": "2", "MEMORY_GIB": "4",
                      "DISK_GIB": "40"},
        "prepare": {"K8S_VERSION": "1.28.15", "NODE_IP": "10.10.0.2", "NFT_RULESET": REALISTIC_NFT_RULESET,
                    "NODE_LABELS": "kubevps.dev/business-line=payments"},
        "init": {"NODE_NAME": "sgp-cp-1", "KUBEADM_CONFIG": kubeadm_config},
        "cni": {"CNI": "calico", "POD_SUBNET": "10.244.0.0/16", "MTU": "1450"},
        "kubeconfig": {"API_ENDPOINT": "k8s.example.com:6443"},
        "join-credentials": {"NODE_NAME": "sgp-cp-2", "JOIN_AS": "control-plane",
                             "API_ENDPOINT": "k8s.example.com:6443", "TOKEN_TTL": "30m"},
        "join": {"NODE_NAME": "sgp-cp-2", "JOIN_AS": "control-plane", "ADVERTISE_ADDRESS": "10.10.0.3"},
        "drain": {"NODE_NAME": "sgp-w-3"},
        "reset": {},
        "deregister": {"NODE_NAME": "sgp-w-3"},
        "import-image": {
            "IMAGE_TAR": "/var/lib/kubevps/images/custom-scheduler.tar",
            "IMAGE_REF": "kubevps.local/custom-scheduler:3f2a9c1e5b7d",
        },
    }  # fmt: skip


def _write_exec(path: Path, body: str) -> None:
    # Fakes and shims are bash; log_argv appends "name args..." to $ARGV_LOG.
    prologue = '#!/bin/bash\nlog_argv() { printf "%s\\n" "$(basename "$0") $*" >>"$ARGV_LOG"; }\n'
    path.write_text(prologue + body)
    path.chmod(0o755)


def _sandbox_support(probe_dir: Path) -> str | None:
    if os.geteuid() != 0:
        return "needs root (the scripts check for it, and mount namespaces need it)"
    if shutil.which("unshare") is None:
        return "needs unshare(1)"
    for name in ("lower", "upper", "work"):
        (probe_dir / name).mkdir(parents=True)
    options = f"lowerdir={probe_dir}/lower,upperdir={probe_dir}/upper,workdir={probe_dir}/work"
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "mount", "-t", "overlay", "overlay", "-o", options,
         str(probe_dir / "lower")],
        capture_output=True,
        check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        return f"cannot mount an overlay in a private mount namespace here: {probe.stderr.decode().strip()}"
    return None


@pytest.fixture(scope="session")
def etc_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This machine's /etc, copied once per session, without any Kubernetes state it may have."""
    reason = _sandbox_support(tmp_path_factory.mktemp("overlay-probe"))
    if reason is not None:
        pytest.skip(f"sandboxed script run: {reason}")
    copy = tmp_path_factory.mktemp("etc-copy") / "etc"
    subprocess.run(["cp", "-a", "/etc", str(copy)], check=True)
    shutil.rmtree(copy / "kubernetes", ignore_errors=True)
    return copy


@pytest.fixture
def sandbox_factory(tmp_path: Path, etc_copy: Path) -> Callable[[], Sandbox]:
    """Makes fresh fake hosts, each with its own writable /etc."""
    count = 0

    def make() -> Sandbox:
        nonlocal count
        count += 1
        box = Sandbox(root=tmp_path / f"host-{count}", lower=etc_copy)
        for directory in (box.etc, box.tmp, box.out):
            directory.mkdir(parents=True)
        return box

    return make


@pytest.fixture
def sandbox(sandbox_factory: Callable[[], Sandbox]) -> Sandbox:
    """One fresh fake host."""
    return sandbox_factory()
