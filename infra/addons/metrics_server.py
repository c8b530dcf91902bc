"""metrics-server v0.7.2 as typed resources: the real node metrics behind the scheduler's NodeLoad score.

The objects are upstream's ``components.yaml`` of v0.7.2 (ServiceAccount; ClusterRoles
``system:aggregated-metrics-reader`` and ``system:metrics-server``; the auth-delegator and
``system:metrics-server`` ClusterRoleBindings; the ``extension-apiserver-authentication-reader``
RoleBinding; Service; Deployment; APIService ``v1beta1.metrics.k8s.io``), with two changes: the
``--kubelet-insecure-tls`` flag (below), and a toleration of the control-plane taint, as CoreDNS has, so
that a cluster of control planes only still gets metrics. Upstream's pod already passes Pod Security
"restricted".

Kubelet TLS on kubeadm clusters: each kubelet serves a *self-signed* certificate (kubeadm does not enable
``serverTLSBootstrap``), which metrics-server cannot verify, so out of the box it scrapes nothing. The
alternatives are (a) ``serverTLSBootstrap: true`` in every KubeletConfiguration plus something that
approves the kubelets' serving CSRs — kube-controller-manager never approves them, so that is a manual
``kubectl certificate approve`` per node and per renewal, or one more controller to run and trust — or
(b) ``--kubelet-insecure-tls``: metrics-server still talks TLS to the kubelet and still authenticates
with its own token, but does not verify the kubelet's certificate. We choose (b): a fresh cluster then has
node metrics without manual steps. What it gives up: an attacker who can impersonate a node's address on
port 10250 could feed metrics-server false metrics (and see its token, which may only read metrics, pods
and nodes). The host firewall opens 10250 only to cluster nodes and the pod network, and
``--kubelet-preferred-address-types`` puts the node's InternalIP (the private network where there is one)
first. Move to (a) once the cluster runs a serving-certificate approver.
"""

from __future__ import annotations

from typing import Any, Final

import pulumi

from infra.addons.objects import apply_manifest
from infra.config import CONTROL_PLANE_TAINT_KEY

Manifest = dict[str, Any]

VERSION: Final = "v0.7.2"
IMAGE: Final = f"registry.k8s.io/metrics-server/metrics-server:{VERSION}"
NAME: Final = "metrics-server"
NAMESPACE: Final = "kube-system"
LABELS: Final = {"k8s-app": NAME}
RBAC_API: Final = "rbac.authorization.k8s.io/v1"
ARGS: Final = (
    "--cert-dir=/tmp",
    "--secure-port=10250",
    "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
    "--kubelet-use-node-status-port",
    "--metric-resolution=15s",
    "--kubelet-insecure-tls",
)


def _account() -> list[Manifest]:
    return [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]


def manifests() -> dict[str, Manifest]:
    """Every metrics-server object by role (the role names its Pulumi resource)."""
    return {
        "service-account": {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)},
        },
        "aggregated-reader-role": {
            "apiVersion": RBAC_API,
            "kind": "ClusterRole",
            "metadata": {
                "name": "system:aggregated-metrics-reader",
                "labels": {
                    **LABELS,
                    "rbac.authorization.k8s.io/aggregate-to-admin": "true",
                    "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                    "rbac.authorization.k8s.io/aggregate-to-view": "true",
                },
            },
            "rules": [
                {
                    "apiGroups": ["metrics.k8s.io"],
                    "resources": ["pods", "nodes"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        },
        "cluster-role": {
            "apiVersion": RBAC_API,
            "kind": "ClusterRole",
            "metadata": {"name": "system:metrics-server", "labels": dict(LABELS)},
            "rules": [
                {"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
                {"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]},
            ],
        },
        "auth-reader-binding": {
            "apiVersion": RBAC_API,
            "kind": "RoleBinding",
            "metadata": {
                "name": "metrics-server-auth-reader",
                "namespace": NAMESPACE,
                "labels": dict(LABELS),
            },
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "extension-apiserver-authentication-reader",
            },
            "subjects": _account(),
        },
        "auth-delegator-binding": {
            "apiVersion": RBAC_API,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "metrics-server:system:auth-delegator", "labels": dict(LABELS)},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:auth-delegator",
            },
            "subjects": _account(),
        },
        "cluster-role-binding": {
            "apiVersion": RBAC_API,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "system:metrics-server", "labels": dict(LABELS)},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:metrics-server",
            },
            "subjects": _account(),
        },
        "service": {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)},
            "spec": {
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"}],
                "selector": dict(LABELS),
            },
        },
        "deployment": deployment(),
        "api-service": {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1beta1.metrics.k8s.io", "labels": dict(LABELS)},
            "spec": {
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
                # As upstream: the aggregator does not verify the serving certificate metrics-server makes
                # for itself at start-up (--cert-dir=/tmp); it reaches it through the Service.
                "insecureSkipTLSVerify": True,
                "service": {"name": NAME, "namespace": NAMESPACE},
            },
        },
    }


def deployment() -> Manifest:
    probe = {"path": "/livez", "port": "https", "scheme": "HTTPS"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "selector": {"matchLabels": dict(LABELS)},
            "strategy": {"rollingUpdate": {"maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "containers": [
                        {
                            "name": NAME,
                            "image": IMAGE,
                            "imagePullPolicy": "IfNotPresent",
                            "args": list(ARGS),
                            "ports": [{"name": "https", "containerPort": 10250, "protocol": "TCP"}],
                            "livenessProbe": {"httpGet": probe, "periodSeconds": 10, "failureThreshold": 3},
                            "readinessProbe": {
                                "httpGet": {**probe, "path": "/readyz"},
                                "initialDelaySeconds": 20,
                                "periodSeconds": 10,
                                "failureThreshold": 3,
                            },
                            "resources": {"requests": {"cpu": "100m", "memory": "200Mi"}},
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                                "readOnlyRootFilesystem": True,
                                "runAsNonRoot": True,
                                "runAsUser": 1000,
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            "volumeMounts": [{"name": "tmp-dir", "mountPath": "/tmp"}],
                        }
                    ],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [
                        {
                            "key": CONTROL_PLANE_TAINT_KEY,
                            "operator": "Exists",
                            "effect": "NoSchedule",
                        }
                    ],
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": NAME,
                    "volumes": [{"name": "tmp-dir", "emptyDir": {}}],
                },
            },
        },
    }


class MetricsServer(pulumi.ComponentResource):
    """metrics-server in kube-system, serving metrics.k8s.io through the API aggregation layer."""

    def __init__(
        self, name: str, *, provider: pulumi.ProviderResource, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("kubevps:index:MetricsServer", name, None, opts)
        kube = pulumi.ResourceOptions(parent=self, provider=provider)
        for role, manifest in manifests().items():
            apply_manifest(f"{name}-{role}", manifest, kube)
        self.register_outputs({})
