"""The bootstrap graph (DESIGN.md 2.2): kubeadm over SSH, one ``remote.Command`` per step and node.

Per node: preflight, then prepare. On the first control plane: ``kubeadm init``, the CNI, and the admin
kubeconfig read back as a secret. Every other node joins with fresh credentials minted for it on the
first control plane: control planes one after another, workers in parallel (a worker's join never waits
on another worker). Nodes that leave the stack are drained, reset and deregistered.

Three pulumi-command traps shape the graph:
- ``delete`` also runs when a command is *replaced*, so teardown lives on resources whose inputs never
  force a replacement (no ``triggers``): they are only deleted when their node leaves the stack.
- Nothing runs in preview, so nothing here needs a command's output to decide the graph's shape.
- ``environment`` needs sshd's ``AcceptEnv``; secrets therefore travel on stdin only, parameters are
  written into the script text (see ``scripts.render_script``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Final

import pulumi
from pulumi_command import remote

from infra.config import StackConfig
from infra.firewall import API_SERVER_PORT, host_cidr, node_rules, render_nftables
from infra.kubeadm.render import format_node_labels, kubelet_settable, render_init_configuration
from infra.kubeadm.scripts import remote_command, render_script
from infra.nodes.base import VpsNode, addresses

JOIN_TOKEN_TTL: Final = "1h"
"""Join credentials are minted per join and expire soon after; a retry after that needs
``pulumi up --target-replace <the node's join-credentials URN>``."""

Params = Mapping[str, pulumi.Input[str]]


