"""A machine you already rent: known addresses, nothing to create."""

from __future__ import annotations

import pulumi

from infra.config import NodeConfig
from infra.nodes.base import SshAccess, VpsNode


class ExistingNode(VpsNode):
    """An SSH host from the stack config (``provider: existing``); it owns no cloud resources."""

    def __init__(
        self, name: str, spec: NodeConfig, *, ssh: SshAccess, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("kubevps:index:ExistingNode", name, spec, opts)
        if spec.public_ip is None:  # refused by config validation
            raise ValueError(f"node {spec.name} has no publicIp")
        self._expose(identity=spec.public_ip, public_ip=spec.public_ip, private_ip=spec.private_ip, ssh=ssh)
