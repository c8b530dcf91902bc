"""Behaviour of cni.sh, run for real in a sandbox against fixture excerpts of the pinned manifests.

`curl` is a fake that serves a fixture (tests/infra/kubeadm/fixtures/) instead of the network, and
`kubectl` is a fake that keeps the manifest it is asked to apply. The fixtures are excerpts with the
upstream layout of the lines cni.sh patches; the tests prove the patches and their checks on that
layout. Whether the real pinned files still have it is checked by cni.sh itself at run time (it fails
loudly when a substitution did not apply).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"
CALICO_URL = "https://raw.githubusercontent.com/projectcalico/calico/v3.26.4/manifests/calico-vxlan.yaml"
FLANNEL_URL = "https://github.com/flannel-io/flannel/releases/download/v0.24.4/kube-flannel.yml"

# Fake curl: "downloads" $FAKE_MANIFEST to the -o path.
FAKE_CURL = """
while (($#)); do
  if [[ $1 == -o ]]; then output=$2; shift; fi
  shift
done
cp "$FAKE_MANIFEST" "$output"
"""
FAKE_KUBECTL = """
args=" $* "
if [[ $args == *" apply -f "* ]]; then
  cp "${@: -1}" "$FAKE_OUT/applied.yaml"
elif [[ $args == *" rollout status "* ]]; then
  exit "${FAKE_ROLLOUT_RC:-0}"
fi
"""


@pytest.fixture
def control_plane(sandbox):
    sandbox.write("/etc/kubernetes/admin.conf", "kind: Config\n", 0o600)
    sandbox.fakes["curl"] = FAKE_CURL
    sandbox.fakes["kubectl"] = FAKE_KUBECTL
    return sandbox


def _install(control_plane, cni: str, manifest: Path | str, **env: str):
    return control_plane.run_step(
        "cni",
        {"CNI": cni, "POD_SUBNET": "10.32.0.0/16", "MTU": "1400"},
        env={"FAKE_MANIFEST": str(manifest), **env},
    )


def _applied(control_plane) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((control_plane.out / "applied.yaml").read_text()) if doc]


def _by_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (document,) = [doc for doc in documents if doc["kind"] == kind]
    return document


def test_calico_gets_pod_cidr_mtu_vxlan_always_and_node_address(control_plane) -> None:
    run = _install(control_plane, "calico", FIXTURES / "calico-vxlan-excerpt.yaml")

    run.assert_ok()
    documents = _applied(control_plane)
    assert _by_kind(documents, "ConfigMap")["data"]["veth_mtu"] == "1400"
    (container,) = _by_kind(documents, "DaemonSet")["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["CALICO_IPV4POOL_CIDR"] == "10.32.0.0/16"
    assert env["CALICO_IPV4POOL_VXLAN"] == "Always"
    assert env["IP"] == "autodetect"
    assert env["IP_AUTODETECTION_METHOD"] == "kubernetes-internal-ip"


def test_calico_is_downloaded_pinned_with_retries_and_waited_for(control_plane) -> None:
    run = _install(control_plane, "calico", FIXTURES / "calico-vxlan-excerpt.yaml")

    run.assert_ok()
    (curl,) = run.argv("curl")
    assert curl.endswith(CALICO_URL)
    assert "--retry 5" in curl
    kubectl = run.argv("kubectl")
    assert kubectl[0].startswith("--kubeconfig /etc/kubernetes/admin.conf apply -f ")
    assert kubectl[1].endswith("rollout status --namespace kube-system daemonset/calico-node --timeout=10m")


def test_flannel_gets_pod_cidr_and_delegate_mtu(control_plane) -> None:
    run = _install(control_plane, "flannel", FIXTURES / "kube-flannel-excerpt.yml")

    run.assert_ok()
    data = _by_kind(_applied(control_plane), "ConfigMap")["data"]
    assert json.loads(data["net-conf.json"])["Network"] == "10.32.0.0/16"
    delegate = json.loads(data["cni-conf.json"])["plugins"][0]["delegate"]
    assert delegate == {"mtu": 1400, "hairpinMode": True, "isDefaultGateway": True}
    (curl,) = run.argv("curl")
    assert curl.endswith(FLANNEL_URL)
    assert run.argv("kubectl")[1].endswith(
        "rollout status --namespace kube-flannel daemonset/kube-flannel-ds --timeout=10m"
    )


SUBSTITUTION_TARGETS = [
    pytest.param(
        "calico",
        "calico-vxlan-excerpt.yaml",
        "# - name: CALICO_IPV4POOL_CIDR",
        "the pod CIDR",
        id="calico-cidr",
    ),
    pytest.param(
        "calico", "calico-vxlan-excerpt.yaml", 'veth_mtu: "0"', "the MTU (veth_mtu)", id="calico-mtu"
    ),
    pytest.param(
        "calico",
        "calico-vxlan-excerpt.yaml",
        'value: "autodetect"',
        "the node address (IP_AUTODETECTION_METHOD)",
        id="calico-ip-autodetect",
    ),
    pytest.param(
        "flannel",
        "kube-flannel-excerpt.yml",
        '"delegate": {',
        "the MTU (cni-conf.json delegate mtu)",
        id="flannel-delegate",
    ),
]


@pytest.mark.parametrize(("cni", "fixture", "line", "message"), SUBSTITUTION_TARGETS)
def test_a_substitution_that_did_not_apply_fails_loudly(
    control_plane, cni: str, fixture: str, line: str, message: str
) -> None:
    # The upstream line a substitution keys on is gone (as if the manifest had changed under the pin).
    changed = control_plane.out / fixture
    changed.write_text((FIXTURES / fixture).read_text().replace(line, "# (changed upstream)"))

    run = _install(control_plane, cni, changed)

    run.assert_fails(f"patching the {cni} manifest failed: {message}", "did the upstream manifest change?")
    assert run.argv("kubectl") == []


def test_a_manifest_of_another_version_is_refused(control_plane, tmp_path: Path) -> None:
    other = tmp_path / "calico.yaml"
    other.write_text((FIXTURES / "calico-vxlan-excerpt.yaml").read_text().replace("v3.26.4", "v3.27.0"))

    run = _install(control_plane, "calico", other)

    run.assert_fails("is not the Calico v3.26.4 manifest")


def test_a_rollout_that_never_completes_fails_with_where_to_look(control_plane) -> None:
    run = _install(control_plane, "calico", FIXTURES / "calico-vxlan-excerpt.yaml", FAKE_ROLLOUT_RC="1")

    run.assert_fails("did not become ready within 10m", "kubectl -n kube-system get pods")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"CNI": "cilium"}, "CNI is 'cilium'; expected calico or flannel", id="cni"),
        pytest.param({"MTU": "1000"}, "MTU is '1000'", id="mtu-too-small"),
        pytest.param({"MTU": "1450 "}, "MTU is '1450 '", id="mtu-not-a-number"),
        pytest.param({"POD_SUBNET": "fd00::/48"}, "expected an IPv4 CIDR", id="pod-subnet-v6"),
    ],
)
def test_bad_params_are_refused_before_any_download(
    control_plane, params: dict[str, str], message: str
) -> None:
    run = control_plane.run_step(
        "cni", {"CNI": "calico", "POD_SUBNET": "10.32.0.0/16", "MTU": "1400", **params}
    )

    run.assert_fails(message)
    assert run.argv("curl") == []


def test_leaves_no_temporary_files(control_plane) -> None:
    _install(control_plane, "calico", FIXTURES / "calico-vxlan-excerpt.yaml").assert_ok()

    assert control_plane.leftover_temp_files() == []
