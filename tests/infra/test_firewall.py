"""Firewall rules per role (DESIGN.md 2.2) and their nftables rendering."""

from __future__ import annotations

import pytest

from infra.config import ClusterConfig
from infra.firewall import host_cidr, node_rules, render_nftables

NODES = ["203.0.113.1/32", "203.0.113.2/32", "10.10.0.1/32"]
CONTROL_PLANES = ["203.0.113.1/32"]


def _rules(control_plane: bool, **cluster: object) -> dict[str, tuple[str, ...]]:
    config = ClusterConfig.model_validate({"name": "t", **cluster})
    rules = node_rules(
        config, control_plane=control_plane, cluster_nodes=NODES, control_planes=CONTROL_PLANES, cidr=str
    )
    return {f"{r.protocol}/{r.port_range}": r.sources for r in rules}


def test_a_worker_opens_ssh_kubelet_and_the_cni_only() -> None:
    assert set(_rules(control_plane=False)) == {"tcp/22", "tcp/10250", "udp/4789"}


def test_a_control_plane_also_opens_the_api_and_etcd() -> None:
    assert set(_rules(control_plane=True)) == {"tcp/22", "tcp/10250", "udp/4789", "tcp/6443", "tcp/2379-2380"}


def test_etcd_accepts_only_control_planes() -> None:
    assert _rules(control_plane=True)["tcp/2379-2380"] == tuple(CONTROL_PLANES)


def test_the_api_accepts_nodes_pods_and_the_allowed_cidrs() -> None:
    sources = _rules(control_plane=True, apiAllowedCidrs=["198.51.100.0/24"])["tcp/6443"]
    assert sources == (*NODES, "10.244.0.0/16", "198.51.100.0/24")


def test_the_kubelet_accepts_the_pod_network_for_metrics_server() -> None:
    assert "10.244.0.0/16" in _rules(control_plane=False)["tcp/10250"]


@pytest.mark.parametrize(("cni", "port"), [("calico", "udp/4789"), ("flannel", "udp/8472")])
def test_the_cni_port_follows_the_cni(cni: str, port: str) -> None:
    assert _rules(control_plane=False, cni=cni)[port] == tuple(NODES)


def test_ssh_follows_the_allowed_cidrs() -> None:
    assert _rules(control_plane=False, sshAllowedCidrs=["192.0.2.0/24"])["tcp/22"] == ("192.0.2.0/24",)


def test_the_ruleset_replaces_only_its_own_table_and_drops_by_default() -> None:
    ruleset = render_nftables([])
    assert ruleset.startswith("table inet kubevps\ndelete table inet kubevps\n")
    assert "policy drop;" in ruleset
    assert "flush ruleset" not in ruleset
    assert 'iifname "lo" accept' in ruleset
    assert "ct state established,related accept" in ruleset


def test_overlapping_sources_collapse_because_nftables_refuses_them() -> None:
    config = ClusterConfig.model_validate({"name": "t"})
    ruleset = render_nftables(
        node_rules(config, control_plane=True, cluster_nodes=NODES, control_planes=CONTROL_PLANES, cidr=str)
    )
    assert "ip saddr { 0.0.0.0/0 } tcp dport 6443 accept" in ruleset
    assert "ip saddr { 0.0.0.0/0 } tcp dport 22 accept" in ruleset


def test_ipv6_sources_get_their_own_rule() -> None:
    config = ClusterConfig.model_validate({"name": "t", "sshAllowedCidrs": ["2001:db8::/32", "192.0.2.0/24"]})
    ruleset = render_nftables(
        node_rules(config, control_plane=False, cluster_nodes=[], control_planes=[], cidr=str)
    )
    assert "ip6 saddr { 2001:db8::/32 } tcp dport 22 accept" in ruleset
    assert "ip saddr { 192.0.2.0/24 } tcp dport 22 accept" in ruleset


@pytest.mark.parametrize(
    ("address", "cidr"), [("203.0.113.7", "203.0.113.7/32"), ("2001:db8::1", "2001:db8::1/128")]
)
def test_a_host_address_becomes_a_single_address_cidr(address: str, cidr: str) -> None:
    assert host_cidr(address) == cidr
