"""Composition root of the KubeVPS Pulumi program: stack config -> cluster -> add-ons -> stack outputs."""

import pulumi

from infra import config as stack_config
from infra.addons.metrics_server import MetricsServer
from infra.addons.node_settings import NodeSettings
from infra.addons.scheduler import Scheduler, scheduler_config
from infra.cluster import Cluster
from infra.nodes.base import SshAccess

config = stack_config.load()
ssh = SshAccess(
    user=config.ssh.user,
    private_key=pulumi.Output.secret(config.ssh.private_key.get_secret_value()),
    public_key=config.ssh_public_key,
)
business_line_key = scheduler_config(config.scheduler).business_line.label_key
cluster = Cluster(config.cluster.name, config, ssh=ssh, business_line_key=business_line_key)
NodeSettings(
    f"{config.cluster.name}-node-settings",
    nodes=cluster.nodes,
    business_line_key=business_line_key,
    provider=cluster.provider,
)
MetricsServer("metrics-server", provider=cluster.provider)
scheduler = Scheduler(config.scheduler.name, config=config, nodes=cluster.nodes, provider=cluster.provider)

pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("apiEndpoint", cluster.api_endpoint)
pulumi.export(
    "nodes",
    {
        node.spec.name: {"role": node.spec.role, "publicIp": node.public_ip, "privateIp": node.private_ip}
        for node in cluster.nodes
    },
)
pulumi.export("schedulerImage", scheduler.image)
