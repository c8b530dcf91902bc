"""The scheduler's ConfigMap, Deployment, PodDisruptionBudget and metrics Service, and the stack outputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from custom_scheduler.config import load_config

from infra.addons.scheduler import CONFIG_CHECKSUM_ANNOTATION, checksum, scheduler_config
from infra.config import ConfigError, SchedulerSettings, parse
from tests.infra.addons.support import STACKS, one
from tests.infra.stacks import Plan, stack

Planned = Callable[[str], Plan]


def _name(case: str) -> str:
    return str(STACKS[case]().get("scheduler", {}).get("name", "custom-scheduler"))


def _pod(plan: Plan, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = one(plan, "Deployment", name)["spec"]["template"]
    return spec


@pytest.mark.parametrize("case", sorted(STACKS))
def test_the_configmap_is_accepted_by_the_schedulers_own_loader(
    case: str, planned: Planned, tmp_path: Path
) -> None:
    name = _name(case)
    config_map = one(planned(case), "ConfigMap", f"{name}-config")
    path = tmp_path / "config.yaml"
    path.write_text(config_map["data"]["config.yaml"])

    loaded = load_config(path)

    raw = STACKS[case]().get("scheduler", {})
    assert loaded == scheduler_config(SchedulerSettings.model_validate(raw))
    assert loaded.scheduler_name == name


def test_stack_config_values_reach_the_scheduler_config(planned: Planned, tmp_path: Path) -> None:
    config_map = one(planned("flannel-non-root-one-replica"), "ConfigMap", "edge-scheduler-config")
    path = tmp_path / "config.yaml"
    path.write_text(config_map["data"]["config.yaml"])

    assert load_config(path).weights.node_load == 9


@pytest.mark.parametrize("case", sorted(STACKS))
def test_the_pod_template_carries_the_checksum_of_its_config(case: str, planned: Planned) -> None:
    plan = planned(case)
    name = _name(case)
    text = one(plan, "ConfigMap", f"{name}-config")["data"]["config.yaml"]

    assert _pod(plan, name)["metadata"]["annotations"][CONFIG_CHECKSUM_ANNOTATION] == checksum(text)


def test_a_changed_scheduler_config_changes_the_checksum_and_so_rolls_the_deployment() -> None:
    before = Plan(stack())
    after = Plan(stack(scheduler={"config": {"weights": {"NodeLoad": 7}}}))

    annotation = [
        _pod(p, "custom-scheduler")["metadata"]["annotations"][CONFIG_CHECKSUM_ANNOTATION]
        for p in (before, after)
    ]
    assert annotation[0] != annotation[1]


@pytest.mark.parametrize(
    ("scheduler", "problem"),
    [
        pytest.param(
            {"config": {"weights": {"NodeLoad": 500}}},
            "kubevps:scheduler.config.weights.NodeLoad: 500 not in valid range [0, 100]",
            id="weight-out-of-range",
        ),
        pytest.param(
            {"config": {"nodeLoad": {"maxAge": 5}}},
            "kubevps:scheduler.config.nodeLoad.maxAge: unknown key (expected one of: metricsMaxAgeSeconds)",
            id="unknown-key",
        ),
        pytest.param(
            {"config": {"schedulerName": "other"}},
            "kubevps:scheduler.config.schedulerName: 'other' differs from scheduler.name; "
            "set scheduler.name only",
            id="second-scheduler-name",
        ),
        pytest.param(
            {"replicas": 3, "config": {"leaderElection": {"leaderElect": False}}},
            "kubevps:scheduler.config.leaderElection.leaderElect: false with scheduler.replicas 3; several "
            "replicas need leader election, or they would all bind pods",
            id="replicas-without-election",
        ),
    ],
)
def test_a_bad_scheduler_config_fails_the_stack_config_with_its_path(
    scheduler: dict[str, Any], problem: str
) -> None:
    raw = stack(scheduler=scheduler)

    with pytest.raises(ConfigError) as error:
        parse(raw, secret_keys={"ssh"})

    assert problem in error.value.problems


@pytest.mark.parametrize("case", sorted(STACKS))
def test_the_deployment_runs_the_configured_replicas_with_leader_election(
    case: str, planned: Planned
) -> None:
    plan = planned(case)
    name = _name(case)
    deployment = one(plan, "Deployment", name)
    container = deployment["spec"]["template"]["spec"]["containers"][0]

    assert deployment["metadata"]["namespace"] == "kube-system"
    assert deployment["spec"]["replicas"] == STACKS[case]().get("scheduler", {}).get("replicas", 2)
    assert container["args"] == [
        "run",
        "--config",
        "/etc/custom-scheduler/config.yaml",
        "--metrics-addr",
        "0.0.0.0:10251",
    ]
    assert "--no-leader-elect" not in container["args"]
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}


def test_the_scheduler_pod_is_critical_probed_and_bounded(planned: Planned) -> None:
    pod = _pod(planned("high-availability"), "custom-scheduler")["spec"]
    container = pod["containers"][0]

    assert pod["priorityClassName"] == "system-cluster-critical"
    assert "schedulerName" not in pod  # the default scheduler places the scheduler itself
    assert pod["serviceAccountName"] == "custom-scheduler"
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert set(container["resources"]) == {"requests", "limits"}
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/etc/custom-scheduler", "/tmp"}


def test_the_scheduler_prefers_control_planes_and_spreads_without_requiring_either(planned: Planned) -> None:
    pod = _pod(planned("single-control-plane"), "custom-scheduler")["spec"]
    affinity = pod["affinity"]

    assert {
        "key": "node-role.kubernetes.io/control-plane",
        "operator": "Exists",
        "effect": "NoSchedule",
    } in pod["tolerations"]
    assert set(affinity["nodeAffinity"]) == {"preferredDuringSchedulingIgnoredDuringExecution"}
    assert set(affinity["podAntiAffinity"]) == {"preferredDuringSchedulingIgnoredDuringExecution"}
    term = affinity["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0][
        "podAffinityTerm"
    ]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert (
        term["labelSelector"]["matchLabels"].items()
        <= _pod(planned("single-control-plane"), "custom-scheduler")["metadata"]["labels"].items()
    )


@pytest.mark.parametrize("case", sorted(STACKS))
def test_the_disruption_budget_always_lets_a_node_drain(case: str, planned: Planned) -> None:
    plan = planned(case)
    name = _name(case)
    budget = one(plan, "PodDisruptionBudget", name)

    assert budget["spec"]["maxUnavailable"] == 1
    assert "minAvailable" not in budget["spec"]
    assert budget["spec"]["selector"] == one(plan, "Deployment", name)["spec"]["selector"]


def test_the_metrics_service_is_annotated_for_prometheus(planned: Planned) -> None:
    plan = planned("high-availability")
    service = one(plan, "Service", "custom-scheduler-metrics")

    assert service["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "10251",
        "prometheus.io/path": "/metrics",
    }
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 10251, "targetPort": "metrics", "protocol": "TCP"}
    ]
    assert (
        service["spec"]["selector"]
        == one(plan, "Deployment", "custom-scheduler")["spec"]["selector"]["matchLabels"]
    )


@pytest.mark.parametrize("case", sorted(STACKS))
def test_the_stack_exports_kubeconfig_endpoint_nodes_and_scheduler_image(case: str, planned: Planned) -> None:
    plan = planned(case)
    outputs = plan.outputs

    assert outputs["kubeconfig"] == {"secret": True, "value": "[secret]"}
    assert outputs["apiEndpoint"]["value"].endswith(":6443")
    assert set(outputs["nodes"]["value"]) == {n["name"] for n in STACKS[case]()["nodes"]}
    for node in outputs["nodes"]["value"].values():
        assert {"role", "publicIp", "privateIp"} <= set(node)
    assert outputs["schedulerImage"]["secret"] is False
    assert outputs["schedulerImage"]["value"] == _pod(plan, _name(case))["spec"]["containers"][0]["image"]
