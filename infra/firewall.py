"""Who may reach which port of a node: one rule set, rendered for the host (nftables) and the providers.

The host firewall and a provider's cloud firewall must agree, so both come from ``node_rules``. Sources
are generic: plain strings for the host ruleset, Pulumi Outputs for provider firewall resources, whose
node addresses are only known once the machines exist.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Generic, Literal, TypeVar

from infra.config import ClusterConfig

T = TypeVar("T")

SSH_PORT: Final = 22
API_SERVER_PORT: Final = 6443
ETCD_PORTS: Final = (2379, 2380)
KUBELET_PORT: Final = 10250
CNI_VXLAN_PORT: Final = {"calico": 4789, "flannel": 8472}
"""Calico's VXLAN mode uses the IANA port; Flannel keeps the Linux kernel default."""


@dataclass(frozen=True, slots=True)
class Rule(Generic[T]):
    """Accept ``protocol`` traffic to ``ports`` (inclusive range) from any of ``sources``."""

    protocol: Literal["tcp", "udp"]
    ports: tuple[int, int]
    sources: tuple[T, ...]
    description: str

    @property
    def port_range(self) -> str:
        low, high = self.ports
        return str(low) if low == high else f"{low}-{high}"


def node_rules(
    cluster: ClusterConfig,
    *,
    control_plane: bool,
    cluster_nodes: Sequence[T],
    control_planes: Sequence[T],
    cidr: Callable[[str], T],
) -> list[Rule[T]]:
    """The inbound rules of one node (DESIGN.md 2.2).

    ``cluster_nodes`` and ``control_planes`` are the node addresses as sources (single-address CIDRs);
    ``cidr`` lifts a configured CIDR string into the same source type.
    """
    pods = cidr(cluster.pod_subnet)
    rules: list[Rule[T]] = [
        Rule("tcp", (SSH_PORT, SSH_PORT), tuple(cidr(c) for c in cluster.ssh_allowed_cidrs), "SSH"),
        Rule("tcp", (KUBELET_PORT, KUBELET_PORT), (*cluster_nodes, pods), "kubelet API (metrics-server)"),
        Rule("udp", (CNI_VXLAN_PORT[cluster.cni],) * 2, tuple(cluster_nodes), f"{cluster.cni} VXLAN"),
    ]
    if control_plane:
        api_sources = (*cluster_nodes, pods, *(cidr(c) for c in cluster.api_allowed_cidrs))
        rules += [
            Rule("tcp", (API_SERVER_PORT, API_SERVER_PORT), api_sources, "Kubernetes API"),
            Rule("tcp", ETCD_PORTS, tuple(control_planes), "etcd between control planes"),
        ]
    return rules


def host_cidr(address: str) -> str:
    """A single address as a CIDR (providers' firewalls only take CIDRs)."""
    ip = ipaddress.ip_address(address)
    return f"{ip}/{ip.max_prefixlen}"


def render_nftables(rules: Sequence[Rule[str]]) -> str:
    """The host ruleset: table ``inet kubevps`` with a default-drop input chain.

    Only this table is replaced (never ``flush ruleset``), so kube-proxy's and the CNI's rules survive.
    Loopback, established flows, ICMP and DHCP replies stay open so the host keeps working.
    """
    lines = [
        "table inet kubevps",
        "delete table inet kubevps",
        "table inet kubevps {",
        "  chain input {",
        "    type filter hook input priority filter; policy drop;",
        '    iifname "lo" accept',
        "    ct state established,related accept",
        "    ct state invalid drop",
        "    meta l4proto { icmp, ipv6-icmp } accept",
        '    udp dport { 68, 546 } accept comment "DHCP replies"',
    ]
    for rule in rules:
        networks = [ipaddress.ip_network(s) for s in rule.sources]
        v4 = [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
        v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
        # nftables refuses overlapping elements in one set: collapse them (0.0.0.0/0 swallows the rest).
        for family, collapsed in (
            ("ip", ipaddress.collapse_addresses(v4)),
            ("ip6", ipaddress.collapse_addresses(v6)),
        ):
            chosen = [str(n) for n in collapsed]
            if chosen:
                lines.append(
                    f"    {family} saddr {{ {', '.join(chosen)} }} {rule.protocol} dport {rule.port_range}"
                    f' accept comment "{rule.description}"'
                )
    lines += ["  }", "}", ""]
    return "\n".join(lines)
