"""v1 Pod and Node dicts parsed once into small frozen values: only what scheduling decisions read.

Pod requests follow kube-scheduler 1.28 (``resource.PodRequests``): the sum of the containers, raised to
the largest init-container use (restartable "sidecar" init containers add to both), plus the pod
overhead. Quantities are summed exactly and rounded once, as the Go code does. Containers with limits
but no requests get requests equal to the limits, as the API server's defaulting does before a
scheduler ever sees the pod.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final

from custom_scheduler.quantity import QuantityError, milli_value, parse_quantity, value
from custom_scheduler.validation import is_label_value, is_qualified_name, parse_go_int64

CPU: Final = "cpu"
MEMORY: Final = "memory"
EPHEMERAL_STORAGE: Final = "ephemeral-storage"
PODS: Final = "pods"
DEFAULT_MILLI_CPU_REQUEST: Final = 100
"""kube-scheduler's stand-in for a missing CPU request when spreading (``schedutil``), in millicores."""
DEFAULT_MEMORY_REQUEST: Final = 200 * 1024 * 1024
"""kube-scheduler's stand-in for a missing memory request when spreading, in bytes."""
BANDWIDTH_ANNOTATION: Final = "kubevps.dev/bandwidth-mbps"
BANDWIDTH_CAPACITY_ANNOTATION: Final = "kubevps.dev/bandwidth-capacity-mbps"
BANDWIDTH_USED_ANNOTATION: Final = "kubevps.dev/bandwidth-used-mbps"
TERMINAL_PHASES: Final = frozenset({"Succeeded", "Failed"})
LABEL_OPERATORS: Final = frozenset({"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"})
OBJECT_NAME_FIELD: Final = "metadata.name"

ResourceList = dict[str, Fraction]


class ObjectError(ValueError):
    """A Pod or Node dict is malformed; the message names the path of the bad value."""