class Bootstrap(pulumi.ComponentResource):
    """Turns prepared-or-not VPS nodes into a kubeadm cluster.

    Outputs: ``kubeconfig`` (secret; the server is the public API endpoint), ``api_endpoint``
    (``host:port``), ``hosts`` (each node's product_uuid and MAC, checked to be distinct), and
    ``ready``: the last steps, for resources that need a working cluster.
    """

    kubeconfig: pulumi.Output[str]
    api_endpoint: pulumi.Output[str]
    hosts: pulumi.Output[dict[str, dict[str, str]]]
    ready: list[pulumi.Resource]

    def __init__(
        self,
        name: str,
        *,
        config: StackConfig,
        nodes: Sequence[VpsNode],
        business_line_key: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kubevps:index:Bootstrap", name, None, opts)
        self._config = config
        self._business_line_key = business_line_key
        by_name = {n.spec.name: n for n in nodes}
        first = by_name[config.first_control_plane.name]
        self.api_endpoint = (
            pulumi.Output.from_input(config.cluster.control_plane_endpoint)
            if config.cluster.control_plane_endpoint
            else first.public_ip.apply(lambda ip: f"{_host(ip)}:{API_SERVER_PORT}")
        )

        rulesets = _host_firewalls(config, nodes)
        preflights: dict[str, remote.Command] = {}
        prepared: dict[str, remote.Command] = {}
        for node in nodes:
            ruleset = rulesets[node.spec.is_control_plane]
            preflights[node.spec.name], prepared[node.spec.name] = self._prepare(node, ruleset)
        names = list(preflights)
        self.hosts = pulumi.Output.all(*(preflights[n].stdout for n in names)).apply(
            lambda outputs: distinct_hosts(dict(zip(names, outputs, strict=True)))
        )
        init = self._init(first, nodes, after=prepared[first.spec.name])
        cni = self._command(
            first,
            "cni",
            {
                "CNI": config.cluster.cni,
                "POD_SUBNET": config.cluster.pod_subnet,
                "MTU": str(config.cluster.effective_mtu),
            },
            depends_on=[init],
        )
        kubeconfig = self._command(
            first,
            "kubeconfig",
            {"API_ENDPOINT": self.api_endpoint},
            depends_on=[init],
            secret_stdout=True,
        )
        self.kubeconfig = pulumi.Output.secret(kubeconfig.stdout)

        joins: list[pulumi.Resource] = []
        previous_control_plane: list[pulumi.Resource] = []
        for node in nodes:
            if node is first:
                continue
            after: list[pulumi.Resource] = [init, cni, prepared[node.spec.name]]
            if node.spec.is_control_plane:
                # etcd members are added one at a time; workers join in parallel, after init only.
                after += previous_control_plane
            join = self._join(node, first, depends_on=after)
            if node.spec.is_control_plane:
                previous_control_plane = [join]
            self._teardown(node, first, join)
            joins.append(join)

        self.ready = [cni, kubeconfig, *joins]
        self.register_outputs(
            {"apiEndpoint": self.api_endpoint, "kubeconfig": self.kubeconfig, "hosts": self.hosts}
        )

    def _prepare(self, node: VpsNode, ruleset: pulumi.Output[str]) -> tuple[remote.Command, remote.Command]:
        spec = node.spec
        size = spec.declared_size
        preflight = self._command(
            node,
            "preflight",
            {
                "NODE_NAME": spec.name,
                "ROLE": spec.role,
                "CPU": str(size.cpu),
                "MEMORY_GIB": f"{size.memory_gib:g}",
                "DISK_GIB": str(size.disk_gib),
            },
            replace_with_machine=True,
        )
        labels = format_node_labels(kubelet_settable(spec.node_labels))
        taints = ",".join(
            f"{t.key}{'=' + t.value if t.value else ''}:{t.effect}"
            for t in spec.taints_with(self._business_line_key)
        )
        return preflight, self._command(
            node,
            "prepare",
            {
                "K8S_VERSION": self._config.kubernetes_version,
                "NODE_IP": self._node_ip(node),
                "NODE_LABELS": labels,
                "NODE_TAINTS": taints,
                "NFT_RULESET": ruleset,
            },
            depends_on=[preflight],
            replace_with_machine=True,
        )

    def _init(self, first: VpsNode, nodes: Sequence[VpsNode], *, after: pulumi.Resource) -> remote.Command:
        config = self._config
        spec = first.spec
        control_planes = [n for n in nodes if n.spec.is_control_plane]
        sans = pulumi.Output.all(
            self.api_endpoint.apply(lambda endpoint: endpoint.rpartition(":")[0].strip("[]")),
            *addresses(control_planes),
        )
        kubeadm_config = pulumi.Output.all(sans, self.api_endpoint, self._node_ip(first)).apply(
            lambda args: render_init_configuration(
                cluster_name=config.cluster.name,
                kubernetes_version=config.kubernetes_version,
                control_plane_endpoint=args[1],
                cert_sans=args[0],
                pod_subnet=config.cluster.pod_subnet,
                service_subnet=config.cluster.service_subnet,
                node_name=spec.name,
                node_ip=args[2],
                advertise_address=args[2],
                node_labels=kubelet_settable(spec.node_labels),
            )
        )
        return self._command(
            first,
            "init",
            {"NODE_NAME": spec.name, "KUBEADM_CONFIG": kubeadm_config},
            depends_on=[after],
        )

    def _join(
        self, node: VpsNode, first: VpsNode, *, depends_on: Sequence[pulumi.Resource]
    ) -> remote.Command:
        spec = node.spec
        join_as = spec.role
        credentials = self._command(
            first,
            "join-credentials",
            {
                "NODE_NAME": spec.name,
                "JOIN_AS": join_as,
                "API_ENDPOINT": self.api_endpoint,
                "TOKEN_TTL": JOIN_TOKEN_TTL,
            },
            name=f"{spec.name}-join-credentials",
            depends_on=depends_on,
            secret_stdout=True,
            triggers=[node.identity],
        )
        params: dict[str, pulumi.Input[str]] = {"NODE_NAME": spec.name, "JOIN_AS": join_as}
        if spec.is_control_plane:
            params["ADVERTISE_ADDRESS"] = self._node_ip(node)
        return self._command(
            node,
            "join",
            params,
            stdin=pulumi.Output.secret(credentials.stdout),
            depends_on=[*depends_on, credentials],
            replace_with_machine=True,
        )

    def _node_ip(self, node: VpsNode) -> pulumi.Output[str]:
        """The address cluster traffic uses: the private one when every node shares a private network,
        otherwise the public one (private addresses of different networks cannot reach each other)."""
        return node.private_ip if self._config.shares_private_network else node.public_ip

    def _teardown(self, node: VpsNode, first: VpsNode, join: remote.Command) -> None:
        """Drain, reset and deregister a node when it leaves the stack.

        Pulumi deletes dependents first, so the chain deregister <- reset <- drain runs, on deletion,
        as drain, then reset, then deregister. None of these has triggers: they are never replaced.
        """
        node_name = {"NODE_NAME": node.spec.name}
        deregister = self._teardown_command(first, node, "deregister", node_name, depends_on=[join])
        reset = self._teardown_command(node, node, "reset", {}, depends_on=[deregister])
        self._teardown_command(first, node, "drain", node_name, depends_on=[reset])

    def _teardown_command(
        self,
        host: VpsNode,
        subject: VpsNode,
        step: str,
        params: Params,
        *,
        depends_on: Sequence[pulumi.Resource],
    ) -> remote.Command:
        script = self._script(step, params)
        return remote.Command(
            f"{subject.spec.name}-{step}",
            connection=host.connection,
            create=f"echo 'kubevps: {step} of {subject.spec.name} runs when the node leaves the stack'",
            delete=script,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )

    def _script(self, step: str, params: Params) -> pulumi.Output[str]:
        names = list(params)
        become_root = self._config.ssh.become_root
        return pulumi.Output.all(*(params[n] for n in names)).apply(
            lambda values: remote_command(
                render_script(step, dict(zip(names, values, strict=True))), step=step, become_root=become_root
            )
        )

    def _command(
        self,
        node: VpsNode,
        step: str,
        params: Params,
        *,
        name: str | None = None,
        stdin: pulumi.Input[str] | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
        secret_stdout: bool = False,
        replace_with_machine: bool = False,
        triggers: Sequence[pulumi.Input[str]] | None = None,
    ) -> remote.Command:
        """One step on one host.

        ``replace_with_machine`` re-runs the step on a replacement machine (its identity changes);
        ``secret_stdout`` keeps the output out of logs and marks it secret.
        """
        if replace_with_machine:
            triggers = [node.identity]
        return remote.Command(
            name or f"{node.spec.name}-{step}",
            connection=node.connection,
            create=self._script(step, params),
            stdin=stdin,
            triggers=list(triggers) if triggers is not None else None,
            logging=remote.Logging.STDERR if secret_stdout else None,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(depends_on),
                additional_secret_outputs=["stdout"] if secret_stdout else None,
            ),
        )


