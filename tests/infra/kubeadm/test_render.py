"""Specification of infra/kubeadm/render.py: the kubeadm init configuration, golden-tested.

Golden files live in tests/infra/kubeadm/golden/. After an intended change of the output, regenerate
them with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/infra/kubeadm/test_render.py` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.kubeadm.render import format_node_labels, render_init_configuration

GOLDEN_DIR = Path(__file__).parent / "golden"

SINGLE_CONTROL_PLANE: dict[str, Any] = {
    "cluster_name": "dev",
    "kubernetes_version": "1.28.15",
    "control_plane_endpoint": "203.0.113.10:6443",
    "cert_sans": ["203.0.113.10"],
    "pod_subnet": "10.244.0.0/16",
    "service_subnet": "10.96.0.0/12",
    "node_name": "dev-cp-1",
    "node_ip": "203.0.113.10",
    "advertise_address": "203.0.113.10",
    "node_labels": {},
}

HIGH_AVAILABILITY: dict[str, Any] = {
    "cluster_name": "prod-sgp",
    "kubernetes_version": "1.28.15",
    "control_plane_endpoint": "k8s.example.com:6443",
    "cert_sans": [
        "k8s.example.com",
        "203.0.113.10",
        "203.0.113.11",
        "203.0.113.12",
        "10.10.0.2",
        "203.0.113.10",  # repeated on purpose: the output keeps the first one only
        "k8s.example.com",
    ],
    "pod_subnet": "10.244.0.0/16",
    "service_subnet": "10.96.0.0/12",
    "node_name": "sgp-cp-1",
    "node_ip": "10.10.0.2",
    "advertise_address": "10.10.0.2",
    "node_labels": {"topology.kubernetes.io/region": "sgp", "kubevps.dev/business-line": "payments"},
}


def _check_golden(name: str, text: str) -> None:
    golden = GOLDEN_DIR / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert golden.exists(), f"{golden} is missing; run with UPDATE_GOLDEN=1 to create it"
    assert text == golden.read_text(), f"{name} differs from its golden file; UPDATE_GOLDEN=1 to accept"


@pytest.mark.parametrize(
    ("golden", "inputs"),
    [
        pytest.param("init-single-control-plane.yaml", SINGLE_CONTROL_PLANE, id="single-control-plane"),
        pytest.param("init-high-availability.yaml", HIGH_AVAILABILITY, id="high-availability"),
    ],
)
def test_output_matches_golden_file(golden: str, inputs: dict[str, Any]) -> None:
    _check_golden(golden, render_init_configuration(**inputs))


def test_output_is_three_kubeadm_documents_in_order() -> None:
    documents = list(yaml.safe_load_all(render_init_configuration(**HIGH_AVAILABILITY)))

    assert [(d["apiVersion"], d["kind"]) for d in documents] == [
        ("kubeadm.k8s.io/v1beta3", "InitConfiguration"),
        ("kubeadm.k8s.io/v1beta3", "ClusterConfiguration"),
        ("kubelet.config.k8s.io/v1beta1", "KubeletConfiguration"),
    ]


def test_init_configuration_registers_the_node_with_its_ip_and_labels_as_a_map() -> None:
    init = next(yaml.safe_load_all(render_init_configuration(**HIGH_AVAILABILITY)))

    assert init["nodeRegistration"] == {
        "name": "sgp-cp-1",
        "criSocket": "unix:///var/run/containerd/containerd.sock",
        "kubeletExtraArgs": {
            "node-ip": "10.10.0.2",
            "node-labels": "kubevps.dev/business-line=payments,topology.kubernetes.io/region=sgp",
        },
    }
    assert init["localAPIEndpoint"] == {"advertiseAddress": "10.10.0.2", "bindPort": 6443}


def test_bootstrap_token_is_short_lived_and_left_to_kubeadm_to_generate() -> None:
    init = next(yaml.safe_load_all(render_init_configuration(**SINGLE_CONTROL_PLANE)))

    (token,) = init["bootstrapTokens"]
    assert "token" not in token
    assert token["ttl"] == "15m0s"
    assert "certificateKey" not in init


def test_node_without_labels_gets_no_node_labels_argument() -> None:
    init = next(yaml.safe_load_all(render_init_configuration(**SINGLE_CONTROL_PLANE)))

    assert init["nodeRegistration"]["kubeletExtraArgs"] == {"node-ip": "203.0.113.10"}


def test_cluster_configuration_carries_version_endpoint_and_networking() -> None:
    cluster = list(yaml.safe_load_all(render_init_configuration(**HIGH_AVAILABILITY)))[1]

    assert cluster["kubernetesVersion"] == "v1.28.15"
    assert cluster["clusterName"] == "prod-sgp"
    assert cluster["controlPlaneEndpoint"] == "k8s.example.com:6443"
    assert cluster["networking"] == {
        "dnsDomain": "cluster.local",
        "podSubnet": "10.244.0.0/16",
        "serviceSubnet": "10.96.0.0/12",
    }


def test_cert_sans_are_deduplicated_keeping_first_occurrence_order() -> None:
    cluster = list(yaml.safe_load_all(render_init_configuration(**HIGH_AVAILABILITY)))[1]

    assert cluster["apiServer"]["certSANs"] == [
        "k8s.example.com",
        "203.0.113.10",
        "203.0.113.11",
        "203.0.113.12",
        "10.10.0.2",
    ]


def test_kubelet_uses_the_systemd_cgroup_driver_like_containerd() -> None:
    kubelet = list(yaml.safe_load_all(render_init_configuration(**SINGLE_CONTROL_PLANE)))[2]

    assert kubelet["cgroupDriver"] == "systemd"


def test_equal_inputs_render_equal_text() -> None:
    reordered_labels = dict(reversed(list(HIGH_AVAILABILITY["node_labels"].items())))

    assert render_init_configuration(**HIGH_AVAILABILITY) == render_init_configuration(
        **{**HIGH_AVAILABILITY, "node_labels": reordered_labels}
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        pytest.param(
            {"kubernetes_version": "v1.28.15"}, "kubernetes_version 'v1.28.15'", id="version-with-v"
        ),
        pytest.param({"kubernetes_version": "1.28"}, "is not MAJOR.MINOR.PATCH", id="version-without-patch"),
        pytest.param({"kubernetes_version": "1.28.x"}, "is not MAJOR.MINOR.PATCH", id="version-not-numeric"),
        pytest.param({"cluster_name": "Prod_SGP"}, "cluster_name 'Prod_SGP'", id="cluster-name"),
        pytest.param(
            {"control_plane_endpoint": "k8s.example.com"}, "is not HOST:PORT", id="endpoint-no-port"
        ),
        pytest.param(
            {"control_plane_endpoint": "k8s.example.com:70000"}, "is not HOST:PORT", id="endpoint-port"
        ),
        pytest.param({"cert_sans": ["ok.example.com", "not a name"]}, "cert_sans[1]", id="cert-san"),
        pytest.param({"cert_sans": "k8s.example.com"}, "not the string", id="cert-sans-string"),
        pytest.param(
            {"pod_subnet": "10.244.0.1/16"}, "pod_subnet '10.244.0.1/16'", id="pod-subnet-host-bits"
        ),
        pytest.param({"service_subnet": "10.244.0.0/20"}, "overlap", id="subnets-overlap"),
        pytest.param({"node_name": "CP_1"}, "node_name 'CP_1'", id="node-name"),
        pytest.param({"node_ip": "10.0.0.300"}, "node_ip '10.0.0.300'", id="node-ip"),
        pytest.param({"advertise_address": "k8s.example.com"}, "advertise_address", id="advertise-address"),
        pytest.param({"node_labels": {"bad key!": "x"}}, "is not a valid label key", id="label-key"),
        pytest.param({"node_labels": {"team": "a,b"}}, "is not a valid label value", id="label-value-comma"),
        pytest.param(
            {"node_labels": {"node-role.kubernetes.io/worker": ""}},
            "the kubelet may not set",
            id="label-kubelet-restricted",
        ),
    ],
)
def test_invalid_input_is_rejected_with_the_argument_named(override: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="invalid kubeadm init configuration") as raised:
        render_init_configuration(**{**SINGLE_CONTROL_PLANE, **override})

    assert message in str(raised.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValueError, match="invalid kubeadm init configuration") as raised:
        render_init_configuration(**{**SINGLE_CONTROL_PLANE, "kubernetes_version": "1.28", "node_ip": "x"})

    assert "kubernetes_version" in str(raised.value)
    assert "node_ip" in str(raised.value)


def test_ipv6_endpoint_and_sans_are_accepted() -> None:
    text = render_init_configuration(
        **{
            **SINGLE_CONTROL_PLANE,
            "control_plane_endpoint": "[2001:db8::10]:6443",
            "cert_sans": ["2001:db8::10"],
        }
    )

    assert "controlPlaneEndpoint: '[2001:db8::10]:6443'" in text


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        pytest.param({}, "", id="none"),
        pytest.param({"b": "2", "a": "1"}, "a=1,b=2", id="sorted-by-key"),
        pytest.param(
            {"node.kubernetes.io/pool": "edge"}, "node.kubernetes.io/pool=edge", id="kubelet-allowed-ns"
        ),
    ],
)
def test_format_node_labels(labels: dict[str, str], expected: str) -> None:
    assert format_node_labels(labels) == expected


def test_format_node_labels_rejects_labels_the_kubelet_would_refuse() -> None:
    with pytest.raises(ValueError, match="kubelet may not set"):
        format_node_labels({"node-role.kubernetes.io/control-plane": ""})