@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass(frozen=True, slots=True)
class Toleration:
    key: str
    operator: str
    value: str
    effect: str

    def tolerates(self, taint: Taint) -> bool:
        """``Toleration.ToleratesTaint``: effect, key and value/operator must all match."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator in ("", "Equal"):
            return self.value == taint.value
        return self.operator == "Exists"


def tolerates_taint(tolerations: Iterable[Toleration], taint: Taint) -> bool:
    """Whether any toleration tolerates the taint (``TolerationsTolerateTaint``)."""
    return any(toleration.tolerates(taint) for toleration in tolerations)


@dataclass(frozen=True, slots=True)
class LabelRequirement:
    """One parsed ``matchExpressions`` entry; Gt/Lt carry their integer bound."""

    key: str
    operator: str
    values: tuple[str, ...]
    bound: int | None = None


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    """One parsed ``matchFields`` entry: ``In`` or ``NotIn`` with exactly one value."""

    key: str
    operator: str
    value: str


@dataclass(frozen=True, slots=True)
class NodeSelectorTerm:
    """A non-empty node selector term; ``valid`` is False when it failed to parse (it then matches nothing).

    ``labels``/``fields`` are None when the term has no expressions of that kind (no constraint).
    """

    labels: tuple[LabelRequirement, ...] | None
    fields: tuple[FieldRequirement, ...] | None
    valid: bool


@dataclass(frozen=True, slots=True)
class PreferredTerm:
    weight: int
    term: NodeSelectorTerm


@dataclass(frozen=True, slots=True)
class Resources:
    """Requests in scheduler units: millicores, bytes, and integer extended/hugepage amounts."""

    cpu: int = 0
    memory: int = 0
    ephemeral_storage: int = 0
    scalars: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class HostPort:
    ip: str
    protocol: str
    port: int


@dataclass(frozen=True, slots=True)
class PodInfo:
    """What the scheduler needs from a v1 Pod."""

    uid: str
    namespace: str
    name: str
    labels: Mapping[str, str]
    node_name: str
    phase: str
    priority: int
    tolerations: tuple[Toleration, ...]
    node_selector: tuple[tuple[str, str], ...]
    required_terms: tuple[NodeSelectorTerm, ...] | None
    """None without required node affinity; else the non-empty terms (empty tuple matches nothing)."""
    affinity_names_conflict: bool
    """NodeAffinity PreFilter: some required term's ``metadata.name In`` sets have an empty intersection."""
    preferred_terms: tuple[PreferredTerm, ...]
    host_ports: tuple[HostPort, ...]
    requests: Resources
    nonzero_cpu: int
    nonzero_memory: int
    estimate_cpu: int
    estimate_memory: int
    bandwidth_mbps: float
    has_restartable_init_container: bool

    @property
    def key(self) -> str:
        """``namespace/name``, as messages and simulate output name pods."""
        return f"{self.namespace}/{self.name}"

    @property
    def counts_on_node(self) -> bool:
        """Whether the pod occupies its node: bound there and not finished."""
        return bool(self.node_name) and self.phase not in TERMINAL_PHASES


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What the scheduler needs from a v1 Node."""

    name: str
    labels: Mapping[str, str]
    unschedulable: bool
    taints: tuple[Taint, ...]
    allocatable: Resources
    allowed_pods: int
    bandwidth_capacity_mbps: float | None
    bandwidth_used_mbps: float | None


def is_scalar_resource(name: str) -> bool:
    """``IsScalarResourceName``: extended, hugepages, prefixed native or attachable-volume resources."""
    return (
        name.startswith(("hugepages-", "attachable-volumes-"))
        or "kubernetes.io/" in name
        or is_extended_resource(name)
    )


def is_extended_resource(name: str) -> bool:
    """``IsExtendedResourceName``: a domain-prefixed name outside ``kubernetes.io/``."""
    if "/" not in name or "kubernetes.io/" in name or name.startswith("requests."):
        return False
    return is_qualified_name("requests." + name)


def parse_pod(obj: Mapping[str, Any]) -> PodInfo:
    """Parse a v1 Pod dict; raise ObjectError naming the bad path."""
    metadata = _mapping(obj.get("metadata"), "metadata")
    spec = _mapping(obj.get("spec"), "spec")
    status = _mapping(obj.get("status"), "status")
    name = _string(metadata.get("name"), "metadata.name", required=True)
    namespace = _string(metadata.get("namespace"), "metadata.namespace") or "default"
    containers = _containers(spec.get("containers"), "spec.containers")
    init_containers = _containers(spec.get("initContainers"), "spec.initContainers")
    overhead = _resource_list(spec.get("overhead"), "spec.overhead")
    annotations = _string_map(metadata.get("annotations"), "metadata.annotations")
    requests = _pod_requests(containers, init_containers, overhead, None)
    nonzero = _pod_requests(
        containers,
        init_containers,
        overhead,
        {CPU: Fraction(DEFAULT_MILLI_CPU_REQUEST, 1000), MEMORY: Fraction(DEFAULT_MEMORY_REQUEST)},
    )
    estimate = _estimate(containers, init_containers, overhead)
    affinity = _mapping(_mapping(spec.get("affinity"), "spec.affinity").get("nodeAffinity"), "nodeAffinity")
    path = "spec.affinity.nodeAffinity"
    return PodInfo(
        uid=_string(metadata.get("uid"), "metadata.uid") or f"{namespace}/{name}",
        namespace=namespace,
        name=name,
        labels=_string_map(metadata.get("labels"), "metadata.labels"),
        node_name=_string(spec.get("nodeName"), "spec.nodeName"),
        phase=_string(status.get("phase"), "status.phase"),
        priority=_integer(spec.get("priority"), "spec.priority"),
        tolerations=_tolerations(spec.get("tolerations")),
        node_selector=tuple(sorted(_string_map(spec.get("nodeSelector"), "spec.nodeSelector").items())),
        required_terms=_required_terms(
            affinity.get("requiredDuringSchedulingIgnoredDuringExecution"),
            f"{path}.requiredDuringSchedulingIgnoredDuringExecution",
        ),
        affinity_names_conflict=_names_conflict(
            affinity.get("requiredDuringSchedulingIgnoredDuringExecution"),
            f"{path}.requiredDuringSchedulingIgnoredDuringExecution",
        ),
        preferred_terms=_preferred_terms(
            affinity.get("preferredDuringSchedulingIgnoredDuringExecution"),
            f"{path}.preferredDuringSchedulingIgnoredDuringExecution",
        ),
        host_ports=_host_ports(containers),
        requests=_to_resources(requests),
        nonzero_cpu=milli_value(nonzero.get(CPU, Fraction(0))),
        nonzero_memory=value(nonzero.get(MEMORY, Fraction(0))),
        estimate_cpu=milli_value(estimate[CPU]),
        estimate_memory=value(estimate[MEMORY]),
        bandwidth_mbps=_annotation_number(annotations, BANDWIDTH_ANNOTATION) or 0.0,
        has_restartable_init_container=any(c.restart_always for c in init_containers),
    )


def parse_node(obj: Mapping[str, Any]) -> NodeInfo:
    """Parse a v1 Node dict; raise ObjectError naming the bad path."""
    metadata = _mapping(obj.get("metadata"), "metadata")
    spec = _mapping(obj.get("spec"), "spec")
    status = _mapping(obj.get("status"), "status")
    allocatable = _resource_list(status.get("allocatable"), "status.allocatable")
    annotations = _string_map(metadata.get("annotations"), "metadata.annotations")
    taints = []
    for index, item in enumerate(_list(spec.get("taints"), "spec.taints")):
        taint = _mapping(item, f"spec.taints[{index}]")
        taints.append(
            Taint(
                key=_string(taint.get("key"), f"spec.taints[{index}].key"),
                value=_string(taint.get("value"), f"spec.taints[{index}].value"),
                effect=_string(taint.get("effect"), f"spec.taints[{index}].effect"),
            )
        )
    return NodeInfo(
        name=_string(metadata.get("name"), "metadata.name", required=True),
        labels=_string_map(metadata.get("labels"), "metadata.labels"),
        unschedulable=bool(spec.get("unschedulable", False)),
        taints=tuple(taints),
        allocatable=_to_resources(allocatable),
        allowed_pods=value(allocatable[PODS]) if PODS in allocatable else 0,
        bandwidth_capacity_mbps=_annotation_number(annotations, BANDWIDTH_CAPACITY_ANNOTATION),
        bandwidth_used_mbps=_annotation_number(annotations, BANDWIDTH_USED_ANNOTATION),
    )


@dataclass(frozen=True, slots=True)
class _Container:
    requests: ResourceList
    limits: ResourceList
    restart_always: bool
    ports: tuple[HostPort, ...]


def _containers(raw: object, path: str) -> list[_Container]:
    containers = []
    for index, item in enumerate(_list(raw, path)):
        here = f"{path}[{index}]"
        container = _mapping(item, here)
        resources = _mapping(container.get("resources"), f"{here}.resources")
        requests = _resource_list(resources.get("requests"), f"{here}.resources.requests")
        limits = _resource_list(resources.get("limits"), f"{here}.resources.limits")
        defaulted = {**limits, **requests}  # API defaulting: a limit without a request is also the request
        ports = []
        for port_index, raw_port in enumerate(_list(container.get("ports"), f"{here}.ports")):
            port_path = f"{here}.ports[{port_index}]"
            port = _mapping(raw_port, port_path)
            host_port = _integer(port.get("hostPort"), f"{port_path}.hostPort")
            if host_port > 0:
                ports.append(
                    HostPort(
                        ip=_string(port.get("hostIP"), f"{port_path}.hostIP") or "0.0.0.0",
                        protocol=_string(port.get("protocol"), f"{port_path}.protocol") or "TCP",
                        port=host_port,
                    )
                )
        containers.append(
            _Container(
                requests=defaulted,
                limits=limits,
                restart_always=container.get("restartPolicy") == "Always",
                ports=tuple(ports),
            )
        )
    return containers


def _pod_requests(
    containers: list[_Container],
    init_containers: list[_Container],
    overhead: ResourceList,
    non_missing: ResourceList | None,
) -> ResourceList:
    def container_requests(container: _Container) -> ResourceList:
        if non_missing is None:
            return container.requests
        return {**non_missing, **container.requests}

    total: ResourceList = {}
    for container in containers:
        _add(total, container_requests(container))
    sidecars: ResourceList = {}
    init_max: ResourceList = {}
    for container in init_containers:
        requests = container_requests(container)
        if container.restart_always:
            _add(total, requests)
            _add(sidecars, requests)
            use = dict(sidecars)
        else:
            use = dict(requests)
            _add(use, sidecars)
        for name, amount in use.items():
            init_max[name] = max(init_max.get(name, amount), amount)
    for name, amount in init_max.items():
        total[name] = max(total.get(name, amount), amount)
    _add(total, overhead)
    return total


def _estimate(
    containers: list[_Container], init_containers: list[_Container], overhead: ResourceList
) -> ResourceList:
    """NodeLoad's guess of what a pod will really use: limits, else requests, else the spreading defaults."""
    defaults = {CPU: Fraction(DEFAULT_MILLI_CPU_REQUEST, 1000), MEMORY: Fraction(DEFAULT_MEMORY_REQUEST)}
    total = {CPU: overhead.get(CPU, Fraction(0)), MEMORY: overhead.get(MEMORY, Fraction(0))}
    running = containers + [c for c in init_containers if c.restart_always]
    for container in running:
        for name, default in defaults.items():
            total[name] += container.limits.get(name, container.requests.get(name, default))
    return total


