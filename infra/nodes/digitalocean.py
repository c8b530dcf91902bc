"""DigitalOcean nodes: droplets in a per-region VPC, behind a cloud firewall that mirrors the host's.

``DigitalOceanProject`` holds what all of a cluster's droplets share (the SSH key, one VPC per region);
``DigitalOceanNode`` is one droplet; ``DigitalOceanFirewall`` applies the role's rules once every node's
address is known. Credentials come from `pulumi config set --secret digitalocean:token ...` or
``DIGITALOCEAN_TOKEN``; this module never reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_digitalocean as do

from infra.catalog import DIGITALOCEAN, private_network
from infra.config import NodeConfig
from infra.firewall import Rule
from infra.nodes.base import SshAccess, VpsNode

ANYWHERE = ("0.0.0.0/0", "::/0")


class DigitalOceanProject(pulumi.ComponentResource):
    """The SSH key and the per-region VPCs shared by a cluster's droplets."""

    def __init__(
        self,
        name: str,
        *,
        cluster: str,
        regions: Sequence[str],
        ssh: SshAccess,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kubevps:index:DigitalOceanProject", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.ssh_key = do.SshKey(
            f"{name}-ssh-key", name=f"kubevps-{cluster}", public_key=ssh.public_key, opts=child
        )
        self.vpcs = {
            region: do.Vpc(
                f"{name}-vpc-{region}",
                name=f"kubevps-{cluster}-{region}",
                region=region,
                ip_range=private_network("digitalocean", cluster=cluster, region=region),
                opts=child,
            )
            for region in sorted(set(regions))
        }
        self.register_outputs({"sshKeyFingerprint": self.ssh_key.fingerprint})


class DigitalOceanNode(VpsNode):
    """One droplet: the stack's size slug and region, Ubuntu, in the region's VPC."""

    def __init__(
        self,
        name: str,
        spec: NodeConfig,
        *,
        project: DigitalOceanProject,
        cluster: str,
        ssh: SshAccess,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kubevps:index:DigitalOceanNode", name, spec, opts)
        region = str(spec.region)
        self.droplet = do.Droplet(
            f"{name}-droplet",
            name=spec.name,
            size=str(spec.size),
            image=DIGITALOCEAN.image,
            region=region,
            ssh_keys=[project.ssh_key.fingerprint],
            vpc_uuid=project.vpcs[region].id,
            tags=["kubevps", f"kubevps-{cluster}", f"kubevps-{spec.role}"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._expose(
            identity=self.droplet.id,
            public_ip=self.droplet.ipv4_address,
            private_ip=self.droplet.ipv4_address_private,
            ssh=ssh,
        )


class DigitalOceanFirewall(pulumi.ComponentResource):
    """One cloud firewall per role with the host firewall's inbound rules; all outbound traffic allowed."""

    def __init__(
        self,
        name: str,
        *,
        cluster: str,
        nodes: Sequence[DigitalOceanNode],
        rules_by_role: Mapping[str, Sequence[Rule[pulumi.Output[str]]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kubevps:index:DigitalOceanFirewall", name, None, opts)
        for role, rules in rules_by_role.items():
            droplets = [n.droplet.id.apply(int) for n in nodes if n.spec.role == role]
            if not droplets:
                continue
            do.Firewall(
                f"{name}-{role}",
                name=f"kubevps-{cluster}-{role}",
                droplet_ids=droplets,
                inbound_rules=[
                    do.FirewallInboundRuleArgs(protocol="icmp", source_addresses=list(ANYWHERE)),
                    *(
                        do.FirewallInboundRuleArgs(
                            protocol=rule.protocol,
                            port_range=rule.port_range,
                            source_addresses=list(rule.sources),
                        )
                        for rule in rules
                    ),
                ],
                # A DigitalOcean firewall without outbound rules blocks all egress: nodes need apt and images.
                outbound_rules=[
                    do.FirewallOutboundRuleArgs(
                        protocol=protocol, port_range=ports, destination_addresses=list(ANYWHERE)
                    )
                    for protocol, ports in (("tcp", "1-65535"), ("udp", "1-65535"), ("icmp", None))
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})
