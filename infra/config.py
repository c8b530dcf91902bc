"""The typed stack config (DESIGN.md 2.1): the only reader of ``pulumi.Config`` in the program.

Raw config values are validated in two passes: pydantic checks the shape and each value, then
``_cross_checks`` checks the rules that span fields (quorum, uniqueness, overlaps, provider catalogs).
Every problem becomes one line naming its config path, e.g.
``kubevps:nodes[2].size.memoryGiB: 2 is below the minimum of 4``; ``ConfigError`` carries them all.
Components receive the frozen ``StackConfig`` and never read config themselves.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from custom_scheduler.config import parse_config as parse_scheduler_config
from custom_scheduler.errors import ConfigError as SchedulerConfigError
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

from infra.catalog import CATALOGS, Size, find_plan, private_network

NAMESPACE: Final = "kubevps"
SUPPORTED_MINORS: Final = (28,)
"""Kubernetes minors whose pkgs.k8s.io repository and kubeadm v1beta3 config this program supports."""
DEFAULT_KUBERNETES_VERSION: Final = "1.28.15"
MIN_SIZE: Final = Size(cpu=2, memory_gib=4, disk_gib=20)
DEFAULT_MTU: Final = {"calico": 1450, "flannel": 1450}
"""Both CNIs run VXLAN here: 50 bytes of overhead below the usual 1500-byte VPS interface MTU."""

REGION_LABEL: Final = "topology.kubernetes.io/region"
INSTANCE_TYPE_LABEL: Final = "node.kubernetes.io/instance-type"
RESERVED_LABELS: Final = (REGION_LABEL, INSTANCE_TYPE_LABEL)
LEASE_NAMESPACE: Final = "kube-system"
CONTROL_PLANE_TAINT_KEY: Final = "node-role.kubernetes.io/control-plane"
METRICS_SERVER: Final = "metrics-server"
"""The name of the metrics-server add-on's resources, which no node or scheduler may take."""

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_VERSION = re.compile(r"^1\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_UNIX_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


class ConfigError(Exception):
    """The stack config is invalid; ``problems`` holds one line per problem, each naming its path."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


# -- value checks -------------------------------------------------------------------------------------


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(f"{value!r} is not a DNS-1123 label (a-z, 0-9 and '-', at most 63 characters)")
    return value


def _label_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        raise ValueError(f"label key {key!r} has an invalid prefix")
    if not _LABEL_NAME.match(name):
        raise ValueError(f"label key {key!r} is not a valid label name")
    return key


def _label_value(value: str) -> str:
    if not _LABEL_VALUE.match(value):
        raise ValueError(f"{value!r} is not a valid label value (at most 63 letters, digits, '-', '_', '.')")
    return value


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address") from None


def _ipv4(value: str) -> str:
    address = _ip(value)
    if ipaddress.ip_address(address).version != 4:
        raise ValueError(f"{value!r} is IPv6; KubeVPS builds IPv4 single-stack clusters")
    return address


def _ipv4_cidr(value: str) -> str:
    network = _cidr(value)
    if ipaddress.ip_network(network).version != 4:
        raise ValueError(f"{value!r} is IPv6; KubeVPS builds IPv4 single-stack clusters")
    return network


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR ({exc})") from None


def _version(value: str) -> str:
    match = _VERSION.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a version of the form 1.MINOR.PATCH (like 1.28.15, no 'v')")
    minor = int(match.group(1))
    if minor not in SUPPORTED_MINORS:
        supported = ", ".join(f"1.{m}" for m in SUPPORTED_MINORS)
        raise ValueError(f"1.{minor} is not supported; supported minors: {supported}")
    return value


def _endpoint(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not HOST:PORT (for example k8s.example.com:6443)")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _DNS_SUBDOMAIN.match(host) or len(host) > 253:
            raise ValueError(f"{host!r} is neither an IP address nor a DNS name") from None
    return value


def _private_key(value: SecretStr) -> SecretStr:
    text = value.get_secret_value()
    if not text.strip():
        raise ValueError("is empty; set it: pulumi config set --secret --path ssh.privateKey < KEY_FILE")
    public_key_of(text)
    return value


def public_key_of(private_key: str) -> str:
    """The OpenSSH public key of an unencrypted OpenSSH or PEM private key (ValueError if unreadable)."""
    data = private_key.encode()
    try:
        key = (
            serialization.load_ssh_private_key(data, password=None)
            if b"OPENSSH PRIVATE KEY" in data
            else serialization.load_pem_private_key(data, password=None)
        )
    except (ValueError, TypeError):
        raise ValueError(
            "is not an unencrypted OpenSSH or PEM private key (passphrase-protected keys are not supported)"
        ) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("must be an ed25519, RSA or ECDSA key")
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return public.decode()


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
IpAddress = Annotated[str, AfterValidator(_ipv4)]
Cidr = Annotated[str, AfterValidator(_cidr)]
Ipv4Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]


# -- the models -----------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
    )


class SizeSpec(_Model):
    """Declared size of an existing host."""

    cpu: int
    memory_gib: float = Field(alias="memoryGiB", allow_inf_nan=False)
    disk_gib: int = Field(alias="diskGiB")

    @field_validator("cpu")
    @classmethod
    def _min_cpu(cls, v: int) -> int:
        return _at_least(v, MIN_SIZE.cpu)

    @field_validator("memory_gib")
    @classmethod
    def _min_memory(cls, v: float) -> float:
        return _at_least(v, MIN_SIZE.memory_gib)

    @field_validator("disk_gib")
    @classmethod
    def _min_disk(cls, v: int) -> int:
        return _at_least(v, MIN_SIZE.disk_gib)


_N = TypeVar("_N", int, float)


def _at_least(value: _N, minimum: _N) -> _N:
    if value < minimum:
        raise ValueError(f"{_num(value)} is below the minimum of {_num(minimum)}")
    return value


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class Taint(_Model):
    """A node taint, as in the Kubernetes API."""

    key: Annotated[str, AfterValidator(_label_key)]
    value: Annotated[str, AfterValidator(_label_value)] = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class NodeConfig(_Model):
    """One machine of the cluster."""

    name: DnsLabel
    role: Literal["control-plane", "worker"]
    provider: Literal["existing", "hcloud", "digitalocean"] = "existing"
    region: Annotated[str, AfterValidator(_label_value)] | None = None
    size: Annotated[
        Annotated[SizeSpec, Tag("spec")] | Annotated[str, Tag("plan")],
        Discriminator(lambda v: "spec" if isinstance(v, Mapping | SizeSpec) else "plan"),
    ]
    public_ip: IpAddress | None = None
    private_ip: IpAddress | None = None
    labels: dict[Annotated[str, AfterValidator(_label_key)], Annotated[str, AfterValidator(_label_value)]] = (
        Field(default_factory=dict)
    )
    taints: tuple[Taint, ...] = ()

    @property
    def declared_size(self) -> Size:
        """The size the node is declared to have (a plan resolved through the catalog)."""
        if isinstance(self.size, SizeSpec):
            return Size(self.size.cpu, self.size.memory_gib, self.size.disk_gib)
        found = find_plan(self.size)
        if found is None:  # excluded by validation
            raise LookupError(self.size)
        return found[1]

    @property
    def instance_type(self) -> str:
        """Value of the node.kubernetes.io/instance-type label."""
        if isinstance(self.size, str):
            return self.size
        size = self.size
        return f"{size.cpu}cpu-{_num(size.memory_gib)}gib"

    @property
    def is_control_plane(self) -> bool:
        return self.role == "control-plane"

    def taints_with(self, business_line_key: str) -> tuple[Taint, ...]:
        """Every taint the node carries: its configured ones, the business-line taint of a dedicated node
        (DESIGN.md 3.2: keeps the default scheduler off it) and, on control planes, kubeadm's; one per
        (key, effect), configured ones first."""
        taints = list(self.taints)
        line = self.node_labels.get(business_line_key)
        if line is not None:
            taints.append(Taint(key=business_line_key, value=line, effect="NoSchedule"))
        if self.is_control_plane:
            taints.append(Taint(key=CONTROL_PLANE_TAINT_KEY, effect="NoSchedule"))
        unique: dict[tuple[str, str], Taint] = {}
        for taint in taints:
            unique.setdefault((taint.key, taint.effect), taint)
        return tuple(unique.values())

    @property
    def private_network(self) -> str | None:
        """Which private network the node sits on: the provider's (per region for DigitalOcean VPCs),
        the stack's own for existing hosts with a privateIp, None without one."""
        if self.provider == "digitalocean":
            return f"digitalocean/{self.region}"
        if self.provider == "hcloud":
            return "hcloud"
        return "existing" if self.private_ip else None

    @property
    def node_labels(self) -> dict[str, str]:
        """Labels the node carries: the region and instance type, then the stack's own labels."""
        labels = {INSTANCE_TYPE_LABEL: self.instance_type}
        if self.region:
            labels[REGION_LABEL] = self.region
        return labels | self.labels


class ClusterConfig(_Model):
    """Cluster-wide network and access settings."""

    name: DnsLabel
    pod_subnet: Ipv4Cidr = "10.244.0.0/16"
    service_subnet: Ipv4Cidr = "10.96.0.0/12"
    cni: Literal["calico", "flannel"] = "calico"
    mtu: int | None = Field(default=None, ge=1280, le=9000)
    control_plane_endpoint: Annotated[str, AfterValidator(_endpoint)] | None = None
    api_allowed_cidrs: tuple[Cidr, ...] = ("0.0.0.0/0",)
    ssh_allowed_cidrs: tuple[Cidr, ...] = ("0.0.0.0/0",)

    @property
    def effective_mtu(self) -> int:
        return self.mtu if self.mtu is not None else DEFAULT_MTU[self.cni]


class SshConfig(_Model):
    """How Pulumi reaches the hosts."""

    user: str = "root"
    private_key: Annotated[SecretStr, AfterValidator(_private_key)]

    @field_validator("user")
    @classmethod
    def _user(cls, v: str) -> str:
        if not _UNIX_USER.match(v):
            raise ValueError(f"{v!r} is not a valid user name")
        return v

    @property
    def become_root(self) -> bool:
        """Whether scripts need sudo (non-root users need passwordless sudo)."""
        return self.user != "root"


class ImageConfig(_Model):
    """Where the scheduler image comes from (see README, "Choosing an image mode")."""

    mode: Literal["import", "registry", "prebuilt"] = "import"
    registry: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    ref: str | None = None


class SchedulerSettings(_Model):
    """The custom scheduler's deployment settings."""

    name: DnsLabel = "custom-scheduler"
    replicas: int = Field(default=2, ge=1, le=5)
    image: ImageConfig = Field(default_factory=ImageConfig)
    config: dict[str, Any] = Field(default_factory=dict)


class StackConfig(_Model):
    """Everything under the ``kubevps:`` namespace of a stack."""

    kubernetes_version: Annotated[str, AfterValidator(_version)] = DEFAULT_KUBERNETES_VERSION
    cluster: ClusterConfig
    ssh: SshConfig
    nodes: tuple[NodeConfig, ...]
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)

    @property
    def control_planes(self) -> tuple[NodeConfig, ...]:
        return tuple(n for n in self.nodes if n.is_control_plane)

    @property
    def workers(self) -> tuple[NodeConfig, ...]:
        return tuple(n for n in self.nodes if not n.is_control_plane)

    @property
    def shares_private_network(self) -> bool:
        """Whether every node sits on one private network, so cluster traffic can use private addresses.

        Otherwise (nodes across providers, DigitalOcean regions, or without private addresses) node IPs
        and API advertise addresses are the public ones, which every node can reach.
        """
        networks = {n.private_network for n in self.nodes}
        return len(networks) == 1 and None not in networks

    @property
    def first_control_plane(self) -> NodeConfig:
        """The node that runs ``kubeadm init``: the first control plane in the list."""
        return self.control_planes[0]

    @property
    def ssh_public_key(self) -> str:
        """The public half of the SSH key, registered with the providers that create machines."""
        return public_key_of(self.ssh.private_key.get_secret_value())


