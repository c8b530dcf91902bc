"""Behaviour of init.sh, kubeconfig.sh, drain.sh and deregister.sh, run for real in a sandbox.

`kubeadm` and `kubectl` are fakes that record their arguments (and, for kubectl, answer as an API
server that is up, down, or without the node). Files are real, under the sandbox's /etc.
"""

from __future__ import annotations

import stat

import pytest

from infra.kubeadm.render import render_init_configuration

ADMIN_CONF = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://10.10.0.2:6443
  name: prod-sgp
contexts:
- context:
    cluster: prod-sgp
    user: kubernetes-admin
  name: kubernetes-admin@prod-sgp
current-context: kubernetes-admin@prod-sgp
kind: Config
users:
- name: kubernetes-admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
"""

# Fake kubeadm init: records the config it was given, then leaves admin.conf like a real init.
FAKE_KUBEADM_INIT = """
cp "$3" "$FAKE_OUT/config.seen"
stat -c %a "$3" > "$FAKE_OUT/config.mode"
printf 'kind: Config\\n' > /etc/kubernetes/admin.conf
"""

# Fake kubectl: API up or down ($FAKE_API=down), node present, absent or failing ($FAKE_NODE).
FAKE_KUBECTL = """
args=" $* "
if [[ $args == *" get --raw=/readyz "* ]]; then
  [[ ${FAKE_API:-up} == up ]] || { echo "The connection to the server was refused" >&2; exit 1; }
  echo ok
elif [[ $args == *" get node "* ]]; then
  case "${FAKE_NODE:-present}" in
    present) echo "node/$5" ;;
    error) echo 'Error from server (Forbidden): nodes "x" is forbidden' >&2; exit 1 ;;
  esac
elif [[ $args == *" drain "* ]]; then
  exit "${FAKE_DRAIN_RC:-0}"
