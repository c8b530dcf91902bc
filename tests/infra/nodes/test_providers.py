"""Each node provider under Pulumi's mocks: what it creates, how the stack's size and region map to the
provider's plan and location, and that every node exposes the same outputs to the bootstrap."""

from __future__ import annotations

from typing import Any

import pytest

from infra.catalog import HCLOUD_NETWORK, HCLOUD_SUBNET, private_network
from tests.infra.stacks import Plan, bound, stack


def _provider_stack(provider: str, region: str, plan: str) -> dict[str, Any]:
    raw = stack(control_planes=0, workers=0)
    raw["nodes"] = [
        {"name": f"cp-{i}", "role": "control-plane", "provider": provider, "region": region, "size": plan}
        for i in (1, 2, 3)
    ] + [{"name": "worker-1", "role": "worker", "provider": provider, "region": region, "size": plan}]
    return raw


@pytest.fixture(scope="module")
def hcloud() -> Plan:
    return Plan(_provider_stack("hcloud", "nbg1", "cpx31"))


@pytest.fixture(scope="module")
def digitalocean() -> Plan:
    return Plan(_provider_stack("digitalocean", "fra1", "s-4vcpu-8gb"))


@pytest.fixture(scope="module")
def existing() -> Plan:
    return Plan(stack(control_planes=1, workers=1))


def test_an_existing_host_creates_no_cloud_resources(existing: Plan) -> None:
    node = existing.by_name["worker-1"]
    assert node["type"] == "kubevps:index:ExistingNode"
    assert not [r for r in existing.resources if r["parent"] == "worker-1"]
    clouds = {"hcloud", "digitalocean"}
    assert not clouds & {r["type"].split(":")[0] for r in existing.resources}


def test_an_existing_host_is_reached_at_its_configured_address(existing: Plan) -> None:
    prepare = existing.recorder.resources[
        [r.name for r in existing.recorder.resources].index("worker-1-prepare")
    ]
    connection = prepare.inputs["connection"]
    assert connection["value"]["host"] == "203.0.113.101"
    assert connection["value"]["user"] == "root"
    assert existing.by_name["worker-1-prepare"]["inputs"]["connection"] == "[secret]"


def test_hcloud_servers_get_the_stack_plan_location_and_ssh_key(hcloud: Plan) -> None:
    servers = hcloud.of_type("hcloud:index/server:Server")
    assert [s["name"] for s in servers] == ["cp-1-server", "cp-2-server", "cp-3-server", "worker-1-server"]
    for server in servers:
        inputs = server["inputs"]
        assert (inputs["serverType"], inputs["location"], inputs["image"]) == (
            "cpx31",
            "nbg1",
            "ubuntu-22.04",
        )
        assert "test-hcloud-ssh-key" in server["dependsOn"]
    (key,) = hcloud.of_type("hcloud:index/sshKey:SshKey")
    assert key["inputs"]["publicKey"].startswith("ssh-ed25519 ")


def test_hcloud_servers_share_one_private_network(hcloud: Plan) -> None:
    (network,) = hcloud.of_type("hcloud:index/network:Network")
    (subnet,) = hcloud.of_type("hcloud:index/networkSubnet:NetworkSubnet")
    assert network["inputs"]["ipRange"] == HCLOUD_NETWORK
    assert (subnet["inputs"]["ipRange"], subnet["inputs"]["networkZone"]) == (HCLOUD_SUBNET, "eu-central")
    attachments = hcloud.of_type("hcloud:index/serverNetwork:ServerNetwork")
    assert len(attachments) == 4
    assert all("test-hcloud-subnet" in a["dependsOn"] for a in attachments)


