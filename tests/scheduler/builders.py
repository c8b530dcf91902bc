"""Fluent builders for the Kubernetes objects scheduler tests need (v1 Pod, v1 Node, NodeMetrics).

In the spirit of kube-scheduler's ``st.MakePod()...Obj()``: start from a minimal valid object, add only
what the test is about, and get a plain JSON-style dict with ``.obj()``.

    pod = make_pod("web").req(cpu="500m", memory="1Gi").toleration("dedicated", "gpu").obj()
    node = make_node("n1").alloc(cpu="4", memory="8Gi").label("zone", "a").taint("k", "v").obj()
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

Quantity = str | int
Resources = Mapping[str, Quantity]


def _quantities(resources: Resources) -> dict[str, str]:
    return {name: str(amount) for name, amount in resources.items()}


def expression(key: str, operator: str, *values: str) -> dict[str, Any]:
    """A NodeSelectorRequirement (``values`` omitted for Exists/DoesNotExist)."""
    requirement: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        requirement["values"] = list(values)
    return requirement


def term(*expressions: dict[str, Any], fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A NodeSelectorTerm from matchExpressions and, optionally, matchFields."""
    result: dict[str, Any] = {}
    if expressions:
        result["matchExpressions"] = list(expressions)
    if fields is not None:
        result["matchFields"] = fields
    return result


def name_field(operator: str, *names: str) -> dict[str, Any]:
    """A matchFields requirement on ``metadata.name``."""
    return {"key": "metadata.name", "operator": operator, "values": list(names)}


