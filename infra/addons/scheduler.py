"""The custom scheduler in the cluster (DESIGN.md 2.3): image, RBAC, config, Deployment, PDB, Service.

Everything lives in ``kube-system`` (the Lease in the config's leader-election namespace, kube-system by
default). Manifests are rendered by the pure functions below and applied as typed resources through the
cluster's Kubernetes provider:

- ConfigMap ``<name>-config``: ``config.yaml``, the stack's ``scheduler.config`` with ``schedulerName``
  set from ``scheduler.name``, validated and completed by the scheduler's own config model; its SHA-256
  is a pod-template annotation, so a changed config rolls the Deployment.
- Deployment ``<name>``: leader-elected replicas (a rolling update briefly runs old and new pods side by
  side, so election stays on even with one replica); Pod Security "restricted" plus a read-only root
  filesystem; ``system-cluster-critical``; tolerates the control-plane taint and prefers control-plane
  nodes; preferred (never required) anti-affinity across nodes, so one node still runs every replica.
  The scheduler pods themselves are placed by the default scheduler.
- PodDisruptionBudget ``maxUnavailable: 1``: a drain always proceeds, one replica at a time.
- Service ``<name>-metrics`` with Prometheus scrape annotations.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any, Final

import pulumi
from custom_scheduler.config import SchedulerConfig, parse_config

from infra.addons import rbac
from infra.addons.objects import apply_manifest
from infra.addons.scheduler_image import SchedulerImage, registry_host
from infra.config import CONTROL_PLANE_TAINT_KEY, SchedulerSettings, StackConfig
from infra.nodes.base import VpsNode

Manifest = dict[str, Any]

NAMESPACE: Final = "kube-system"
CONFIG_DIR: Final = "/etc/custom-scheduler"
CONFIG_FILE: Final = "config.yaml"
METRICS_PORT: Final = 10251
CONFIG_CHECKSUM_ANNOTATION: Final = "kubevps.dev/config-sha256"
RUN_AS: Final = 65532
"""The numeric user of scheduler/Dockerfile."""
RESOURCES: Final[Manifest] = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}


def scheduler_config(settings: SchedulerSettings) -> SchedulerConfig:
    """The scheduler's config: the stack's ``scheduler.config`` with ``schedulerName`` = ``scheduler.name``.

    Raises:
        custom_scheduler.errors.ConfigError: invalid config (stack validation refuses it first).
    """
    return parse_config(
        {**settings.config, "schedulerName": settings.name},
        source=f"kubevps:scheduler.config ({settings.name})",
    )


def labels(name: str) -> dict[str, str]:
    """Labels of every scheduler object; the first two select its pods."""
    return {
        "app.kubernetes.io/name": "custom-scheduler",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": "scheduler",
        "app.kubernetes.io/part-of": "kubevps",
    }


def selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": "custom-scheduler", "app.kubernetes.io/instance": name}


def config_map(name: str, config_yaml: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{name}-config", "namespace": NAMESPACE, "labels": labels(name)},
        "data": {CONFIG_FILE: config_yaml},
    }


def checksum(config_yaml: str) -> str:
    return hashlib.sha256(config_yaml.encode()).hexdigest()


def pod_template(
    name: str,
    *,
    image: pulumi.Input[str],
    pull_policy: str,
    config_yaml: str,
    pull_secret: str | None = None,
) -> Manifest:
    """The scheduler pod: "restricted" Pod Security, read-only root, probes, resources, placement."""
    spec: Manifest = {
        "serviceAccountName": name,
        "automountServiceAccountToken": True,
        "priorityClassName": "system-cluster-critical",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "scheduler",
                "image": image,
                "imagePullPolicy": pull_policy,
                "command": ["custom-scheduler"],
                "args": [
                    "run",
                    "--config",
                    f"{CONFIG_DIR}/{CONFIG_FILE}",
                    "--metrics-addr",
                    f"0.0.0.0:{METRICS_PORT}",
                ],
                "ports": [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}],
                "livenessProbe": {
                    "httpGet": {"path": "/healthz", "port": "metrics"},
                    "initialDelaySeconds": 15,
                    "periodSeconds": 10,
                    "timeoutSeconds": 5,
                    "failureThreshold": 3,
                },
                "readinessProbe": {
                    "httpGet": {"path": "/readyz", "port": "metrics"},
                    "periodSeconds": 5,
                    "timeoutSeconds": 5,
                    "failureThreshold": 3,
                },
                "resources": RESOURCES,
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "runAsNonRoot": True,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "volumeMounts": [
                    {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
            }
        ],
        "volumes": [
            {"name": "config", "configMap": {"name": f"{name}-config"}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
        "tolerations": [{"key": CONTROL_PLANE_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 50,
                        "preference": {
                            "matchExpressions": [{"key": CONTROL_PLANE_TAINT_KEY, "operator": "Exists"}]
                        },
                    }
                ]
            },
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": selector(name)},
                            "topologyKey": "kubernetes.io/hostname",
                        },
                    }
                ]
            },
        },
    }
    if pull_secret is not None:
        spec["imagePullSecrets"] = [{"name": pull_secret}]
    return {
        "metadata": {
            "labels": labels(name),
            "annotations": {CONFIG_CHECKSUM_ANNOTATION: checksum(config_yaml)},
        },
        "spec": spec,
    }


def deployment(name: str, *, replicas: int, leader_elect: bool, template: Manifest) -> Manifest:
    """Rolling updates overlap old and new pods, which leader election makes safe; without it, Recreate."""
    strategy: Manifest = (
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
        if leader_elect
        else {"type": "Recreate"}
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels(name)},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(name)},
            "strategy": strategy,
            "template": template,
        },
    }


def disruption_budget(name: str) -> Manifest:
    """``maxUnavailable: 1`` rather than ``minAvailable``: with one replica a drain must still evict it."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels(name)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(name)}},
    }