def test_digitalocean_droplets_get_the_stack_size_region_vpc_and_ssh_key(digitalocean: Plan) -> None:
    droplets = digitalocean.of_type("digitalocean:index/droplet:Droplet")
    assert len(droplets) == 4
    for droplet in droplets:
        inputs = droplet["inputs"]
        assert (inputs["size"], inputs["region"], inputs["image"]) == (
            "s-4vcpu-8gb",
            "fra1",
            "ubuntu-22-04-x64",
        )
        assert {"test-digitalocean-ssh-key", "test-digitalocean-vpc-fra1"} <= set(droplet["dependsOn"])
    (vpc,) = digitalocean.of_type("digitalocean:index/vpc:Vpc")
    assert vpc["inputs"]["ipRange"] == private_network("digitalocean", cluster="test", region="fra1")


@pytest.mark.parametrize(
    ("fixture", "node_type"),
    [("hcloud", "kubevps:index:HcloudNode"), ("digitalocean", "kubevps:index:DigitalOceanNode")],
)
def test_provider_nodes_feed_the_bootstrap_like_any_node(
    request: pytest.FixtureRequest, fixture: str, node_type: str
) -> None:
    plan: Plan = request.getfixturevalue(fixture)
    assert plan.by_name["worker-1"]["type"] == node_type
    prepare = plan.by_name["worker-1-prepare"]
    assert prepare["inputs"]["connection"] == "[secret]"
    machine = "worker-1-server" if fixture == "hcloud" else "worker-1-droplet"
    assert machine in prepare["dependsOn"], "steps wait for the machine"
    labels = bound(plan.script("worker-1-prepare"), "NODE_LABELS")
    assert "node.kubernetes.io/instance-type=" in labels
    assert "topology.kubernetes.io/region=" in labels


def _firewall_ports(rules: list[dict[str, Any]], port_key: str) -> set[tuple[str, str]]:
    return {(r["protocol"], r.get(port_key, "")) for r in rules if r["protocol"] != "icmp"}


@pytest.mark.parametrize("role", ["control-plane", "worker"])
def test_cloud_firewalls_open_what_the_host_firewall_opens(
    hcloud: Plan, digitalocean: Plan, role: str
) -> None:
    expected = {("tcp", "22"), ("tcp", "10250"), ("udp", "4789")}
    if role == "control-plane":
        expected |= {("tcp", "6443"), ("tcp", "2379-2380")}
    (hfw,) = [r for r in hcloud.of_type("hcloud:index/firewall:Firewall") if r["name"].endswith(role)]
    (dfw,) = [
        r for r in digitalocean.of_type("digitalocean:index/firewall:Firewall") if r["name"].endswith(role)
    ]
    assert _firewall_ports(hfw["inputs"]["rules"], "port") == expected
    assert _firewall_ports(dfw["inputs"]["inboundRules"], "portRange") == expected
    node = "cp-1" if role == "control-plane" else "worker-1"
    host_ruleset = bound(hcloud.script(f"{node}-prepare"), "NFT_RULESET")
    for protocol, ports in expected:
        assert f"{protocol} dport {ports} accept" in host_ruleset


def test_etcd_is_open_only_between_control_planes(hcloud: Plan) -> None:
    (fw,) = [
        r for r in hcloud.of_type("hcloud:index/firewall:Firewall") if r["name"].endswith("control-plane")
    ]
    (etcd,) = [r for r in fw["inputs"]["rules"] if r.get("port") == "2379-2380"]
    assert len(etcd["sourceIps"]) == 6, "public and private address of each of the three control planes"


def test_cloud_firewalls_are_attached_to_their_role_only(hcloud: Plan, digitalocean: Plan) -> None:
    attachments = {r["name"]: r for r in hcloud.of_type("hcloud:index/firewallAttachment:FirewallAttachment")}
    assert len(attachments["test-hcloud-firewall-control-plane-attachment"]["inputs"]["serverIds"]) == 3
    assert len(attachments["test-hcloud-firewall-worker-attachment"]["inputs"]["serverIds"]) == 1
    (worker_fw,) = [
        r
        for r in digitalocean.of_type("digitalocean:index/firewall:Firewall")
        if r["name"].endswith("worker")
    ]
    assert len(worker_fw["inputs"]["dropletIds"]) == 1
    assert {r["protocol"] for r in worker_fw["inputs"]["outboundRules"]} == {"tcp", "udp", "icmp"}