def _add(total: ResourceList, extra: Mapping[str, Fraction]) -> None:
    for name, amount in extra.items():
        total[name] = total.get(name, Fraction(0)) + amount


def _to_resources(resources: ResourceList) -> Resources:
    scalars = tuple(
        sorted((name, value(amount)) for name, amount in resources.items() if is_scalar_resource(name))
    )
    return Resources(
        cpu=milli_value(resources.get(CPU, Fraction(0))),
        memory=value(resources.get(MEMORY, Fraction(0))),
        ephemeral_storage=value(resources.get(EPHEMERAL_STORAGE, Fraction(0))),
        scalars=scalars,
    )


def _tolerations(raw: object) -> tuple[Toleration, ...]:
    tolerations = []
    for index, item in enumerate(_list(raw, "spec.tolerations")):
        here = f"spec.tolerations[{index}]"
        toleration = _mapping(item, here)
        tolerations.append(
            Toleration(
                key=_string(toleration.get("key"), f"{here}.key"),
                operator=_string(toleration.get("operator"), f"{here}.operator"),
                value=_string(toleration.get("value"), f"{here}.value"),
                effect=_string(toleration.get("effect"), f"{here}.effect"),
            )
        )
    return tuple(tolerations)


def _required_terms(raw: object, path: str) -> tuple[NodeSelectorTerm, ...] | None:
    if raw is None:
        return None
    selector = _mapping(raw, path)
    terms = []
    for index, item in enumerate(_list(selector.get("nodeSelectorTerms"), f"{path}.nodeSelectorTerms")):
        term = _selector_term(item, f"{path}.nodeSelectorTerms[{index}]")
        if term is not None:
            terms.append(term)
    return tuple(terms)


