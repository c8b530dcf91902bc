"""Behaviour of join-credentials.sh and join.sh, run for real in a sandbox (see conftest.py).

`kubeadm` is a fake: `token create` prints a token, `join` records what it was given and writes
kubelet.conf as a successful join would. Everything else (base64, tar, install, mktemp, ...) is real,
behind shims that record every argv, which is how these tests prove the bootstrap token and the CA key
never reach a command line. What the fakes cannot show: that a real kubeadm accepts the discovery file
(that needs a cluster).
"""

from __future__ import annotations

import base64
import io
import stat
import tarfile

import pytest

TOKEN = "k8svps.0123456789abcdef"
SHARED_PKI = [
    "ca.crt",
    "ca.key",
    "sa.key",
    "sa.pub",
    "front-proxy-ca.crt",
    "front-proxy-ca.key",
    "etcd/ca.crt",
    "etcd/ca.key",
]

# Fake kubeadm on the first control plane: mints TOKEN.
FAKE_KUBEADM_TOKEN = f"""
[[ "$1 $2" == "token create" ]] || {{ echo "unexpected kubeadm $*" >&2; exit 2; }}
printf '%s\\n' {TOKEN}
"""

# Fake kubeadm on the joining node: keeps what it saw, then writes kubelet.conf like a real join.
FAKE_KUBEADM_JOIN = """
[[ $1 == join ]] || { echo "unexpected kubeadm $*" >&2; exit 2; }
while (($#)); do
  if [[ $1 == --discovery-file ]]; then cp "$2" "$FAKE_OUT/discovery.conf.seen"; fi
  shift
done
ls -l /etc/kubernetes/pki > "$FAKE_OUT/pki-at-join.txt" 2>&1 || true
mkdir -p /etc/kubernetes && printf 'kind: Config\\n' > /etc/kubernetes/kubelet.conf
"""


@pytest.fixture
def control_plane(sandbox):
    """The first control plane after init: admin.conf and the shared PKI exist."""
    sandbox.write("/etc/kubernetes/admin.conf", "kind: Config\n", 0o600)
    for name in SHARED_PKI:
        sandbox.write(
            f"/etc/kubernetes/pki/{name}", f"pem of {name}\n", 0o600 if name.endswith(".key") else 0o644
        )
    sandbox.fakes["kubeadm"] = FAKE_KUBEADM_TOKEN
    return sandbox


def _credentials(control_plane, join_as: str, node: str = "sgp-w-1"):
    run = control_plane.run_step(
        "join-credentials",
        {"NODE_NAME": node, "JOIN_AS": join_as, "API_ENDPOINT": "k8s.example.com:6443", "TOKEN_TTL": "30m"},
    )
    run.assert_ok()
    return run


def _bundle_members(stdout: str) -> dict[str, bytes]:
    with tarfile.open(
        fileobj=io.BytesIO(base64.b64decode(stdout.rstrip("\n"), validate=True)), mode="r:gz"
    ) as archive:
        return {
            member.name.removeprefix("./"): archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
        }


def test_credentials_are_one_base64_line_holding_a_discovery_kubeconfig(control_plane) -> None:
    run = _credentials(control_plane, "worker")

    assert run.stdout.endswith("\n")
    assert run.stdout.count("\n") == 1
    members = _bundle_members(run.stdout)
    assert set(members) == {"discovery.conf"}
    discovery = members["discovery.conf"].decode()
    ca_data = base64.b64encode(b"pem of ca.crt\n").decode()
    assert "    server: https://k8s.example.com:6443\n" in discovery
    assert f"    certificate-authority-data: {ca_data}\n" in discovery
    assert f"    token: {TOKEN}\n" in discovery
    assert "current-context: tls-bootstrap-token-user@kubernetes" in discovery


def test_token_is_minted_fresh_with_the_ttl_and_a_description(control_plane) -> None:
    run = _credentials(control_plane, "worker")

    assert run.argv("kubeadm") == [
        "token create --kubeconfig /etc/kubernetes/admin.conf --ttl 30m --description kubevps join of sgp-w-1"
    ]
    assert "minted a bootstrap token for sgp-w-1" in run.stderr


def test_control_plane_credentials_carry_the_shared_pki(control_plane) -> None:
    members = _bundle_members(_credentials(control_plane, "control-plane").stdout)

    assert set(members) == {"discovery.conf", *(f"pki/{name}" for name in SHARED_PKI)}
    assert members["pki/etcd/ca.key"] == b"pem of etcd/ca.key\n"


def test_credentials_leave_no_temporary_files_and_no_secret_on_any_command_line(control_plane) -> None:
    run = _credentials(control_plane, "control-plane")

    assert control_plane.leftover_temp_files() == []
    # The shims did see the work, so the absence of secrets below means something.
    assert run.argv("tar")
    assert run.argv("gzip")
    assert run.argv("base64")
    assert TOKEN not in run.argv_log
    assert "pem of ca.key" not in run.argv_log


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(
            {"JOIN_AS": "master"}, "JOIN_AS is 'master'; expected worker or control-plane", id="join-as"
        ),
        pytest.param({"TOKEN_TTL": "0m"}, "TOKEN_TTL is '0m'; expected a non-zero duration", id="ttl-zero"),
        pytest.param({"TOKEN_TTL": "30"}, "TOKEN_TTL is '30'", id="ttl-no-unit"),
        pytest.param({"API_ENDPOINT": "k8s.example.com"}, "API_ENDPOINT is 'k8s.example.com'", id="endpoint"),
    ],
)
def test_credentials_refuse_bad_params(control_plane, params: dict[str, str], message: str) -> None:
    base = {"NODE_NAME": "w", "JOIN_AS": "worker", "API_ENDPOINT": "k8s.example.com:6443", "TOKEN_TTL": "30m"}

    run = control_plane.run_step("join-credentials", {**base, **params})

    run.assert_fails(message)
    assert run.stdout == ""
    assert run.argv("kubeadm") == []


def test_credentials_before_init_fail_with_an_explanation(sandbox) -> None:
    sandbox.fakes["kubeadm"] = FAKE_KUBEADM_TOKEN
    run = sandbox.run_step(
        "join-credentials",
        {"NODE_NAME": "w", "JOIN_AS": "worker", "API_ENDPOINT": "k8s.example.com:6443", "TOKEN_TTL": "30m"},
    )

    run.assert_fails("come from the first control plane after init")


def test_worker_joins_with_the_discovery_file_and_no_secret_in_argv(control_plane, sandbox_factory) -> None:
    bundle = _credentials(control_plane, "worker").stdout
    node = sandbox_factory()
    node.fakes["kubeadm"] = FAKE_KUBEADM_JOIN

    run = node.run_step("join", {"NODE_NAME": "sgp-w-1", "JOIN_AS": "worker"}, stdin=bundle)

    run.assert_ok()
    (join_argv,) = run.argv("kubeadm")
    assert join_argv.startswith("join --discovery-file ")
    assert join_argv.endswith("/bundle/discovery.conf --node-name sgp-w-1")
    assert f"token: {TOKEN}" in (node.out / "discovery.conf.seen").read_text()
    assert TOKEN not in run.argv_log
    assert node.leftover_temp_files() == []
    assert node.path("/etc/kubernetes/kubelet.conf").exists()


def test_control_plane_installs_the_pki_before_joining_with_its_flags(control_plane, sandbox_factory) -> None:
    bundle = _credentials(control_plane, "control-plane", node="sgp-cp-2").stdout
    node = sandbox_factory()
    node.fakes["kubeadm"] = FAKE_KUBEADM_JOIN

    run = node.run_step(
        "join",
        {"NODE_NAME": "sgp-cp-2", "JOIN_AS": "control-plane", "ADVERTISE_ADDRESS": "10.10.0.3"},
        stdin=bundle,
    )

    run.assert_ok()
    (join_argv,) = run.argv("kubeadm")
    assert join_argv.endswith(
        "/bundle/discovery.conf --node-name sgp-cp-2 --control-plane --apiserver-advertise-address 10.10.0.3"
    )
    assert "ca.key" in (node.out / "pki-at-join.txt").read_text()
    for name in SHARED_PKI:
        installed = node.path(f"/etc/kubernetes/pki/{name}")
        assert installed.read_text() == f"pem of {name}\n"
        assert stat.S_IMODE(installed.stat().st_mode) == (0o600 if name.endswith(".key") else 0o644), name
    assert "pem of ca.key" not in run.argv_log
    assert TOKEN not in run.argv_log
    assert node.leftover_temp_files() == []


def test_second_join_is_a_no_op_that_still_reads_stdin(control_plane, sandbox_factory) -> None:
    bundle = _credentials(control_plane, "worker").stdout
    node = sandbox_factory()
    node.fakes["kubeadm"] = FAKE_KUBEADM_JOIN
    node.run_step("join", {"NODE_NAME": "sgp-w-1", "JOIN_AS": "worker"}, stdin=bundle).assert_ok()

    again = node.run_step("join", {"NODE_NAME": "sgp-w-1", "JOIN_AS": "worker"}, stdin=bundle)

    again.assert_ok()
    assert again.argv("kubeadm") == []
    # Two argument-less cats: the remote command's here-document, and the one draining stdin so the
    # sender never sees a closed pipe.
    assert again.argv("cat") == ["", ""]
    assert "already joined" in again.stderr


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        pytest.param("", "stdin is empty", id="empty"),
        pytest.param("not base64 at all!\n", "decoding failed", id="not-base64"),
        pytest.param(base64.b64encode(b"plain text").decode(), "is not a tar.gz", id="not-a-tarball"),
    ],
)
def test_join_refuses_a_bad_bundle(sandbox, stdin: str, message: str) -> None:
    sandbox.fakes["kubeadm"] = FAKE_KUBEADM_JOIN

    run = sandbox.run_step("join", {"NODE_NAME": "w", "JOIN_AS": "worker"}, stdin=stdin)

    run.assert_fails(message)
    assert run.argv("kubeadm") == []
    assert sandbox.leftover_temp_files() == []


def test_control_plane_join_needs_an_advertise_address(sandbox) -> None:
    run = sandbox.run_step("join", {"NODE_NAME": "cp", "JOIN_AS": "control-plane"}, stdin="x")

    run.assert_fails("ADVERTISE_ADDRESS is required to join as a control plane")


def test_failed_join_says_how_to_recover(control_plane, sandbox_factory) -> None:
    bundle = _credentials(control_plane, "worker").stdout
    node = sandbox_factory()
    node.fakes["kubeadm"] = "echo '[preflight] Some fatal errors occurred' >&2; exit 1"

    run = node.run_step("join", {"NODE_NAME": "sgp-w-1", "JOIN_AS": "worker"}, stdin=bundle)

    run.assert_fails("kubeadm join of sgp-w-1 failed (exit 1", "kubeadm reset -f")
    assert node.leftover_temp_files() == []
