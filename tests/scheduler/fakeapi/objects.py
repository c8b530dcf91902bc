"""Small factories for the v1 objects the fake API serves (nodes, pods), shared by the controller
tests and the benchmark, which runs without pytest."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: dict[str, str] | None = None,
    taints: list[Obj] | None = None,
    unschedulable: bool = False,
) -> Obj:
    """A Ready v1 Node with the given allocatable resources."""
    allocatable = {"cpu": cpu, "memory": memory, "pods": pods, "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"taints": list(taints or []), **({"unschedulable": True} if unschedulable else {})},
        "status": {
            "capacity": dict(allocatable),
            "allocatable": allocatable,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def pod(
    name: str,
    *,
    namespace: str = "default",
    scheduler_name: str = "custom-scheduler",
    cpu: str = "100m",
    memory: str = "128Mi",
    priority: int | None = None,
    labels: dict[str, str] | None = None,
    node_name: str | None = None,
    node_selector: dict[str, str] | None = None,
    scheduling_gates: list[str] | None = None,
) -> Obj:
    """A v1 Pod with one container requesting `cpu` and `memory`."""
    spec: Obj = {
        "schedulerName": scheduler_name,
        "containers": [
            {"name": "main", "image": "pause", "resources": {"requests": {"cpu": cpu, "memory": memory}}}
        ],
    }
    if priority is not None:
        spec["priority"] = priority
    if node_name:
        spec["nodeName"] = node_name
    if node_selector:
        spec["nodeSelector"] = node_selector
    if scheduling_gates:
        spec["schedulingGates"] = [{"name": gate} for gate in scheduling_gates]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": spec,
        "status": {"phase": "Pending"},
    }