def _names_conflict(raw: object, path: str) -> bool:
    """kube-scheduler's NodeAffinity PreFilter over the raw terms: each term allows the intersection of its
    ``metadata.name In`` sets, the terms together their union; a term without such a requirement allows
    every node. The pod conflicts when that union is empty."""
    if raw is None:
        return False
    terms = _list(_mapping(raw, path).get("nodeSelectorTerms"), f"{path}.nodeSelectorTerms")
    allowed: set[str] = set()
    for index, item in enumerate(terms):
        names: set[str] | None = None
        here = f"{path}.nodeSelectorTerms[{index}]"
        for field in _list(_mapping(item, here).get("matchFields"), f"{here}.matchFields"):
            requirement = _mapping(field, f"{here}.matchFields")
            if requirement.get("key") == OBJECT_NAME_FIELD and requirement.get("operator") == "In":
                values = {str(v) for v in _list(requirement.get("values"), f"{here}.matchFields.values")}
                names = values if names is None else names & values
        if names is None:
            return False
        allowed |= names
    return bool(terms) and not allowed


def _preferred_terms(raw: object, path: str) -> tuple[PreferredTerm, ...]:
    terms = []
    for index, item in enumerate(_list(raw, path)):
        preferred = _mapping(item, f"{path}[{index}]")
        weight = _integer(preferred.get("weight"), f"{path}[{index}].weight")
        if not 0 <= weight <= 100:
            # The API server only accepts 1..100 (0 is tolerated here: kube-scheduler ignores such terms).
            raise ObjectError(f"{path}[{index}].weight: {weight} is not in 1..100")
        term = _selector_term(preferred.get("preference"), f"{path}[{index}].preference")
        if weight != 0 and term is not None:
            terms.append(PreferredTerm(weight=weight, term=term))
    return tuple(terms)


