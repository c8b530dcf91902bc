"""A straightforward per-node implementation of the filters, written from kube-scheduler's Go code.

It shares only the object parsing with the real scheduler; every rule is re-implemented node by node
with plain dicts and loops, so the property tests can check the vectorised column path against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from custom_scheduler.objects import (
    FieldRequirement,
    LabelRequirement,
    NodeInfo,
    NodeSelectorTerm,
    PodInfo,
)
from custom_scheduler.validation import parse_go_int64

BUSINESS_LINE = "kubevps.dev/business-line"


def tolerated(pod: PodInfo, key: str, value: str, effect: str) -> bool:
    for t in pod.tolerations:
        if t.effect and t.effect != effect:
            continue
        if t.key and t.key != key:
            continue
        if (t.operator in ("", "Equal") and t.value == value) or t.operator == "Exists":
            return True
    return False


def label_ok(r: LabelRequirement, labels: Mapping[str, str]) -> bool:
    present = r.key in labels
    if r.operator == "In":
        return present and labels[r.key] in r.values
    if r.operator == "NotIn":
        return not present or labels[r.key] not in r.values
    if r.operator == "Exists":
        return present
    if r.operator == "DoesNotExist":
        return not present
    if not present:
        return False
    number = parse_go_int64(labels[r.key])
    if number is None or r.bound is None:
        return False
    return number > r.bound if r.operator == "Gt" else number < r.bound


def field_ok(r: FieldRequirement, node: NodeInfo) -> bool:
    actual = node.name if r.key == "metadata.name" else ""
    return (actual == r.value) == (r.operator == "In")


def term_ok(term: NodeSelectorTerm, node: NodeInfo) -> bool:
    if not term.valid:
        return False
    return all(label_ok(r, node.labels) for r in term.labels or ()) and all(
        field_ok(r, node) for r in term.fields or ()
    )


def reference_reasons(
    pod: PodInfo, nodes: Iterable[NodeInfo], pods_on: Mapping[str, list[PodInfo]], *, spill: frozenset[str]
) -> dict[str, list[str]]:
    """Each rejected node's reasons from its first failing filter, in kube-scheduler's order."""
    nodes = list(nodes)
    if pod.affinity_names_conflict:
        return {n.name: ["pod affinity terms conflict"] for n in nodes}
    if pod.has_restartable_init_container:
        reason = "Pod has a restartable init container and the SidecarContainers feature is disabled"
        return {n.name: [reason] for n in nodes}
    reasons: dict[str, list[str]] = {}
    for node in nodes:
        found = first_failure(pod, node, pods_on.get(node.name, []), spill)
        if found:
            reasons[node.name] = found
    return reasons


def first_failure(pod: PodInfo, node: NodeInfo, running: list[PodInfo], spill: frozenset[str]) -> list[str]:
    if node.unschedulable and not tolerated(pod, "node.kubernetes.io/unschedulable", "", "NoSchedule"):
        return ["node(s) were unschedulable"]
    if pod.node_name and pod.node_name != node.name:
        return ["node(s) didn't match the requested node name"]
    for taint in node.taints:
        filtered = taint.effect in ("NoSchedule", "NoExecute") and taint.key != BUSINESS_LINE
        if filtered and not tolerated(pod, taint.key, taint.value, taint.effect):
            return [f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"]
    selector_ok = all(node.labels.get(k) == v and k in node.labels for k, v in pod.node_selector)
    terms_ok = pod.required_terms is None or any(term_ok(t, node) for t in pod.required_terms)
    if not (selector_ok and terms_ok):
        return ["node(s) didn't match Pod's node affinity/selector"]
    for wanted in pod.host_ports:
        for other in running:
            for used in other.host_ports:
                same = (used.protocol, used.port) == (wanted.protocol, wanted.port)
                ips = wanted.ip == "0.0.0.0" or used.ip in ("0.0.0.0", wanted.ip)
                if same and ips:
                    return ["node(s) didn't have free ports for the requested pod ports"]
    fit = fit_reasons(pod, node, running)
    if fit:
        return fit
    pod_line = pod.labels.get(BUSINESS_LINE)
    node_line = node.labels.get(BUSINESS_LINE)
    allowed = (
        node_line is None
        if pod_line is None
        else node_line == pod_line or (node_line is None and pod_line in spill)
    )
    if not allowed:
        return ["node(s) didn't match Pod's business line"]
    return []


def fit_reasons(pod: PodInfo, node: NodeInfo, running: list[PodInfo]) -> list[str]:
    reasons = []
    if len(running) + 1 > node.allowed_pods:
        reasons.append("Too many pods")
    r = pod.requests
    if r.cpu == 0 and r.memory == 0 and r.ephemeral_storage == 0 and not r.scalars:
        return reasons
    used_cpu = sum(p.requests.cpu for p in running)
    used_memory = sum(p.requests.memory for p in running)
    used_ephemeral = sum(p.requests.ephemeral_storage for p in running)
    if r.cpu > 0 and r.cpu > node.allocatable.cpu - used_cpu:
        reasons.append("Insufficient cpu")
    if r.memory > 0 and r.memory > node.allocatable.memory - used_memory:
        reasons.append("Insufficient memory")
    if r.ephemeral_storage > 0 and r.ephemeral_storage > node.allocatable.ephemeral_storage - used_ephemeral:
        reasons.append("Insufficient ephemeral-storage")
    allocatable = dict(node.allocatable.scalars)
    for name, amount in r.scalars:
        used = sum(dict(p.requests.scalars).get(name, 0) for p in running)
        if amount != 0 and amount > allocatable.get(name, 0) - used:
            reasons.append(f"Insufficient {name}")
    return reasons


def reference_scores(
    plugin: str, pod: PodInfo, nodes: list[NodeInfo], pods_on: Mapping[str, list[PodInfo]]
) -> dict[str, int]:
    """kube-scheduler 1.28's score (after NormalizeScore) of one plugin for every node, node by node."""
    raw = {node.name: _raw_score(plugin, pod, node, pods_on.get(node.name, [])) for node in nodes}
    if plugin == "TaintToleration":
        return _default_normalize(raw, reverse=True)
    if plugin == "NodeAffinity":
        return _default_normalize(raw, reverse=False)
    return raw


