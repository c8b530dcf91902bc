"""Hetzner Cloud nodes: servers in one private network, behind a cloud firewall that mirrors the host's.

``HcloudProject`` holds what all of a cluster's Hetzner servers share (the SSH key, the private network);
``HcloudNode`` is one server attached to it; ``HcloudFirewall`` applies the role's rules once every
node's address is known. Credentials come from the provider config (`pulumi config set --secret
hcloud:token ...`) or ``HCLOUD_TOKEN``; this module never reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_hcloud as hcloud

from infra.catalog import HCLOUD, HCLOUD_NETWORK, HCLOUD_SUBNET
from infra.config import NodeConfig
from infra.firewall import Rule
from infra.nodes.base import SshAccess, VpsNode

ANYWHERE = ("0.0.0.0/0", "::/0")


class HcloudProject(pulumi.ComponentResource):
    """The SSH key and the private network shared by a cluster's Hetzner servers."""

    def __init__(
        self,
        name: str,
        *,
        cluster: str,
        network_zone: str,
        ssh: SshAccess,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kubevps:index:HcloudProject", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.ssh_key = hcloud.SshKey(
            f"{name}-ssh-key", name=f"kubevps-{cluster}", public_key=ssh.public_key, opts=child
        )
        network = hcloud.Network(
            f"{name}-network", name=f"kubevps-{cluster}", ip_range=HCLOUD_NETWORK, opts=child
        )
        self.subnet = hcloud.NetworkSubnet(
            f"{name}-subnet",
            network_id=network.id.apply(int),
            type="cloud",
            network_zone=network_zone,
            ip_range=HCLOUD_SUBNET,
            opts=child,
        )
        self.register_outputs({"sshKeyId": self.ssh_key.id, "subnetId": self.subnet.id})


class HcloudNode(VpsNode):
    """One Hetzner Cloud server: the stack's plan and location, Ubuntu, attached to the private network."""

    def __init__(
        self,
        name: str,
        spec: NodeConfig,
        *,
        project: HcloudProject,
        cluster: str,
        ssh: SshAccess,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kubevps:index:HcloudNode", name, spec, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.server = hcloud.Server(
            f"{name}-server",
            name=spec.name,
            server_type=str(spec.size),
            image=HCLOUD.image,
            location=spec.region,
            ssh_keys=[project.ssh_key.id],
            labels={"kubevps.dev/cluster": cluster, "kubevps.dev/role": spec.role},
            public_nets=[hcloud.ServerPublicNetArgs(ipv4_enabled=True, ipv6_enabled=False)],
            opts=child,
        )
        attachment = hcloud.ServerNetwork(
            f"{name}-network", server_id=self.server.id.apply(int), subnet_id=project.subnet.id, opts=child
        )
        self._expose(
            identity=self.server.id, public_ip=self.server.ipv4_address, private_ip=attachment.ip, ssh=ssh
        )


class HcloudFirewall(pulumi.ComponentResource):
    """One cloud firewall per role with the host firewall's inbound rules, attached to the role's servers."""

    def __init__(
        self,
        name: str,
        *,
        cluster: str,
        nodes: Sequence[HcloudNode],
        rules_by_role: Mapping[str, Sequence[Rule[pulumi.Output[str]]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kubevps:index:HcloudFirewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        for role, rules in rules_by_role.items():
            servers = [n.server.id.apply(int) for n in nodes if n.spec.role == role]
            if not servers:
                continue
            firewall = hcloud.Firewall(
                f"{name}-{role}",
                name=f"kubevps-{cluster}-{role}",
                rules=[
                    hcloud.FirewallRuleArgs(direction="in", protocol="icmp", source_ips=list(ANYWHERE)),
                    *(
                        hcloud.FirewallRuleArgs(
                            direction="in",
                            protocol=rule.protocol,
                            port=rule.port_range,
                            source_ips=list(rule.sources),
                            description=rule.description,
                        )
                        for rule in rules
                    ),
                ],
                opts=child,
            )
            hcloud.FirewallAttachment(
                f"{name}-{role}-attachment",
                firewall_id=firewall.id.apply(int),
                server_ids=servers,
                opts=child,
            )
        self.register_outputs({})
