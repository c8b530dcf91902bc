"""The Cluster component: machines -> bootstrap (incl. CNI) -> kubeconfig -> Kubernetes provider."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pulumi
import pulumi_kubernetes as k8s

from infra.catalog import HCLOUD
from infra.config import NodeConfig, StackConfig
from infra.firewall import Rule, host_cidr, node_rules
from infra.kubeadm.bootstrap import Bootstrap
from infra.nodes.base import SshAccess, VpsNode, addresses
from infra.nodes.existing import ExistingNode

ROLES = ("control-plane", "worker")


class Cluster(pulumi.ComponentResource):
    """A kubeadm cluster on the stack's machines, and a Kubernetes provider for what runs on it.

    Outputs: ``nodes`` (in config order), ``kubeconfig`` (secret), ``api_endpoint`` and ``provider``,
    whose ``cluster_identifier`` is the cluster name, so a changed kubeconfig never replaces it (nor,
    with it, every object it manages).
    """

    def __init__(
        self,
        name: str,
        config: StackConfig,
        *,
        ssh: SshAccess,
        business_line_key: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kubevps:index:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.nodes = _machines(name, config, ssh, child)
        _cloud_firewalls(name, config, self.nodes, child)
        bootstrap = Bootstrap(
            f"{name}-bootstrap",
            config=config,
            nodes=self.nodes,
            business_line_key=business_line_key,
            opts=child,
        )
        self.kubeconfig = bootstrap.kubeconfig
        self.api_endpoint = bootstrap.api_endpoint
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            cluster_identifier=f"kubevps-{config.cluster.name}",
            delete_unreachable=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=bootstrap.ready),
        )
        self.register_outputs({"apiEndpoint": self.api_endpoint, "kubeconfig": self.kubeconfig})


def _machines(name: str, config: StackConfig, ssh: SshAccess, child: pulumi.ResourceOptions) -> list[VpsNode]:
    """The stack's machines, in config order.

    Provider SDKs are imported only when the stack uses them: pulumi_digitalocean alone takes about a
    second to import, which every plan and preview would otherwise pay.
    """
    cluster = config.cluster.name
    makers: dict[str, Callable[[NodeConfig], VpsNode]] = {
        "existing": lambda spec: ExistingNode(spec.name, spec, ssh=ssh, opts=child)
    }
    if hcloud_specs := [n for n in config.nodes if n.provider == "hcloud"]:
        from infra.nodes.hcloud import HcloudNode, HcloudProject

        zone = HCLOUD.locations[str(hcloud_specs[0].region)].network_zone
        hcloud = HcloudProject(f"{name}-hcloud", cluster=cluster, network_zone=zone, ssh=ssh, opts=child)
        makers["hcloud"] = lambda spec: HcloudNode(
            spec.name, spec, project=hcloud, cluster=cluster, ssh=ssh, opts=child
        )
    if do_specs := [n for n in config.nodes if n.provider == "digitalocean"]:
        from infra.nodes.digitalocean import DigitalOceanNode, DigitalOceanProject

        regions = [str(n.region) for n in do_specs]
        do = DigitalOceanProject(
            f"{name}-digitalocean", cluster=cluster, regions=regions, ssh=ssh, opts=child
        )
        makers["digitalocean"] = lambda spec: DigitalOceanNode(
            spec.name, spec, project=do, cluster=cluster, ssh=ssh, opts=child
        )
    return [makers[spec.provider](spec) for spec in config.nodes]


def _cloud_firewalls(
    name: str, config: StackConfig, nodes: Sequence[VpsNode], child: pulumi.ResourceOptions
) -> None:
    """Provider firewalls with the host firewall's rules, for the nodes a provider created."""
    every_node = [ip.apply(host_cidr) for ip in addresses(nodes)]
    control_planes = [ip.apply(host_cidr) for ip in addresses(n for n in nodes if n.spec.is_control_plane)]
    lift: Callable[[str], pulumi.Output[str]] = pulumi.Output.from_input
    rules: dict[str, Sequence[Rule[pulumi.Output[str]]]] = {
        role: node_rules(
            config.cluster,
            control_plane=role == "control-plane",
            cluster_nodes=every_node,
            control_planes=control_planes,
            cidr=lift,
        )
        for role in ROLES
    }
    cluster = config.cluster.name
    if any(n.spec.provider == "hcloud" for n in nodes):
        from infra.nodes.hcloud import HcloudFirewall, HcloudNode

        servers = [n for n in nodes if isinstance(n, HcloudNode)]
        HcloudFirewall(
            f"{name}-hcloud-firewall", cluster=cluster, nodes=servers, rules_by_role=rules, opts=child
        )
    if any(n.spec.provider == "digitalocean" for n in nodes):
        from infra.nodes.digitalocean import DigitalOceanFirewall, DigitalOceanNode

        droplets = [n for n in nodes if isinstance(n, DigitalOceanNode)]
        DigitalOceanFirewall(
            f"{name}-digitalocean-firewall", cluster=cluster, nodes=droplets, rules_by_role=rules, opts=child
        )
