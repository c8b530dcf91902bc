"""The stack config contract (DESIGN.md 2.1): what is accepted, and one line per problem naming its path."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from infra import config
from infra.config import ConfigError, parse
from tests.infra.stacks import changed, existing_node, stack


def _parse(raw: dict[str, Any], secret_keys: tuple[str, ...] = ("ssh",)) -> config.StackConfig:
    return parse(raw, secret_keys=secret_keys)


def _problems(raw: dict[str, Any], secret_keys: tuple[str, ...] = ("ssh",)) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _parse(raw, secret_keys)
    return caught.value.problems


def test_a_minimal_cluster_gets_the_documented_defaults() -> None:
    raw = stack()
    del raw["kubernetesVersion"]
    del raw["ssh"]["user"]
    cfg = _parse(raw)
    assert cfg.kubernetes_version == "1.28.15"
    assert cfg.ssh.user == "root"
    assert not cfg.ssh.become_root
    assert cfg.cluster.cni == "calico"
    assert cfg.cluster.effective_mtu == 1450
    assert cfg.cluster.api_allowed_cidrs == ("0.0.0.0/0",)
    assert cfg.scheduler.name == "custom-scheduler"
    assert cfg.scheduler.image.mode == "import"
    assert cfg.first_control_plane.name == "cp-1"


def test_a_provider_plan_resolves_to_its_declared_size_and_labels() -> None:
    raw = stack()
    raw["nodes"].append(
        {
            "name": "do-1",
            "role": "worker",
            "provider": "digitalocean",
            "region": "sgp1",
            "size": "s-2vcpu-4gb",
        }
    )
    node = _parse(raw).nodes[-1]
    assert (node.declared_size.cpu, node.declared_size.memory_gib, node.declared_size.disk_gib) == (2, 4, 80)
    assert node.node_labels == {
        "node.kubernetes.io/instance-type": "s-2vcpu-4gb",
        "topology.kubernetes.io/region": "sgp1",
    }


def test_an_existing_host_may_name_its_plan_instead_of_a_size() -> None:
    raw = changed(stack(), lambda r: r["nodes"][0].update(size="cx22"))
    assert _parse(raw).nodes[0].declared_size.memory_gib == 4


def test_the_ssh_public_key_is_derived_from_the_private_key() -> None:
    assert _parse(stack()).ssh_public_key.startswith("ssh-ed25519 ")


@dataclass(frozen=True)
class Bad:
    id: str
    change: Callable[[dict[str, Any]], None]
    expected: str


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = raw
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()

BAD_CONFIGS = [
    Bad("unknown top-level key", _set("extra", 1), "kubevps:extra: unknown key"),
    Bad("unknown nested key", _set("cluster.podCidr", "10.0.0.0/8"), "kubevps:cluster.podCidr: unknown key"),
    Bad("unknown node key", _set("nodes.0.ip", "1.2.3.4"), "kubevps:nodes[0].ip: unknown key"),
    Bad(
        "too few CPUs", _set("nodes.1.size.cpu", 1), "kubevps:nodes[1].size.cpu: 1 is below the minimum of 2"
    ),
    Bad(
        "too little memory",
        _set("nodes.1.size.memoryGiB", 2),
        "kubevps:nodes[1].size.memoryGiB: 2 is below the minimum of 4",
    ),
    Bad(
        "too little disk",
        _set("nodes.0.size.diskGiB", 10),
        "kubevps:nodes[0].size.diskGiB: 10 is below the minimum of 20",
    ),
    Bad(
        "a provider plan below the minimum",
        _set("nodes.1.size", "cpx11"),
        "kubevps:nodes[1].size: plan cpx11 has memoryGiB 2, below the minimum of 4",
    ),
    Bad(
        "duplicate names",
        _set("nodes.1.name", "cp-1"),
        "kubevps:nodes[1].name: cp-1 is already used by nodes[0]",
    ),
    Bad(
        "duplicate public IPs",
        _set("nodes.1.publicIp", "203.0.113.1"),
        "kubevps:nodes[1].publicIp: 203.0.113.1 is already used by nodes[0]",
    ),
    Bad(
        "duplicate private IPs",
        _set("nodes.1.privateIp", "10.10.0.1"),
        "kubevps:nodes[1].privateIp: 10.10.0.1 is already used by nodes[0]",
    ),
    Bad(
        "an invalid IP",
        _set("nodes.1.publicIp", "203.0.113.300"),
        "kubevps:nodes[1].publicIp: '203.0.113.300' is not an IP address",
    ),
    Bad(
        "an invalid CIDR",
        _set("cluster.podSubnet", "10.244.0.1/16"),
        "kubevps:cluster.podSubnet: '10.244.0.1/16'",
    ),
    Bad(
        "an invalid allowed CIDR",
        _set("cluster.sshAllowedCidrs", ["everyone"]),
        "kubevps:cluster.sshAllowedCidrs[0]: 'everyone' is not a valid CIDR",
    ),
    Bad(
        "overlapping subnets",
        _set("cluster.serviceSubnet", "10.244.128.0/17"),
        "kubevps:cluster.serviceSubnet: 10.244.128.0/17 overlaps podSubnet 10.244.0.0/16",
    ),
    Bad(
        "a node inside the pod subnet",
        _set("nodes.1.privateIp", "10.244.3.4"),
        "kubevps:nodes[1].privateIp: 10.244.3.4 lies inside cluster.podSubnet",
    ),
    Bad(
        "no control plane",
        _set("nodes.0.role", "worker"),
        "kubevps:nodes: no node has role control-plane; at least one is required",
    ),
    Bad(
        "an even number of control planes",
        _set("nodes.1.role", "control-plane"),
        "kubevps:nodes: 2 control-plane nodes; etcd needs an odd number",
    ),
    Bad("no nodes at all", _set("nodes", []), "kubevps:nodes: empty"),
    Bad(
        "a version with a v",
        _set("kubernetesVersion", "v1.28.15"),
        "kubevps:kubernetesVersion: 'v1.28.15' is not",
    ),
    Bad(
        "a version without a patch",
        _set("kubernetesVersion", "1.28"),
        "kubevps:kubernetesVersion: '1.28' is not",
    ),
    Bad(
        "an unsupported minor",
        _set("kubernetesVersion", "1.30.2"),
        "kubevps:kubernetesVersion: 1.30 is not supported; supported minors: 1.28",
    ),
    Bad("an unknown role", _set("nodes.1.role", "etcd"), "kubevps:nodes[1].role:"),
    Bad("an unknown CNI", _set("cluster.cni", "cilium"), "kubevps:cluster.cni:"),
    Bad(
        "a node name that is not a DNS label",
        _set("nodes.1.name", "Worker_1"),
        "kubevps:nodes[1].name: 'Worker_1'",
    ),
    Bad(
        "an existing node without publicIp",
        _set("nodes.1.publicIp", _DELETE),
        "kubevps:nodes[1].publicIp: required for provider existing",
    ),
    Bad("an unknown provider", _set("nodes.1.provider", "vultr"), "kubevps:nodes[1].provider:"),
    Bad("a missing SSH key", _set("ssh.privateKey", _DELETE), "kubevps:ssh.privateKey: required"),
    Bad("a missing ssh block", _set("ssh", _DELETE), "kubevps:ssh: required"),
    Bad(
        "an SSH key that is not a key",
        _set("ssh.privateKey", "hunter2"),
        "kubevps:ssh.privateKey: is not an unencrypted OpenSSH or PEM private key",
    ),
    Bad(
        "an invalid taint effect",
        _set("nodes.1.taints", [{"key": "a", "effect": "Never"}]),
        "kubevps:nodes[1].taints[0].effect:",
    ),
    Bad(
        "a label KubeVPS owns",
        _set("nodes.1.labels", {"topology.kubernetes.io/region": "x"}),
        "kubevps:nodes[1].labels.topology.kubernetes.io/region: set by KubeVPS",
    ),
    Bad("an invalid label value", _set("nodes.1.labels", {"team": "a b"}), "kubevps:nodes[1].labels.team:"),
    Bad("an MTU below IPv6's minimum", _set("cluster.mtu", 1000), "kubevps:cluster.mtu:"),
    Bad(
        "an endpoint without a port",
        _set("cluster.controlPlaneEndpoint", "k8s.example.com"),
        "kubevps:cluster.controlPlaneEndpoint: 'k8s.example.com' is not HOST:PORT",
    ),
    Bad(
        "registry mode without credentials",
        _set("scheduler", {"image": {"mode": "registry"}}),
        "kubevps:scheduler.image.registry: required in registry mode",
    ),
    Bad(
        "a prebuilt ref outside prebuilt mode",
        _set("scheduler", {"image": {"ref": "x/y:1"}}),
        "kubevps:scheduler.image.ref: only used in prebuilt mode",
    ),
]


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=[c.id for c in BAD_CONFIGS])
def test_bad_config_is_refused_with_its_path(case: Bad) -> None:
    problems = _problems(changed(stack(control_planes=1, workers=1), case.change))
    assert any(case.expected in line for line in problems), problems
    assert all(line.startswith("kubevps:") for line in problems), problems


PROVIDER_CONFIGS = [
    Bad("an unknown hcloud plan", _set("size", "cx99"), "kubevps:nodes[2].size: unknown hcloud plan 'cx99'"),
    Bad(
        "an unknown hcloud region",
        _set("region", "mars1"),
        "kubevps:nodes[2].region: unknown hcloud region 'mars1'",
    ),
    Bad(
        "a provider node without region",
        _set("region", _DELETE),
        "kubevps:nodes[2].region: required for hcloud",
    ),
    Bad(
        "a provider node with a size object",
        _set("size", {"cpu": 2, "memoryGiB": 4, "diskGiB": 40}),
        "kubevps:nodes[2].size: provider hcloud needs a plan name",
    ),
    Bad(
        "a provider node with its own address",
        _set("publicIp", "203.0.113.50"),
        "kubevps:nodes[2].publicIp: assigned by hcloud; remove it",
    ),
]


@pytest.mark.parametrize("case", PROVIDER_CONFIGS, ids=[c.id for c in PROVIDER_CONFIGS])
def test_provider_nodes_must_name_a_real_plan_and_region(case: Bad) -> None:
    node = {"name": "h-1", "role": "worker", "provider": "hcloud", "region": "fsn1", "size": "cx22"}
    case.change(node)
    raw = stack()
    raw["nodes"].append(node)
    assert any(case.expected in line for line in _problems(raw)), _problems(raw)


def test_hcloud_nodes_must_share_one_network_zone() -> None:
    raw = stack()
    raw["nodes"] += [
        {"name": "h-1", "role": "worker", "provider": "hcloud", "region": "fsn1", "size": "cx22"},
        {"name": "h-2", "role": "worker", "provider": "hcloud", "region": "ash", "size": "cx22"},
    ]
    assert any("span network zones eu-central, us-east" in line for line in _problems(raw))


def test_a_secret_kept_in_plain_text_is_refused() -> None:
    problems = _problems(stack(), secret_keys=())
    assert problems == [
        "kubevps:ssh.privateKey: must be a secret; "
        "set it with `pulumi config set --secret --path ssh.privateKey ...`"
    ]


def test_every_problem_is_reported_at_once() -> None:
    raw = stack()
    raw["nodes"][0]["size"]["cpu"] = 1
    raw["nodes"][1]["publicIp"] = "nope"
    raw["cluster"]["cni"] = "weave"
    assert len(_problems(raw)) == 3


def test_cross_field_problems_are_all_reported() -> None:
    raw = stack(control_planes=2, workers=2)
    raw["nodes"][3]["name"] = "worker-1"
    raw["cluster"]["serviceSubnet"] = "10.240.0.0/12"
    problems = _problems(raw)
    assert [p.split(":")[1] for p in problems] == ["nodes", "nodes[3].name", "cluster.serviceSubnet"], (
        problems
    )


def test_load_raises_pulumi_run_error_with_the_same_lines() -> None:
    raw = changed(stack(), _set("nodes.1.size.cpu", 1))
    values = {f"kubevps:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    pulumi.runtime.set_all_config(values, ["kubevps:ssh"])
    with pytest.raises(pulumi.RunError) as caught:
        config.load()
    assert "kubevps:nodes[1].size.cpu: 1 is below the minimum of 2" in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_a_node_builder_default_is_valid() -> None:
    raw = stack()
    raw["nodes"].append(existing_node("extra", "worker", 200))
    assert len(_parse(raw).workers) == 2


MORE_BAD_CONFIGS = [
    Bad(
        "an IPv6 node address",
        _set("nodes.1.publicIp", "2001:db8::10"),
        "kubevps:nodes[1].publicIp: '2001:db8::10' is IPv6; KubeVPS builds IPv4 single-stack clusters",
    ),
    Bad(
        "an IPv6 pod subnet",
        _set("cluster.podSubnet", "fd00:10::/56"),
        "kubevps:cluster.podSubnet: 'fd00:10::/56' is IPv6",
    ),
    Bad(
        "a size that is not a number",
        _set("nodes.0.size.memoryGiB", float("nan")),
        "kubevps:nodes[0].size.memoryGiB:",
    ),
    Bad(
        "a null version",
        _set("kubernetesVersion", None),
        "kubevps:kubernetesVersion: Input should be a valid string",
    ),
    Bad(
        "a node named like the cluster",
        _set("nodes.1.name", "test"),
        "kubevps:nodes[1].name: test is already cluster.name; rename the node",
    ),
    Bad(
        "a node named like an add-on",
        _set("nodes.1.name", "metrics-server"),
        "kubevps:nodes[1].name: metrics-server is already the metrics-server add-on",
    ),
    Bad(
        "a scheduler named like the cluster",
        _set("scheduler", {"name": "test"}),
        "kubevps:scheduler.name: test is already cluster.name",
    ),
    Bad(
        "a lease outside kube-system",
        _set("scheduler", {"config": {"leaderElection": {"resourceNamespace": "scheduling"}}}),
        "kubevps:scheduler.config.leaderElection.resourceNamespace: 'scheduling'; the scheduler runs in",
    ),
]


@pytest.mark.parametrize("case", MORE_BAD_CONFIGS, ids=[c.id for c in MORE_BAD_CONFIGS])
def test_more_bad_config_is_refused_with_its_path(case: Bad) -> None:
    problems = _problems(changed(stack(), case.change))
    assert any(case.expected in line for line in problems), problems


@pytest.mark.parametrize(
    ("extra", "shared"),
    [
        ([], True),
        (
            [{"name": "do-1", "role": "worker", "provider": "digitalocean", "region": "fra1", "size": "c-2"}],
            False,
        ),
    ],
    ids=["existing hosts with private addresses", "existing hosts and a droplet"],
)
def test_private_addresses_are_used_only_when_every_node_shares_one_network(
    extra: list[dict[str, Any]], shared: bool
) -> None:
    raw = stack()
    raw["nodes"] += extra
    assert _parse(raw).shares_private_network is shared
