"""Render the kubeadm configuration file that `init.sh` feeds to `kubeadm init --config`.

Pure: values in, YAML text out, no Pulumi and no I/O, so the output is golden-tested. The API is
`kubeadm.k8s.io/v1beta3`, the one kubeadm 1.28 reads; in v1beta3 `kubeletExtraArgs` is a map (v1beta4,
from 1.31 on, turned it into a list of name/value pairs).

The file holds no secret: the bootstrap token is left for kubeadm to generate (with a short TTL, since
KubeVPS mints a fresh token for every join and never uses this one), and certificates are not uploaded
(other control planes receive the shared PKI from `join-credentials.sh`).

There is no KubeProxyConfiguration document: kubeadm's defaults (iptables mode, clusterCIDR taken from
the pod subnet) are what KubeVPS wants. Without `nodeRegistration.taints`, kubeadm taints the control
plane NoSchedule as usual.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import yaml

KUBEADM_API_VERSION: Final = "kubeadm.k8s.io/v1beta3"
CRI_SOCKET: Final = "unix:///var/run/containerd/containerd.sock"
API_SERVER_PORT: Final = 6443
DNS_DOMAIN: Final = "cluster.local"
# The token `kubeadm init` creates is never used to join (join-credentials.sh mints one per join), so it
# lives only long enough to cover a slow init.
INIT_TOKEN_TTL: Final = "15m0s"

# Labels in the kubernetes.io / k8s.io namespaces that the kubelet accepts in --node-labels; any other key
# there (node-role.kubernetes.io/... included) makes the kubelet refuse to start.
_KUBELET_SETTABLE_LABELS: Final = frozenset(
    {
        "kubernetes.io/hostname",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone",
    }
)
_KUBELET_SETTABLE_NAMESPACES: Final = ("kubelet.kubernetes.io", "node.kubernetes.io")

_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_HOSTNAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")


def render_init_configuration(
    *,
    cluster_name: str,
    kubernetes_version: str,
    control_plane_endpoint: str,
    cert_sans: Sequence[str],
    pod_subnet: str,
    service_subnet: str,
    node_name: str,
    node_ip: str,
    advertise_address: str,
    node_labels: Mapping[str, str],
) -> str:
    """Return the multi-document YAML for `kubeadm init --config` on the first control plane.

    Documents, in order: InitConfiguration, ClusterConfiguration, KubeletConfiguration. Keys keep a fixed
    order and `cert_sans` keeps the caller's order (duplicates dropped), so equal inputs give equal text.

    Raises:
        ValueError: one line per invalid input, naming the argument, the value and what was expected.
    """
    problems = [
        *_check(
            _DNS_LABEL.fullmatch(cluster_name) is not None and len(cluster_name) <= 63,
            f"cluster_name {cluster_name!r} is not a DNS-1123 label (lowercase letters, digits, '-')",
        ),
        *_check(
            _VERSION.fullmatch(kubernetes_version) is not None,
            f"kubernetes_version {kubernetes_version!r} is not MAJOR.MINOR.PATCH (e.g. 1.28.15, no 'v')",
        ),
        *_endpoint_problems(control_plane_endpoint),
        *_cert_san_problems(cert_sans),
        *_subnet_problems(pod_subnet, service_subnet),
        *_check(
            _DNS_SUBDOMAIN.fullmatch(node_name) is not None and len(node_name) <= 253,
            f"node_name {node_name!r} is not a DNS-1123 subdomain (lowercase letters, digits, '-', '.')",
        ),
        *_ip_problems("node_ip", node_ip),
        *_ip_problems("advertise_address", advertise_address),
        *_label_problems(node_labels),
    ]
    if problems:
        raise ValueError("invalid kubeadm init configuration:\n" + "\n".join(problems))

    kubelet_extra_args = {"node-ip": node_ip}
    if node_labels:
        kubelet_extra_args["node-labels"] = _join_labels(node_labels)

    init_configuration: dict[str, Any] = {
        "apiVersion": KUBEADM_API_VERSION,
        "kind": "InitConfiguration",
        "bootstrapTokens": [
            {
                "ttl": INIT_TOKEN_TTL,
                "usages": ["signing", "authentication"],
                "groups": ["system:bootstrappers:kubeadm:default-node-token"],
            }
        ],
        "localAPIEndpoint": {"advertiseAddress": advertise_address, "bindPort": API_SERVER_PORT},
        "nodeRegistration": {
            "name": node_name,
            "criSocket": CRI_SOCKET,
            "kubeletExtraArgs": kubelet_extra_args,
        },
    }
    cluster_configuration: dict[str, Any] = {
        "apiVersion": KUBEADM_API_VERSION,
        "kind": "ClusterConfiguration",
        "kubernetesVersion": f"v{kubernetes_version}",
        "clusterName": cluster_name,
        "controlPlaneEndpoint": control_plane_endpoint,
        "apiServer": {"certSANs": list(dict.fromkeys(cert_sans))},
        "networking": {"dnsDomain": DNS_DOMAIN, "podSubnet": pod_subnet, "serviceSubnet": service_subnet},
    }
    kubelet_configuration: dict[str, Any] = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        # containerd is configured with SystemdCgroup = true (prepare.sh); both must agree.
        "cgroupDriver": "systemd",
    }
    documents = [init_configuration, cluster_configuration, kubelet_configuration]
    return yaml.safe_dump_all(documents, sort_keys=False, explicit_start=True, default_flow_style=False)


def format_node_labels(node_labels: Mapping[str, str]) -> str:
    """The kubelet `--node-labels` value (prepare.sh's NODE_LABELS): `k=v` pairs sorted by key, joined by ','.

    Raises:
        ValueError: a key or value is not a valid label, or the key is in a `kubernetes.io`/`k8s.io`
            namespace the kubelet refuses to set on itself (it would then fail to start).
    """
    problems = _label_problems(node_labels)
    if problems:
        raise ValueError("invalid node labels:\n" + "\n".join(problems))
    return _join_labels(node_labels)


def _join_labels(node_labels: Mapping[str, str]) -> str:
    return ",".join(f"{key}={node_labels[key]}" for key in sorted(node_labels))


def _check(ok: bool, problem: str) -> list[str]:
    return [] if ok else [problem]


def _endpoint_problems(endpoint: str) -> list[str]:
    host, sep, port = endpoint.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    valid_host = _is_ip(host) or (_HOSTNAME.fullmatch(host) is not None and len(host) <= 253)
    valid_port = port.isdigit() and 1 <= int(port) <= 65535
    return _check(
        bool(sep) and valid_host and valid_port,
        f"control_plane_endpoint {endpoint!r} is not HOST:PORT (a DNS name or IP, then a port 1-65535)",
    )


def _cert_san_problems(cert_sans: Sequence[str]) -> list[str]:
    if isinstance(cert_sans, str):
        return [f"cert_sans must be a sequence of names, not the string {cert_sans!r}"]
    return [
        f"cert_sans[{index}] {san!r} is neither an IP address nor a DNS name"
        for index, san in enumerate(cert_sans)
        if not (_is_ip(san) or (_HOSTNAME.fullmatch(san) is not None and len(san) <= 253))
    ]


def _subnet_problems(pod_subnet: str, service_subnet: str) -> list[str]:
    networks: dict[str, ipaddress.IPv4Network | ipaddress.IPv6Network] = {}
    problems = []
    for name, value in (("pod_subnet", pod_subnet), ("service_subnet", service_subnet)):
        try:
            networks[name] = ipaddress.ip_network(value, strict=True)
        except ValueError as error:
            problems.append(f"{name} {value!r} is not a network in CIDR notation ({error})")
    if len(networks) == 2 and networks["pod_subnet"].overlaps(networks["service_subnet"]):
        problems.append(f"pod_subnet {pod_subnet} and service_subnet {service_subnet} overlap")
    return problems


def _ip_problems(name: str, value: str) -> list[str]:
    return _check(_is_ip(value), f"{name} {value!r} is not an IP address")


def kubelet_settable(node_labels: Mapping[str, str]) -> dict[str, str]:
    """The labels a kubelet may set on its own node; the others are applied through the API instead."""
    return {k: v for k, v in node_labels.items() if not _is_restricted_for_kubelet(k.rpartition("/")[0], k)}


def _label_problems(node_labels: Mapping[str, str]) -> list[str]:
    problems = []
    for key, value in node_labels.items():
        prefix, _, name = key.rpartition("/")
        valid_prefix = not prefix or (_DNS_SUBDOMAIN.fullmatch(prefix) is not None and len(prefix) <= 253)
        if not (valid_prefix and _LABEL_NAME.fullmatch(name) and len(name) <= 63):
            problems.append(f"node_labels key {key!r} is not a valid label key ([prefix/]name)")
        elif _is_restricted_for_kubelet(prefix, key):
            problems.append(
                f"node_labels key {key!r} is in a kubernetes.io/k8s.io namespace the kubelet may not set on "
                "its own node; use another prefix (e.g. kubevps.dev/) or node.kubernetes.io/"
            )
        if not (_LABEL_VALUE.fullmatch(value) and len(value) <= 63):
            problems.append(f"node_labels[{key!r}] value {value!r} is not a valid label value")
    return problems


def _is_restricted_for_kubelet(prefix: str, key: str) -> bool:
    """Mirror of the kubelet's --node-labels rule (k8s.io/kubelet/pkg/apis/well_known_labels.go)."""
    if key in _KUBELET_SETTABLE_LABELS:
        return False
    namespace = prefix.lower()
    in_kubernetes = any(namespace == ns or namespace.endswith("." + ns) for ns in ("kubernetes.io", "k8s.io"))
    allowed = any(namespace == ns or namespace.endswith("." + ns) for ns in _KUBELET_SETTABLE_NAMESPACES)
    return in_kubernetes and not allowed


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