def _raw_score(plugin: str, pod: PodInfo, node: NodeInfo, running: list[PodInfo]) -> int:
    if plugin == "LeastAllocated":
        total = weights = 0
        for alloc, requested in (
            (node.allocatable.cpu, sum(p.nonzero_cpu for p in running) + pod.nonzero_cpu),
            (node.allocatable.memory, sum(p.nonzero_memory for p in running) + pod.nonzero_memory),
        ):
            if alloc == 0:
                continue
            weights += 1
            total += 0 if requested > alloc else (alloc - requested) * 100 // alloc
        return total // weights if weights else 0
    if plugin == "BalancedAllocation":
        fractions = [
            min(requested / alloc, 1.0)
            for alloc, requested in (
                (node.allocatable.cpu, sum(p.requests.cpu for p in running) + pod.requests.cpu),
                (node.allocatable.memory, sum(p.requests.memory for p in running) + pod.requests.memory),
            )
            if alloc != 0
        ]
        std = abs((fractions[0] - fractions[1]) / 2) if len(fractions) == 2 else 0.0
        return int((1 - std) * 100)
    if plugin == "TaintToleration":
        preferred = [t for t in pod.tolerations if t.effect in ("", "PreferNoSchedule")]
        return sum(
            1
            for taint in node.taints
            if taint.effect == "PreferNoSchedule"
            and taint.key != BUSINESS_LINE
            and not any(t.tolerates(taint) for t in preferred)
        )
    if plugin == "NodeAffinity":
        return sum(term.weight for term in pod.preferred_terms if term_ok(term.term, node))
    raise ValueError(plugin)


def _default_normalize(raw: dict[str, int], *, reverse: bool) -> dict[str, int]:
    top = max(raw.values(), default=0)
    if top == 0:
        return dict.fromkeys(raw, 100 if reverse else 0)
    return {
        name: (100 - 100 * score // top) if reverse else 100 * score // top for name, score in raw.items()
    }