def _selector_term(raw: object, path: str) -> NodeSelectorTerm | None:
    """Parse a term the way ``newNodeSelectorTerm`` does; None for an empty term (dropped by callers)."""
    term = _mapping(raw, path)
    expressions = _list(term.get("matchExpressions"), f"{path}.matchExpressions")
    fields = _list(term.get("matchFields"), f"{path}.matchFields")
    if not expressions and not fields:
        return None
    valid = True
    labels: list[LabelRequirement] = []
    for index, item in enumerate(expressions):
        requirement = _label_requirement(_mapping(item, f"{path}.matchExpressions[{index}]"))
        valid = valid and requirement is not None
        if requirement is not None:
            labels.append(requirement)
    field_requirements: list[FieldRequirement] = []
    for index, item in enumerate(fields):
        field = _mapping(item, f"{path}.matchFields[{index}]")
        values = [str(v) for v in _list(field.get("values"), f"{path}.matchFields[{index}].values")]
        operator = str(field.get("operator", ""))
        if operator in ("In", "NotIn") and len(values) == 1:
            field_requirements.append(FieldRequirement(str(field.get("key", "")), operator, values[0]))
        else:
            valid = False
    return NodeSelectorTerm(
        labels=tuple(labels) if expressions else None,
        fields=tuple(field_requirements) if fields else None,
        valid=valid,
    )


def _label_requirement(expression: Mapping[str, Any]) -> LabelRequirement | None:
    """``labels.NewRequirement``: None where apimachinery reports a parse error."""
    key = str(expression.get("key", ""))
    operator = str(expression.get("operator", ""))
    raw_values = expression.get("values") or []
    values = tuple(str(v) for v in raw_values) if isinstance(raw_values, list) else ()
    bound = None
    ok = operator in LABEL_OPERATORS and is_qualified_name(key) and all(is_label_value(v) for v in values)
    if operator in ("In", "NotIn"):
        ok = ok and len(values) > 0
    elif operator in ("Exists", "DoesNotExist"):
        ok = ok and not values
    elif operator in ("Gt", "Lt"):
        bounds = [parse_go_int64(v) for v in values]
        ok = ok and len(values) == 1 and bounds[0] is not None
        bound = bounds[0] if bounds else None
    return LabelRequirement(key, operator, values, bound) if ok else None


def _host_ports(containers: list[_Container]) -> tuple[HostPort, ...]:
    return tuple(port for container in containers for port in container.ports)


def _resource_list(raw: object, path: str) -> ResourceList:
    resources = _mapping(raw, path)
    parsed = {}
    for name, amount in resources.items():
        try:
            parsed[str(name)] = parse_quantity(amount)
        except QuantityError as error:
            raise ObjectError(f"{path}.{name}: {error}") from None
    return parsed


def _annotation_number(annotations: Mapping[str, str], key: str) -> float | None:
    text = annotations.get(key)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ObjectError(f"metadata.annotations[{key}]: {text!r} is not a number") from None
    return number if number >= 0 else None


def _mapping(raw: object, path: str) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ObjectError(f"{path}: expected a mapping, got {type(raw).__name__}")
    return raw


def _list(raw: object, path: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ObjectError(f"{path}: expected a list, got {type(raw).__name__}")
    return raw


def _string(raw: object, path: str, *, required: bool = False) -> str:
    if raw is None or raw == "":
        if required:
            raise ObjectError(f"{path}: required")
        return ""
    if not isinstance(raw, str):
        raise ObjectError(f"{path}: expected a string, got {type(raw).__name__}")
    return raw


def _string_map(raw: object, path: str) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in _mapping(raw, path).items()}


def _integer(raw: object, path: str) -> int:
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ObjectError(f"{path}: expected an integer, got {raw!r}")
    return raw