class PodBuilder:
    """Builds a v1 Pod dict; every method returns the builder."""

    def __init__(self, name: str, namespace: str = "default") -> None:
        self._pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}"},
            "spec": {"containers": []},
        }

    @property
    def _spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self._pod["spec"]
        return spec

    @property
    def _meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self._pod["metadata"]
        return meta

    def uid(self, uid: str) -> PodBuilder:
        self._meta["uid"] = uid
        return self

    def label(self, key: str, value: str) -> PodBuilder:
        self._meta.setdefault("labels", {})[key] = value
        return self

    def annotation(self, key: str, value: str) -> PodBuilder:
        self._meta.setdefault("annotations", {})[key] = value
        return self

    def node(self, name: str) -> PodBuilder:
        """Bind the pod to a node (``spec.nodeName``)."""
        self._spec["nodeName"] = name
        return self

    def phase(self, phase: str) -> PodBuilder:
        self._pod.setdefault("status", {})["phase"] = phase
        return self

    def priority(self, priority: int) -> PodBuilder:
        self._spec["priority"] = priority
        return self

    def scheduler(self, name: str) -> PodBuilder:
        self._spec["schedulerName"] = name
        return self

    def container(
        self,
        requests: Resources | None = None,
        *,
        limits: Resources | None = None,
        host_ports: list[dict[str, Any]] | None = None,
    ) -> PodBuilder:
        """Add a container with these requests/limits (quantities) and ports."""
        self._spec["containers"].append(self._container(requests, limits, host_ports))
        return self

    def req(self, **requests: Quantity) -> PodBuilder:
        """Add a container requesting ``cpu=``/``memory=`` (for other names use :meth:`container`)."""
        return self.container(requests)

    def init_container(self, requests: Resources | None = None, *, sidecar: bool = False) -> PodBuilder:
        container = self._container(requests, None, None)
        if sidecar:
            container["restartPolicy"] = "Always"
        self._spec.setdefault("initContainers", []).append(container)
        return self

    def overhead(self, **overhead: Quantity) -> PodBuilder:
        self._spec["overhead"] = _quantities(overhead)
        return self

    def host_port(self, port: int, protocol: str = "", ip: str = "") -> PodBuilder:
        """Add a container exposing one host port (protocol/IP left out when empty)."""
        entry: dict[str, Any] = {"containerPort": port, "hostPort": port}
        if protocol:
            entry["protocol"] = protocol
        if ip:
            entry["hostIP"] = ip
        return self.container(host_ports=[entry])

    def toleration(
        self, key: str = "", value: str = "", *, operator: str = "", effect: str = ""
    ) -> PodBuilder:
        toleration = {"key": key, "operator": operator, "value": value, "effect": effect}
        self._spec.setdefault("tolerations", []).append({k: v for k, v in toleration.items() if v})
        return self

    def node_selector(self, **labels: str) -> PodBuilder:
        self._spec.setdefault("nodeSelector", {}).update(labels)
        return self

    def node_selector_label(self, key: str, value: str) -> PodBuilder:
        self._spec.setdefault("nodeSelector", {})[key] = value
        return self

    def required(self, *terms: dict[str, Any]) -> PodBuilder:
        """Required node affinity with these nodeSelectorTerms (none: an empty term list)."""
        affinity = self._spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
        affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": list(terms)}
        return self

    def preferred(self, weight: int, preference: dict[str, Any]) -> PodBuilder:
        affinity = self._spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
        terms = affinity.setdefault("preferredDuringSchedulingIgnoredDuringExecution", [])
        terms.append({"weight": weight, "preference": preference})
        return self

    def obj(self) -> dict[str, Any]:
        return copy.deepcopy(self._pod)

    def _container(
        self, requests: Resources | None, limits: Resources | None, ports: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        count = len(self._spec["containers"]) + len(self._spec.get("initContainers", []))
        container: dict[str, Any] = {"name": f"c{count}", "image": "registry.k8s.io/pause:3.9"}
        resources: dict[str, Any] = {}
        if requests:
            resources["requests"] = _quantities(requests)
        if limits:
            resources["limits"] = _quantities(limits)
        if resources:
            container["resources"] = resources
        if ports:
            container["ports"] = ports
        return container


class NodeBuilder:
    """Builds a v1 Node dict: by default 4 CPUs, 8Gi and 110 pods allocatable, no labels or taints."""

    def __init__(self, name: str) -> None:
        self._node: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
        }

    def alloc(self, resources: Resources | None = None, **named: Quantity) -> NodeBuilder:
        """Replace allocatable with exactly these resources (dict for names like ``nvidia.com/gpu``)."""
        self._node["status"]["allocatable"] = _quantities({**(resources or {}), **named})
        return self

    def label(self, key: str, value: str) -> NodeBuilder:
        self._node["metadata"]["labels"][key] = value
        return self

    def labels(self, labels: Mapping[str, str], *, replace: bool = True) -> NodeBuilder:
        if replace:
            self._node["metadata"]["labels"] = dict(labels)
        else:
            self._node["metadata"]["labels"].update(labels)
        return self

    def annotation(self, key: str, value: str) -> NodeBuilder:
        self._node["metadata"].setdefault("annotations", {})[key] = value
        return self

    def taint(self, key: str, value: str = "", effect: str = "NoSchedule") -> NodeBuilder:
        taint = {"key": key, "effect": effect}
        if value:
            taint["value"] = value
        self._node["spec"].setdefault("taints", []).append(taint)
        return self

    def unschedulable(self) -> NodeBuilder:
        self._node["spec"]["unschedulable"] = True
        return self

    def obj(self) -> dict[str, Any]:
        return copy.deepcopy(self._node)


def make_pod(name: str = "pod", namespace: str = "default") -> PodBuilder:
    return PodBuilder(name, namespace)


def make_node(name: str) -> NodeBuilder:
    return NodeBuilder(name)


def node_metrics(name: str, *, cpu: Quantity, memory: Quantity, timestamp: str = "") -> dict[str, Any]:
    """A metrics.k8s.io/v1beta1 NodeMetrics object."""
    metrics: dict[str, Any] = {
        "apiVersion": "metrics.k8s.io/v1beta1",
        "kind": "NodeMetrics",
        "metadata": {"name": name},
        "window": "20s",
        "usage": {"cpu": str(cpu), "memory": str(memory)},
    }
    if timestamp:
        metrics["timestamp"] = timestamp
    return metrics
