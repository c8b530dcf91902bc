"""Kubernetes objects from manifest dicts: one typed ``pulumi_kubernetes`` resource per manifest.

The add-ons render their objects as plain manifests (camelCase, exactly as the API and the offline plan
show them) in pure functions that tests validate without Pulumi. ``apply_manifest`` hands one to the
typed resource class of its kind: top-level fields become the class's keyword arguments and nested
values pass through unchanged. Never Helm or ConfigGroup: those read the cluster while planning, which
fails before the cluster exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import pulumi
import pulumi_kubernetes as k8s

RESOURCE_CLASSES: Final[Mapping[tuple[str, str], type[pulumi.CustomResource]]] = {
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Node"): k8s.core.v1.NodePatch,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): k8s.rbac.v1.ClusterRole,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): k8s.rbac.v1.ClusterRoleBinding,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
    ("apiregistration.k8s.io/v1", "APIService"): k8s.apiregistration.v1.APIService,
}
"""The kinds the add-ons apply. A Node is only ever patched (server-side apply): the kubelet owns it."""

_CAPITAL = re.compile(r"(?<!^)(?=[A-Z])")


def apply_manifest(
    name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    """The typed resource for ``manifest``, registered as ``name``.

    Raises:
        KeyError: a kind the add-ons do not apply (a bug).
    """
    resource_class = RESOURCE_CLASSES[(manifest["apiVersion"], manifest["kind"])]
    fields = {_snake(key): value for key, value in manifest.items() if key not in ("apiVersion", "kind")}
    return resource_class(name, opts=opts, **fields)


def _snake(key: str) -> str:
    return _CAPITAL.sub("_", key).lower()