# -- parsing ------------------------------------------------------------------------------------------


SECRET_PATHS: Final = (("ssh", "privateKey"), ("scheduler", "image", "password"))
"""Config values that must be Pulumi secrets (`pulumi config set --secret --path ...`)."""


def parse(raw: Mapping[str, Any], *, secret_keys: Collection[str]) -> StackConfig:
    """Validate raw config values (keys without the namespace) into a ``StackConfig`` or raise ConfigError.

    ``secret_keys`` names the top-level keys the engine holds as secrets; a secret value kept in plain
    text in the stack file is refused, so it never reaches state or logs unencrypted.
    """
    problems: list[str] = []
    config: StackConfig | None = None
    try:
        config = StackConfig.model_validate(dict(raw))
    except ValidationError as exc:
        problems += [_problem(err) for err in exc.errors()]
    problems += [*_plain_secrets(raw, secret_keys), *_cross_checks(_Parts.of(raw))]
    problems += _check_scheduler_config(raw.get("scheduler", {}))
    if problems or config is None:
        raise ConfigError(problems)
    return config


def _plain_secrets(raw: Mapping[str, Any], secret_keys: Collection[str]) -> Iterable[str]:
    for top, *rest in SECRET_PATHS:
        value: Any = raw.get(top)
        for part in rest:
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None and top not in secret_keys:
            path = ".".join((top, *rest))
            yield (
                f"{NAMESPACE}:{path}: must be a secret; set it with "
                f"`pulumi config set --secret --path {path} ...`"
            )


