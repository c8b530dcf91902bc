"""The bootstrap graph under Pulumi's mocks (DESIGN.md 2.2), checked as the plan reports it."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pytest
import yaml

from infra.kubeadm.bootstrap import distinct_hosts
from infra.kubeadm.scripts import extract_script
from tests.infra.stacks import Plan, bound, stack

COMMAND = "command:remote:Command"


@pytest.fixture(scope="module")
def ha() -> Plan:
    """Three control planes, three workers; the third worker listed before the last control plane."""
    raw = stack(control_planes=3, workers=3)
    nodes = raw["nodes"]
    nodes.insert(2, nodes.pop())
    return Plan(raw)


def test_every_node_is_preflighted_then_prepared(ha: Plan) -> None:
    for node in ("cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"):
        assert f"{node}-preflight" in ha.by_name[f"{node}-prepare"]["dependsOn"]
        assert ha.by_name[f"{node}-preflight"]["parent"] == "test-bootstrap"


def test_exactly_one_kubeadm_init_on_the_first_control_plane(ha: Plan) -> None:
    inits = [
        r["name"]
        for r in ha.of_type(COMMAND)
        if "kubeadm init" in (extract_script(r["inputs"]["create"]) or "")
    ]
    assert inits == ["cp-1-init"]
    assert "cp-1-prepare" in ha.by_name["cp-1-init"]["dependsOn"]


def test_each_other_node_joins_once_and_control_planes_join_as_such(ha: Plan) -> None:
    joins = {
        r["name"]
        for r in ha.of_type(COMMAND)
        if "kubeadm join" in (extract_script(r["inputs"]["create"]) or "")
    }
    assert joins == {"cp-2-join", "cp-3-join", "worker-1-join", "worker-2-join", "worker-3-join"}
    for name in joins:
        join_as = bound(ha.script(name), "JOIN_AS")
        assert join_as == ("control-plane" if name.startswith("cp-") else "worker")
        assert "--control-plane" in ha.script(name)


def test_every_join_waits_on_init_and_its_own_prepare(ha: Plan) -> None:
    for name in ("cp-2-join", "cp-3-join", "worker-1-join", "worker-2-join", "worker-3-join"):
        deps = ha.by_name[name]["dependsOn"]
        assert "cp-1-init" in deps
        assert f"{name.removesuffix('-join')}-prepare" in deps


def test_control_planes_join_one_after_another(ha: Plan) -> None:
    assert "cp-2-join" in ha.by_name["cp-3-join"]["dependsOn"]


def test_no_worker_waits_on_another_node_joining(ha: Plan) -> None:
    for worker in ("worker-1", "worker-2", "worker-3"):
        ancestors = ha.ancestors(f"{worker}-join")
        foreign = {
            a for a in ancestors if a.startswith(("worker-", "cp-2", "cp-3")) and not a.startswith(worker)
        }
        assert not foreign, f"{worker} waits on {foreign}"


def test_join_credentials_are_minted_per_node_on_the_first_control_plane_and_secret(ha: Plan) -> None:
    for node in ("cp-2", "worker-1"):
        credentials = ha.by_name[f"{node}-join-credentials"]
        assert credentials["inputs"]["connection"] == "[secret]"
        assert bound(ha.script(f"{node}-join-credentials"), "NODE_NAME") == node
        assert (
            ha.recorder.resources[[r.name for r in ha.recorder.resources].index(f"{node}-join")].inputs[
                "stdin"
            ]
            != ""
        ), "the join reads its credentials on stdin"
        assert ha.by_name[f"{node}-join"]["inputs"]["stdin"] == "[secret]"


def test_the_kubeconfig_is_read_back_as_a_secret_output(ha: Plan) -> None:
    assert ha.outputs["kubeconfig"] == {"secret": True, "value": "[secret]"}
    assert ha.outputs["apiEndpoint"] == {"secret": False, "value": "203.0.113.1:6443"}
    assert bound(ha.script("cp-1-kubeconfig"), "API_ENDPOINT") == "203.0.113.1:6443"


def test_the_kubernetes_provider_waits_for_the_cluster_and_has_a_stable_identity(ha: Plan) -> None:
    (provider,) = ha.of_type("pulumi:providers:kubernetes")
    assert provider["inputs"]["clusterIdentifier"] == "kubevps-test"
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert {"cp-1-cni", "cp-1-kubeconfig", "worker-3-join", "cp-3-join"} <= set(provider["dependsOn"])


def test_the_kubeadm_config_carries_version_subnets_endpoint_and_every_control_plane_ip(ha: Plan) -> None:
    script = ha.script("cp-1-init")
    documents = list(yaml.safe_load_all(bound(script, "KUBEADM_CONFIG")))
    cluster: dict[str, Any] = next(d for d in documents if d["kind"] == "ClusterConfiguration")
    assert cluster["kubernetesVersion"] == "v1.28.15"
    assert cluster["networking"]["podSubnet"] == "10.244.0.0/16"
    assert cluster["networking"]["serviceSubnet"] == "10.96.0.0/12"
    assert cluster["controlPlaneEndpoint"] == "203.0.113.1:6443"
    assert {"203.0.113.1", "203.0.113.2", "203.0.113.3", "10.10.0.2"} <= set(cluster["apiServer"]["certSANs"])


def test_removing_a_node_drains_then_resets_then_deregisters_it(ha: Plan) -> None:
    assert ha.by_name["worker-1-drain"]["dependsOn"] == ["worker-1-reset"]
    assert ha.by_name["worker-1-reset"]["dependsOn"] == ["worker-1-deregister"]
    assert "worker-1-join" in ha.by_name["worker-1-deregister"]["dependsOn"]
    assert re.search(r"kubectl .*drain", ha.script("worker-1-drain", "delete"))
    assert "kubeadm reset" in ha.script("worker-1-reset", "delete")


def test_teardown_is_never_forced_by_a_replacement(ha: Plan) -> None:
    for step in ("drain", "reset", "deregister"):
        inputs = ha.by_name[f"worker-2-{step}"]["inputs"]
        assert "triggers" not in inputs
        assert extract_script(inputs["create"]) is None, "create only arms the teardown"


def test_steps_on_a_machine_rerun_when_the_machine_is_replaced(ha: Plan) -> None:
    for step in ("preflight", "prepare", "join"):
        assert ha.by_name[f"worker-1-{step}"]["inputs"]["triggers"] == ["203.0.113.101"]


def test_node_labels_carry_region_and_instance_type(ha: Plan) -> None:
    labels = bound(ha.script("worker-1-prepare"), "NODE_LABELS")
    assert labels == "node.kubernetes.io/instance-type=2cpu-4gib,topology.kubernetes.io/region=lab"


def test_a_non_root_ssh_user_runs_scripts_with_sudo() -> None:
    raw = stack()
    raw["ssh"]["user"] = "ubuntu"
    plan = Plan(raw)
    assert plan.by_name["cp-1-prepare"]["inputs"]["create"].startswith("sudo -n ")


def test_labels_the_kubelet_may_not_set_are_left_to_the_api() -> None:
    raw = stack()
    raw["nodes"][1]["labels"] = {"node-role.kubernetes.io/worker": "", "team": "search"}
    labels = bound(Plan(raw).script("worker-1-prepare"), "NODE_LABELS")
    assert "team=search" in labels
    assert "node-role.kubernetes.io" not in labels


def test_machines_cloned_with_the_same_identity_are_refused() -> None:
    same = "kubevps: product_uuid=1234\nkubevps: mac=02:00:00:00:00:01\n"
    with pytest.raises(pulumi.RunError, match="nodes a, b share product_uuid 1234") as caught:
        distinct_hosts(
            {"a": same, "b": same, "c": "kubevps: product_uuid=99\nkubevps: mac=02:00:00:00:00:02\n"}
        )
    assert "share mac 02:00:00:00:00:01" in str(caught.value)


def test_distinct_machines_report_their_identities() -> None:
    facts = distinct_hosts({"a": "kubevps: product_uuid=1\nkubevps: mac=m1\n", "b": "kubevps: mac=m2\n"})
    assert facts == {"a": {"product_uuid": "1", "mac": "m1"}, "b": {"mac": "m2"}}


def test_nodes_register_with_their_taints_so_no_pod_lands_before_they_exist() -> None:
    raw = stack()
    raw["nodes"][1]["labels"] = {"kubevps.dev/business-line": "payments"}
    raw["nodes"][1]["taints"] = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    plan = Plan(raw)
    assert bound(plan.script("worker-1-prepare"), "NODE_TAINTS") == (
        "dedicated=gpu:NoSchedule,kubevps.dev/business-line=payments:NoSchedule"
    )
    assert (
        bound(plan.script("cp-1-prepare"), "NODE_TAINTS")
        == "node-role.kubernetes.io/control-plane:NoSchedule"
    )


def test_nodes_on_one_private_network_talk_over_it() -> None:
    plan = Plan(stack())
    assert bound(plan.script("worker-1-prepare"), "NODE_IP") == "10.10.0.101"


def test_nodes_on_different_networks_talk_over_their_public_addresses() -> None:
    raw = stack(control_planes=1, workers=1)
    raw["nodes"].append(
        {
            "name": "do-1",
            "role": "worker",
            "provider": "digitalocean",
            "region": "fra1",
            "size": "s-2vcpu-4gb",
        }
    )
    plan = Plan(raw)
    assert bound(plan.script("worker-1-prepare"), "NODE_IP") == "203.0.113.101"
    assert bound(plan.script("cp-1-init"), "KUBEADM_CONFIG").count("advertiseAddress: 203.0.113.1") == 1
