"""Who the scheduler is and what it may do: its ServiceAccount, ClusterRole, Lease Role and bindings.

Least privilege, rule by rule, for the API calls in ``custom_scheduler.kube`` and ``controller``:

=====================  ==========================  ================  =====================================
API group              resource                    verbs             why
=====================  ==========================  ================  =====================================
"" (core)              pods                        get, list, watch  informer over all pods; binder re-read
"" (core)              nodes                       list, watch       informer over all nodes
"" (core)              pods/binding                create            bind a pod to its node
"" (core)              pods/status                 patch             ``PodScheduled=False`` when unschedulable
"", events.k8s.io      events                      create            ``Scheduled`` / ``FailedScheduling``
metrics.k8s.io         nodes                       list              NodeMetrics for the NodeLoad score
coordination.k8s.io    leases (Role, lease ns)     create            first election creates the Lease
coordination.k8s.io    leases ``<lease name>``     get, update       renew, take over, release
=====================  ==========================  ================  =====================================

Why not bind ``system:kube-scheduler`` (and ``system:volume-scheduler``), as the upstream "configure
multiple schedulers" guide does: that role is written for kube-scheduler and grants far more than this
scheduler uses — ``delete`` on pods (preemption), ``update``/``patch`` on events and pod status, reads of
PVCs, PVs, services, replica sets, stateful sets, disruption budgets, namespaces and CSI objects, token
and access reviews, and the Lease and Endpoints named ``kube-scheduler`` (not ours: it cannot name our own
Lease) — and it changes with every Kubernetes release. A compromised scheduler pod would hold all of it.
No rule here names secrets, and none uses a wildcard.

``create`` cannot be limited by ``resourceNames`` (the name is not known to the authorizer before the
object exists), so the Lease Role grants ``create`` on leases in the election namespace only, and
``get``/``update`` on the one Lease by name.
"""

from __future__ import annotations

from typing import Any, Final

Manifest = dict[str, Any]
RBAC_API: Final = "rbac.authorization.k8s.io/v1"

SCHEDULER_RULES: Final[tuple[Manifest, ...]] = (
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/binding"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["patch"]},
    {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["nodes"], "verbs": ["list"]},
)
"""The cluster-wide rules. Events may be written through either API (DESIGN.md 3.5: events.k8s.io/v1 or
core/v1; both store the same objects), so ``create`` is granted in both groups and nothing else."""


def lease_rules(lease_name: str) -> list[Manifest]:
    """The rules of the Role in the leader-election namespace."""
    return [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [lease_name],
            "verbs": ["get", "update"],
        },
    ]


def service_account(name: str, namespace: str, labels: dict[str, str]) -> Manifest:
    """The scheduler's identity; its token is mounted (the scheduler talks to the API with it)."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
    }


def cluster_role(name: str, labels: dict[str, str]) -> Manifest:
    return {
        "apiVersion": RBAC_API,
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": labels},
        "rules": [dict(rule) for rule in SCHEDULER_RULES],
    }


def lease_role(name: str, namespace: str, lease_name: str, labels: dict[str, str]) -> Manifest:
    return {
        "apiVersion": RBAC_API,
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "rules": lease_rules(lease_name),
    }


def binding(
    kind: str,
    name: str,
    *,
    role_kind: str,
    role_name: str,
    account: str,
    account_namespace: str,
    labels: dict[str, str],
    namespace: str | None = None,
) -> Manifest:
    """A ClusterRoleBinding or RoleBinding (``kind``) of one ServiceAccount to one role."""
    metadata: Manifest = {"name": name, "labels": labels}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "apiVersion": RBAC_API,
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": account_namespace}],
    }