def load() -> StackConfig:
    """Read and validate the ``kubevps:`` config of the running stack (``pulumi.RunError`` if invalid)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw: dict[str, Any] = {}
    secret_keys: set[str] = set()
    env_secret_keys = set(runtime_config.get_config_secret_keys_env())
    for full_key in sorted(k for k in keys if k.startswith(f"{NAMESPACE}:")):
        key = full_key.removeprefix(f"{NAMESPACE}:")
        raw[key] = _decode(runtime_config.get_config(full_key))
        if runtime_config.is_config_secret(full_key) or full_key in env_secret_keys:
            secret_keys.add(key)
    try:
        return parse(raw, secret_keys=secret_keys)
    except ConfigError as exc:
        raise pulumi.RunError("invalid stack config:\n" + "\n".join(exc.problems)) from None


def _decode(value: Any) -> Any:
    """Structured config values reach the program as JSON text (a null as ``null``); strings stay as is."""
    if value == "null":
        return None
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _path(loc: Iterable[int | str]) -> str:
    path = NAMESPACE + ":"
    first = True
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in {"spec", "plan"} or part.startswith(("function-", "literal[")):
            continue  # pydantic names the union member it tried; not part of the user's path
        else:
            path += part if first else f".{part}"
        first = False
    return path


def _problem(err: Mapping[str, Any]) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        message = "unknown key"
    elif kind == "missing":
        message = "required"
    elif kind == "value_error":
        message = str(err["ctx"]["error"])
    else:
        message = str(err["msg"])
    if loc[-1:] == ("plan",) and kind == "string_type":
        message = "must be {cpu, memoryGiB, diskGiB} or a provider plan name"
    return f"{_path(loc)}: {message}"


@dataclass(frozen=True)
class _Parts:
    """The parts of a config that validated on their own: cross-field rules run on these even when some
    other part is invalid, so one run reports every problem."""

    nodes: list[tuple[int, NodeConfig]]
    roles: list[object] | None
    """The role of every listed node, as written (None when ``nodes`` is not a list)."""
    cluster: ClusterConfig | None
    image: ImageConfig | None
    scheduler_name: str | None

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> _Parts:
        raw_nodes = raw.get("nodes")
        nodes = [
            (i, node)
            for i, item in enumerate(raw_nodes if isinstance(raw_nodes, list) else [])
            if (node := _valid(NodeConfig, item)) is not None
        ]
        scheduler = _valid(SchedulerSettings, raw.get("scheduler", {}))
        return cls(
            nodes=nodes,
            roles=[i.get("role") if isinstance(i, Mapping) else None for i in raw_nodes]
            if isinstance(raw_nodes, list)
            else None,
            cluster=_valid(ClusterConfig, raw.get("cluster")),
            image=scheduler.image if scheduler else None,
            scheduler_name=scheduler.name if scheduler else None,
        )


_M = TypeVar("_M", bound=BaseModel)


def _valid(model: type[_M], value: Any) -> _M | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _cross_checks(parts: _Parts) -> Iterable[str]:
    if parts.roles is not None:
        yield from _check_quorum(parts.roles)
    yield from _check_unique(parts.nodes)
    if parts.cluster is not None:
        yield from _check_subnets(parts.cluster, parts.nodes)
    for index, node in parts.nodes:
        yield from _check_node(index, node)
    yield from _check_network_zones([n for _, n in parts.nodes])
    yield from _check_names(parts)
    if parts.image is not None:
        yield from _check_image(parts.image)


def _check_names(parts: _Parts) -> Iterable[str]:
    """Nodes, the cluster and the add-ons name Pulumi resources; two of them must not share a name."""
    taken = {METRICS_SERVER: "the metrics-server add-on"}
    if parts.cluster is not None:
        taken[parts.cluster.name] = "cluster.name"
    if parts.scheduler_name is not None:
        name = parts.scheduler_name
        if name in taken:
            yield f"{NAMESPACE}:scheduler.name: {name} is already {taken[name]}"
        taken.setdefault(name, "scheduler.name")
    for index, node in parts.nodes:
        if node.name in taken:
            yield f"{_node_path(index, 'name')}: {node.name} is already {taken[node.name]}; rename the node"


def _check_quorum(roles: Sequence[object]) -> Iterable[str]:
    count = roles.count("control-plane")
    if not roles:
        yield f"{NAMESPACE}:nodes: empty; list at least one control-plane node"
    elif count == 0:
        yield f"{NAMESPACE}:nodes: no node has role control-plane; at least one is required"
    elif count % 2 == 0:
        yield (
            f"{NAMESPACE}:nodes: {count} control-plane nodes; etcd needs an odd number (1, 3 or 5) "
            "to keep quorum"
        )


def _check_unique(nodes: Sequence[tuple[int, NodeConfig]]) -> Iterable[str]:
    for field in ("name", "public_ip", "private_ip"):
        seen: dict[str, int] = {}
        for index, node in nodes:
            value = getattr(node, field)
            if value is None:
                continue
            if value in seen:
                yield f"{_node_path(index, field)}: {value} is already used by nodes[{seen[value]}]"
            else:
                seen[value] = index


def _check_subnets(cluster: ClusterConfig, nodes: Sequence[tuple[int, NodeConfig]]) -> Iterable[str]:
    pods = ipaddress.ip_network(cluster.pod_subnet)
    services = ipaddress.ip_network(cluster.service_subnet)
    if pods.overlaps(services):
        yield (
            f"{NAMESPACE}:cluster.serviceSubnet: {services} overlaps podSubnet {pods}; "
            "choose disjoint ranges (defaults: 10.244.0.0/16 and 10.96.0.0/12)"
        )
    networks = {
        (n.provider, n.region): ipaddress.ip_network(
            private_network(n.provider, cluster=cluster.name, region=n.region)
        )
        for _, n in nodes
        if n.provider != "existing" and n.region
    }
    for (provider, region), network in sorted(networks.items()):
        for subnet_name, subnet in (("podSubnet", pods), ("serviceSubnet", services)):
            if network.overlaps(subnet):
                yield (
                    f"{NAMESPACE}:cluster.{subnet_name}: {subnet} overlaps {network}, the {provider} "
                    f"private network KubeVPS creates in {region}; choose another range"
                )
    for index, node in nodes:
        for field in ("public_ip", "private_ip"):
            value = getattr(node, field)
            if value is None:
                continue
            address = ipaddress.ip_address(value)
            for subnet_name, subnet in (("podSubnet", pods), ("serviceSubnet", services)):
                if address.version == subnet.version and address in subnet:
                    yield f"{_node_path(index, field)}: {value} lies inside cluster.{subnet_name}"


def _check_node(index: int, node: NodeConfig) -> Iterable[str]:
    path = f"{NAMESPACE}:nodes[{index}]"
    if node.provider == "existing":
        if node.public_ip is None:
            yield f"{path}.publicIp: required for provider existing (the address Pulumi reaches over SSH)"
        if isinstance(node.size, str):
            found = find_plan(node.size)
            if found is None:
                yield f"{path}.size: unknown plan {node.size!r}; give {{cpu, memoryGiB, diskGiB}} instead"
            else:
                yield from _check_plan_size(f"{path}.size", node.size, found[1])
    else:
        catalog = CATALOGS[node.provider]
        for field in ("public_ip", "private_ip"):
            if getattr(node, field) is not None:
                yield f"{path}.{to_camel(field)}: assigned by {node.provider}; remove it"
        if not isinstance(node.size, str):
            yield f"{path}.size: provider {node.provider} needs a plan name, one of {_choices(catalog.plans)}"
        elif node.size not in catalog.plans:
            yield f"{path}.size: unknown {node.provider} plan {node.size!r}; one of {_choices(catalog.plans)}"
        else:
            yield from _check_plan_size(f"{path}.size", node.size, catalog.plans[node.size])
        if node.region is None:
            yield f"{path}.region: required for {node.provider}; one of {_choices(catalog.locations)}"
        elif node.region not in catalog.locations:
            yield (
                f"{path}.region: unknown {node.provider} region {node.region!r}; "
                f"one of {_choices(catalog.locations)}"
            )
    for key in node.labels:
        if key in RESERVED_LABELS:
            yield f"{path}.labels.{key}: set by KubeVPS from the node's region and size; remove it"


def _check_plan_size(path: str, plan: str, size: Size) -> Iterable[str]:
    for label, value, minimum in (
        ("cpu", size.cpu, MIN_SIZE.cpu),
        ("memoryGiB", size.memory_gib, MIN_SIZE.memory_gib),
        ("diskGiB", size.disk_gib, MIN_SIZE.disk_gib),
    ):
        if value < minimum:
            yield f"{path}: plan {plan} has {label} {_num(value)}, below the minimum of {_num(minimum)}"


def _check_network_zones(nodes: Sequence[NodeConfig]) -> Iterable[str]:
    zones = {
        CATALOGS["hcloud"].locations[n.region].network_zone
        for n in nodes
        if n.provider == "hcloud" and n.region in CATALOGS["hcloud"].locations
    }
    if len(zones) > 1:
        yield (
            f"{NAMESPACE}:nodes: hcloud nodes span network zones {', '.join(sorted(zones))}; "
            "one private network cannot span zones — use one stack per region"
        )


_IMAGE_FIELDS_BY_MODE: Final[dict[str, tuple[str, ...]]] = {
    "import": (),
    "registry": ("registry", "username", "password"),
    "prebuilt": ("ref",),
}


def _check_image(image: ImageConfig) -> Iterable[str]:
    path = f"{NAMESPACE}:scheduler.image"
    needed = _IMAGE_FIELDS_BY_MODE[image.mode]
    for field in ("registry", "username", "password", "ref"):
        is_set = getattr(image, field) is not None
        if field in needed and not is_set:
            yield f"{path}.{field}: required in {image.mode} mode"
        elif field not in needed and is_set:
            yield f"{path}.{field}: only used in {'prebuilt' if field == 'ref' else 'registry'} mode"


_SCHEDULER_CONFIG_PATH: Final = f"{NAMESPACE}:scheduler.config"
_CONFIG_KEY_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_.\[\]]*$")


def _check_scheduler_config(raw: Any) -> list[str]:
    """``scheduler.config`` through the scheduler's own config model (the one its loader uses), with
    ``schedulerName`` taken from ``scheduler.name``; and leader election where replicas need it."""
    settings = _valid(SchedulerSettings, raw)
    if settings is None:
        return []  # reported by the shape checks
    path = _SCHEDULER_CONFIG_PATH
    problems = []
    name = settings.config.get("schedulerName", settings.name)
    if name != settings.name:
        problems.append(
            f"{path}.schedulerName: {name!r} differs from scheduler.name; set scheduler.name only"
        )
    try:
        parsed = parse_scheduler_config({**settings.config, "schedulerName": settings.name}, source=path)
    except SchedulerConfigError as exc:
        for line in exc.problems:
            detail = line.removeprefix(f"{path}: ")
            key, sep, message = detail.partition(": ")
            problems.append(
                f"{path}.{key}: {message}" if sep and _CONFIG_KEY_PATH.match(key) else f"{path}: {detail}"
            )
        return problems
    namespace = parsed.leader_election.resource_namespace
    if namespace != LEASE_NAMESPACE:
        problems.append(
            f"{path}.leaderElection.resourceNamespace: {namespace!r}; the scheduler runs in "
            f"{LEASE_NAMESPACE} and keeps its lease there"
        )
    if settings.replicas > 1 and not parsed.leader_election.leader_elect:
        problems.append(
            f"{path}.leaderElection.leaderElect: false with scheduler.replicas {settings.replicas}; "
            "several replicas need leader election, or they would all bind pods"
        )
    return problems


def _node_path(index: int, field: str) -> str:
    return f"{NAMESPACE}:nodes[{index}].{to_camel(field)}"


def _choices(names: Iterable[str]) -> str:
    return ", ".join(itertools.islice(sorted(names), 20))
