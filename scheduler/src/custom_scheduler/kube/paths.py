"""URL paths of the API resources the scheduler uses, in one place (and so its RBAC needs in one place)."""

from __future__ import annotations

from typing import Final

PODS: Final = "/api/v1/pods"
"""All pods in all namespaces (list, watch)."""
NODES: Final = "/api/v1/nodes"
"""All nodes (list, watch)."""
NODE_METRICS: Final = "/apis/metrics.k8s.io/v1beta1/nodes"
"""NodeMetrics from metrics-server (list); 404 when metrics.k8s.io is not served."""


def pod(namespace: str, name: str, subresource: str | None = None) -> str:
    """One pod, or one of its subresources (`binding`, `status`)."""
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    return f"{path}/{subresource}" if subresource else path


def events(namespace: str) -> str:
    """core/v1 Events of a namespace (create)."""
    return f"/api/v1/namespaces/{namespace}/events"


def leases(namespace: str) -> str:
    """coordination.k8s.io/v1 Leases of a namespace (create)."""
    return f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"


def lease(namespace: str, name: str) -> str:
    """One Lease (get, update)."""
    return f"{leases(namespace)}/{name}"
