"""What every node offers the bootstrap, whatever machine it runs on.

A node is a ``VpsNode`` component: its stack-config spec, its public and private addresses and the
SSH connection to reach it (the private key inside is a Pulumi secret). Provider modules subclass it;
the bootstrap only ever sees this interface.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pulumi
from pulumi_command import remote

from infra.config import NodeConfig

SSH_DIAL_ATTEMPTS = 40
"""Fresh provider machines take a minute or two to start sshd; 40 attempts of 15 s cover that."""


@dataclass(frozen=True)
class SshAccess:
    """How Pulumi logs in to every node."""

    user: str
    private_key: pulumi.Output[str]
    """A Pulumi secret."""
    public_key: str


class VpsNode(pulumi.ComponentResource):
    """A machine of the cluster, reachable over SSH.

    Outputs: ``identity`` (changes only when the machine is replaced); ``public_ip``; ``private_ip``
    (the public one when the node has no private network); ``connection`` for ``pulumi_command.remote``
    resources, carrying the private key as a secret.
    """

    spec: NodeConfig
    identity: pulumi.Output[str]
    public_ip: pulumi.Output[str]
    private_ip: pulumi.Output[str]
    connection: remote.ConnectionArgs

    def __init__(self, type_: str, name: str, spec: NodeConfig, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(type_, name, None, opts)
        self.spec = spec

    def _expose(
        self,
        *,
        identity: pulumi.Input[str],
        public_ip: pulumi.Input[str],
        private_ip: pulumi.Input[str] | None,
        ssh: SshAccess,
    ) -> None:
        """Set the outputs every node has and register them; the last step of a subclass' constructor."""
        self.identity = pulumi.Output.from_input(identity)
        self.public_ip = pulumi.Output.from_input(public_ip)
        self.private_ip = pulumi.Output.from_input(private_ip) if private_ip is not None else self.public_ip
        self.connection = remote.ConnectionArgs(
            host=self.public_ip,
            user=ssh.user,
            private_key=ssh.private_key,
            dial_error_limit=SSH_DIAL_ATTEMPTS,
        )
        self.register_outputs({"publicIp": self.public_ip, "privateIp": self.private_ip})


def addresses(nodes: Iterable[VpsNode]) -> list[pulumi.Output[str]]:
    """Every address of ``nodes``, public and private: the sources cluster traffic may come from."""
    return [ip for node in nodes for ip in (node.public_ip, node.private_ip)]