fi
"""


@pytest.fixture
def init_config() -> str:
    return render_init_configuration(
        cluster_name="prod-sgp",
        kubernetes_version="1.28.15",
        control_plane_endpoint="k8s.example.com:6443",
        cert_sans=["k8s.example.com"],
        pod_subnet="10.244.0.0/16",
        service_subnet="10.96.0.0/12",
        node_name="sgp-cp-1",
        node_ip="10.10.0.2",
        advertise_address="10.10.0.2",
        node_labels={},
    )


def test_init_writes_a_private_config_and_runs_kubeadm_init_once(sandbox, init_config: str) -> None:
    sandbox.fakes["kubeadm"] = FAKE_KUBEADM_INIT
    params = {"NODE_NAME": "sgp-cp-1", "KUBEADM_CONFIG": init_config}

    first = sandbox.run_step("init", params)
    second = sandbox.run_step("init", params)

    first.assert_ok()
    assert first.argv("kubeadm") == [
        "init --config /etc/kubernetes/kubevps/kubeadm-init.yaml --skip-token-print"
    ]
    assert (sandbox.out / "config.seen").read_text() == init_config + "\n"
    assert (sandbox.out / "config.mode").read_text().strip() == "600"
    assert stat.S_IMODE(sandbox.path("/etc/kubernetes/kubevps").stat().st_mode) == 0o700
    second.assert_ok()
    assert second.argv("kubeadm") == []
    assert "already initialised" in second.stderr


def test_init_refuses_a_config_rendered_for_another_node(sandbox, init_config: str) -> None:
    sandbox.fakes["kubeadm"] = FAKE_KUBEADM_INIT

    run = sandbox.run_step("init", {"NODE_NAME": "sgp-cp-2", "KUBEADM_CONFIG": init_config})

    run.assert_fails("does not register node 'sgp-cp-2'")
    assert run.argv("kubeadm") == []


def test_init_after_a_half_done_init_says_to_reset(sandbox, init_config: str) -> None:
    sandbox.fakes["kubeadm"] = FAKE_KUBEADM_INIT
    sandbox.write("/etc/kubernetes/manifests/kube-apiserver.yaml", "kind: Pod\n")

    run = sandbox.run_step("init", {"NODE_NAME": "sgp-cp-1", "KUBEADM_CONFIG": init_config})

    run.assert_fails("stopped half-way", "kubeadm reset -f")
    assert run.argv("kubeadm") == []


@pytest.mark.parametrize("endpoint", ["k8s.example.com:6443", "203.0.113.10:443", "[2001:db8::1]:6443"])
def test_kubeconfig_prints_only_the_admin_kubeconfig_with_the_public_server(sandbox, endpoint: str) -> None:
    sandbox.write("/etc/kubernetes/admin.conf", ADMIN_CONF, 0o600)

    run = sandbox.run_step("kubeconfig", {"API_ENDPOINT": endpoint})

    run.assert_ok()
    assert run.stdout == ADMIN_CONF.replace("server: https://10.10.0.2:6443", f"server: https://{endpoint}")


@pytest.mark.parametrize(
    "endpoint", ["k8s.example.com", "a#b:6443", "x:6443 --evil", "k8s.example.com:6443\n"]
)
def test_kubeconfig_refuses_a_malformed_endpoint(sandbox, endpoint: str) -> None:
    sandbox.write("/etc/kubernetes/admin.conf", ADMIN_CONF, 0o600)

    run = sandbox.run_step("kubeconfig", {"API_ENDPOINT": endpoint})

    run.assert_fails("expected HOST:PORT")
    assert run.stdout == ""


def test_kubeconfig_before_init_fails_with_an_explanation(sandbox) -> None:
    run = sandbox.run_step("kubeconfig", {"API_ENDPOINT": "k8s.example.com:6443"})

    run.assert_fails("the init step has not run on this host")
    assert run.stdout == ""


@pytest.fixture
def first_control_plane(sandbox):
    sandbox.write("/etc/kubernetes/admin.conf", ADMIN_CONF, 0o600)
    sandbox.fakes["kubectl"] = FAKE_KUBECTL
    return sandbox


def test_drain_evicts_with_the_contracted_flags(first_control_plane) -> None:
    run = first_control_plane.run_step("drain", {"NODE_NAME": "sgp-w-3"})

    run.assert_ok()
    assert run.argv("kubectl")[-1] == (
        "--kubeconfig /etc/kubernetes/admin.conf drain sgp-w-3 --ignore-daemonsets --delete-emptydir-data "
        "--force --timeout=5m"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param({"FAKE_API": "down"}, "the API server does not answer", id="api-down"),
        pytest.param({"FAKE_NODE": "absent"}, "node sgp-w-3 is not in the cluster", id="node-gone"),
    ],
)
def test_drain_with_nothing_to_drain_succeeds_and_says_why(
    first_control_plane, env: dict[str, str], message: str
) -> None:
    run = first_control_plane.run_step("drain", {"NODE_NAME": "sgp-w-3"}, env=env)

    run.assert_ok()
    assert message in run.stderr
    assert not [argv for argv in run.argv("kubectl") if " drain " in f" {argv} "]


def test_drain_fails_when_the_node_cannot_be_looked_up(first_control_plane) -> None:
    run = first_control_plane.run_step("drain", {"NODE_NAME": "sgp-w-3"}, env={"FAKE_NODE": "error"})

    run.assert_fails("could not look up node sgp-w-3", "Forbidden")


def test_drain_that_times_out_fails_with_what_to_look_at(first_control_plane) -> None:
    run = first_control_plane.run_step("drain", {"NODE_NAME": "sgp-w-3"}, env={"FAKE_DRAIN_RC": "1"})

    run.assert_fails("did not drain within 5 minutes", "kubectl get pdb -A")


def test_drain_without_a_cluster_on_the_host_is_skipped(sandbox) -> None:
    sandbox.fakes["kubectl"] = FAKE_KUBECTL

    run = sandbox.run_step("drain", {"NODE_NAME": "sgp-w-3"})

    run.assert_ok()
    assert run.argv("kubectl") == []


def test_deregister_deletes_the_node_ignoring_not_found(first_control_plane) -> None:
    run = first_control_plane.run_step("deregister", {"NODE_NAME": "sgp-w-3"})

    run.assert_ok()
    assert run.argv("kubectl")[-1] == (
        "--kubeconfig /etc/kubernetes/admin.conf --request-timeout=30s delete node sgp-w-3 --ignore-not-found"
    )


def test_deregister_tolerates_an_unreachable_api(first_control_plane) -> None:
    run = first_control_plane.run_step("deregister", {"NODE_NAME": "sgp-w-3"}, env={"FAKE_API": "down"})

    run.assert_ok()
    assert "the API server does not answer" in run.stderr
    assert not [argv for argv in run.argv("kubectl") if "delete" in argv]