def _host_firewalls(config: StackConfig, nodes: Sequence[VpsNode]) -> dict[bool, pulumi.Output[str]]:
    """The nftables ruleset of a control plane (key True) and of a worker (False): one per role, since
    every node of a role accepts the same sources."""
    every_node = pulumi.Output.all(*addresses(nodes))
    control_planes = pulumi.Output.all(*addresses(n for n in nodes if n.spec.is_control_plane))

    def ruleset(control_plane: bool, args: list[list[str]]) -> str:
        rules = node_rules(
            config.cluster,
            control_plane=control_plane,
            cluster_nodes=[host_cidr(ip) for ip in args[0]],
            control_planes=[host_cidr(ip) for ip in args[1]],
            cidr=str,
        )
        return render_nftables(rules)

    both = pulumi.Output.all(every_node, control_planes)
    return {role: both.apply(functools.partial(ruleset, role)) for role in (True, False)}


def distinct_hosts(preflight_outputs: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The product_uuid and MAC each node's preflight printed; RunError if two nodes share one.

    Cloned VPS images can share them, and kubeadm clusters break in confusing ways when they do.
    """
    facts = {
        node: dict(re.findall(r"^kubevps: (product_uuid|mac)=(\S+)$", output or "", re.MULTILINE))
        for node, output in preflight_outputs.items()
    }
    problems = []
    for fact in ("product_uuid", "mac"):
        owners: dict[str, list[str]] = {}
        for node, values in facts.items():
            if fact in values:
                owners.setdefault(values[fact], []).append(node)
        problems += [
            f"nodes {', '.join(sorted(shared))} share {fact} {value}: give each machine its own "
            "(re-create it from a fresh image, or regenerate /etc/machine-id and the MAC)"
            for value, shared in owners.items()
            if len(shared) > 1
        ]
    if problems:
        raise pulumi.RunError("\n".join(problems))
    return facts


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip
