"""Node labels and taints from the stack config, kept in sync through the Kubernetes provider.

The kubelet sets a node's labels only when it registers (``--node-labels``), so a label changed in the
stack later would never reach the node. Instead each node gets a server-side-apply patch (``NodePatch``)
of its labels and taints, re-applied whenever the stack changes them; a label or taint removed from the
stack is removed from the node (the patch owned it).

Taints are an atomic list under server-side apply: the patch replaces the whole list. So it holds the
node's configured taints, the business-line taint ``<labelKey>=<line>:NoSchedule`` of a dedicated node
(DESIGN.md 3.2: keeps the default scheduler off it; the custom scheduler's BusinessLine filter owns that
key) and, on control planes, kubeadm's ``node-role.kubernetes.io/control-plane:NoSchedule``.
``pulumi.com/patchForce`` lets the patch take these fields over from kubeadm and the kubelet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import pulumi

from infra.addons.objects import apply_manifest
from infra.config import NodeConfig
from infra.nodes.base import VpsNode

PATCH_FORCE: Final = "pulumi.com/patchForce"


def node_taints(spec: NodeConfig, *, business_line_key: str) -> list[dict[str, str]]:
    """Every taint the node must carry (``NodeConfig.taints_with``), as the API writes them."""
    return [
        {"key": t.key, "effect": t.effect, **({"value": t.value} if t.value else {})}
        for t in spec.taints_with(business_line_key)
    ]


def node_patch(spec: NodeConfig, *, business_line_key: str) -> dict[str, Any]:
    """The server-side-apply patch of one Node: its labels and its whole taint list."""
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec.name, "labels": spec.node_labels, "annotations": {PATCH_FORCE: "true"}},
    }
    taints = node_taints(spec, business_line_key=business_line_key)
    if taints:
        manifest["spec"] = {"taints": taints}
    return manifest


class NodeSettings(pulumi.ComponentResource):
    """One ``<node>-labels`` NodePatch per node, applied once the cluster (every join) is ready."""

    def __init__(
        self,
        name: str,
        *,
        nodes: Sequence[VpsNode],
        business_line_key: str,
        provider: pulumi.ProviderResource,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kubevps:index:NodeSettings", name, None, opts)
        for node in nodes:
            apply_manifest(
                f"{node.spec.name}-labels",
                node_patch(node.spec, business_line_key=business_line_key),
                # The provider waits for every join: the Node object exists by then.
                pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[provider]),
            )
        self.register_outputs({})