def metrics_service(name: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": f"{name}-metrics",
            "namespace": NAMESPACE,
            "labels": labels(name),
            "annotations": {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(METRICS_PORT),
                "prometheus.io/path": "/metrics",
            },
        },
        "spec": {
            "type": "ClusterIP",
            "selector": selector(name),
            "ports": [{"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"}],
        },
    }


def registry_pull_secret(name: str, docker_config_json: pulumi.Input[str]) -> Manifest:
    """Registry mode: the kubelet's pull credentials (the scheduler's account cannot read secrets)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"{name}-registry", "namespace": NAMESPACE, "labels": labels(name)},
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": docker_config_json},
    }


def rbac_manifests(name: str, config: SchedulerConfig) -> dict[str, Manifest]:
    """The RBAC objects by role; the Lease Role only when leader election is on."""
    common = labels(name)
    role_name = f"kubevps:{name}"
    election = config.leader_election
    manifests = {
        "service-account": rbac.service_account(name, NAMESPACE, common),
        "cluster-role": rbac.cluster_role(role_name, common),
        "cluster-role-binding": rbac.binding(
            "ClusterRoleBinding",
            role_name,
            role_kind="ClusterRole",
            role_name=role_name,
            account=name,
            account_namespace=NAMESPACE,
            labels=common,
        ),
    }
    if election.leader_elect:
        lease_role = f"{role_name}:leader-election"
        namespace = election.resource_namespace
        manifests["lease-role"] = rbac.lease_role(lease_role, namespace, config.lease_name, common)
        manifests["lease-role-binding"] = rbac.binding(
            "RoleBinding",
            lease_role,
            role_kind="Role",
            role_name=lease_role,
            account=name,
            account_namespace=NAMESPACE,
            labels=common,
            namespace=namespace,
        )
    return manifests


def docker_config_json(registry: str, username: str, password: str) -> str:
    """The ``.dockerconfigjson`` of a pull secret for one registry."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps({"auths": {registry: {"username": username, "password": password, "auth": auth}}})


class Scheduler(pulumi.ComponentResource):
    """The custom scheduler, deployed through ``provider``; ``image`` is the reference it runs."""

    image: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        config: StackConfig,
        nodes: Sequence[VpsNode],
        provider: pulumi.ProviderResource,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kubevps:index:Scheduler", name, None, opts)
        settings = config.scheduler
        scheduler = scheduler_config(settings)
        config_yaml = scheduler.to_yaml()
        kube = pulumi.ResourceOptions(parent=self, provider=provider)

        image = SchedulerImage(
            f"{name}-image",
            settings=settings.image,
            nodes=nodes,
            after=provider,
            become_root=config.ssh.become_root,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.image = image.ref

        objects = {
            role: apply_manifest(f"{name}-{role}", manifest, kube)
            for role, manifest in rbac_manifests(name, scheduler).items()
        }
        objects["config"] = apply_manifest(f"{name}-config", config_map(name, config_yaml), kube)
        pull_secret = None
        image_settings = settings.image
        if image_settings.mode == "registry" and image_settings.password is not None:
            docker_config = pulumi.Output.secret(
                docker_config_json(
                    registry_host(str(image_settings.registry)),
                    str(image_settings.username),
                    image_settings.password.get_secret_value(),
                )
            )
            secret = registry_pull_secret(name, docker_config)
            objects["registry-secret"] = apply_manifest(f"{name}-registry-secret", secret, kube)
            pull_secret = secret["metadata"]["name"]

        template = pod_template(
            name,
            image=image.ref,
            pull_policy=image.pull_policy,
            config_yaml=config_yaml,
            pull_secret=pull_secret,
        )
        apply_manifest(
            f"{name}-deployment",
            deployment(
                name,
                replicas=settings.replicas,
                leader_elect=scheduler.leader_election.leader_elect,
                template=template,
            ),
            pulumi.ResourceOptions(
                parent=self, provider=provider, depends_on=[*objects.values(), *image.ready]
            ),
        )
        apply_manifest(f"{name}-disruption-budget", disruption_budget(name), kube)
        apply_manifest(f"{name}-metrics", metrics_service(name), kube)
        self.register_outputs({"image": self.image})
