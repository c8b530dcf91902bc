"""Every object the program applies, as the offline plan writes it: valid for Kubernetes 1.28 (strict
schema), Pod Security "restricted" for the pods, and metrics-server always present."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from infra.addons import metrics_server
from infra.plan import ROOT, main
from tests.infra.addons.pod_security import violations
from tests.infra.addons.support import STACKS, manifests, one
from tests.infra.stacks import Plan

Planned = Callable[[str], Plan]


@pytest.mark.parametrize("case", sorted(STACKS))
def test_every_manifest_in_the_plan_validates_strictly_against_kubernetes_1_28(
    case: str, planned: Planned, tmp_path: Path
) -> None:
    written = manifests(planned(case), tmp_path)

    assert written, "the plan wrote no manifests"
    for name, manifest in written.items():
        try:
            kubernetes_validate.validate(manifest, "1.28.0", strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"manifests/{name}.yaml: {error.message} at {list(error.path)}")


@pytest.mark.parametrize("stack_file", sorted((ROOT / "stacks").glob("Pulumi.*.yaml")), ids=lambda p: p.stem)
def test_every_manifest_of_every_example_stack_validates_strictly(stack_file: Path, tmp_path: Path) -> None:
    stack_name = stack_file.stem.removeprefix("Pulumi.")
    assert main(["--stack", stack_name, "--out", str(tmp_path)]) == 0

    for path in sorted((tmp_path / "manifests").glob("*.yaml")):
        try:
            kubernetes_validate.validate(yaml.safe_load(path.read_text()), "1.28.0", strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{stack_name}: manifests/{path.name}: {error.message} at {list(error.path)}")


@pytest.mark.parametrize("case", sorted(STACKS))
def test_each_kubernetes_resource_is_written_as_one_manifest(
    case: str, planned: Planned, tmp_path: Path
) -> None:
    plan = planned(case)
    kube = [r["name"] for r in plan.resources if r["type"].startswith("kubernetes:")]

    assert sorted(manifests(plan, tmp_path)) == sorted(kube)


@pytest.mark.parametrize("case", sorted(STACKS))
@pytest.mark.parametrize(("kind", "name"), [("Deployment", "scheduler"), ("Deployment", "metrics-server")])
def test_pods_pass_pod_security_restricted(case: str, kind: str, name: str, planned: Planned) -> None:
    plan = planned(case)
    scheduler_name = STACKS[case]().get("scheduler", {}).get("name", "custom-scheduler")
    deployment = one(plan, kind, scheduler_name if name == "scheduler" else name)
    template = deployment["spec"]["template"]

    assert violations(template["spec"], template["metadata"].get("annotations")) == []


@pytest.mark.parametrize("case", sorted(STACKS))
def test_the_scheduler_has_a_read_only_root_filesystem(case: str, planned: Planned) -> None:
    scheduler_name = STACKS[case]().get("scheduler", {}).get("name", "custom-scheduler")
    pod = one(planned(case), "Deployment", scheduler_name)["spec"]["template"]["spec"]

    for container in pod["containers"]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


def _restricted_pod() -> dict[str, Any]:
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "app",
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }


def _pod_with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    pod = _restricted_pod()
    change(pod)
    return pod


def _container(pod: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = pod["containers"][0]["securityContext"]
    return container


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        pytest.param(_restricted_pod(), [], id="compliant"),
        pytest.param(_pod_with(lambda p: p.update(hostNetwork=True)), ["host namespaces"], id="host-network"),
        pytest.param(_pod_with(lambda p: p.update(hostPID=True)), ["host namespaces"], id="host-pid"),
        pytest.param(
            _pod_with(lambda p: p["volumes"].append({"name": "h", "hostPath": {"path": "/"}})),
            ["hostPath volume", "volume type not allowed"],
            id="host-path",
        ),
        pytest.param(
            _pod_with(lambda p: _container(p).update(privileged=True)), ["privileged"], id="privileged"
        ),
        pytest.param(
            _pod_with(lambda p: _container(p).update(allowPrivilegeEscalation=True)),
            ["allowPrivilegeEscalation"],
            id="privilege-escalation",
        ),
        pytest.param(
            _pod_with(lambda p: _container(p).pop("allowPrivilegeEscalation")),
            ["allowPrivilegeEscalation"],
            id="privilege-escalation-unset",
        ),
        pytest.param(
            _pod_with(lambda p: p["securityContext"].pop("runAsNonRoot")),
            ["runAsNonRoot"],
            id="may-run-as-root",
        ),
        pytest.param(
            _pod_with(lambda p: _container(p).update(runAsNonRoot=False)),
            ["runAsNonRoot"],
            id="container-overrides-non-root",
        ),
        pytest.param(_pod_with(lambda p: _container(p).update(runAsUser=0)), ["runAsUser=0"], id="uid-0"),
        pytest.param(
            _pod_with(lambda p: p["securityContext"].pop("seccompProfile")),
            ["seccompProfile"],
            id="no-seccomp",
        ),
        pytest.param(
            _pod_with(lambda p: _container(p).update(seccompProfile={"type": "Unconfined"})),
            ["seccompProfile Unconfined", "seccompProfile not RuntimeDefault"],
            id="unconfined",
        ),
        pytest.param(
            _pod_with(lambda p: _container(p).update(capabilities={"drop": ["NET_RAW"]})),
            ["capabilities must drop ALL"],
            id="keeps-capabilities",
        ),
        pytest.param(
            _pod_with(lambda p: _container(p).update(capabilities={"drop": ["ALL"], "add": ["CHOWN"]})),
            ["capabilities may only add NET_BIND_SERVICE"],
            id="adds-chown",
        ),
        pytest.param(
            _pod_with(
                lambda p: _container(p).update(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})
            ),
            [],
            id="adds-net-bind-service",
        ),
        pytest.param(
            _pod_with(lambda p: p["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 80}])),
            ["hostPort"],
            id="host-port",
        ),
    ],
)
def test_the_restricted_checker_finds_each_broken_rule(pod: dict[str, Any], expected: list[str]) -> None:
    found = violations(copy.deepcopy(pod))

    assert sorted(line.split(":")[0] for line in found) == sorted(
        next(line.split(":")[0] for line in found if line.startswith(prefix)) for prefix in expected
    )
    assert len(found) == len(expected)


@pytest.mark.parametrize("case", sorted(STACKS))
def test_metrics_server_is_deployed_from_the_pinned_upstream_objects(case: str, planned: Planned) -> None:
    plan = planned(case)
    applied = {
        (r["inputs"]["kind"], r["inputs"]["metadata"]["name"])
        for r in plan.resources
        if r["type"].startswith("kubernetes:") and r["parent"] == "metrics-server"
    }
    deployment = one(plan, "Deployment", "metrics-server")
    container = deployment["spec"]["template"]["spec"]["containers"][0]

    assert applied == {
        ("ServiceAccount", "metrics-server"),
        ("ClusterRole", "system:aggregated-metrics-reader"),
        ("ClusterRole", "system:metrics-server"),
        ("RoleBinding", "metrics-server-auth-reader"),
        ("ClusterRoleBinding", "metrics-server:system:auth-delegator"),
        ("ClusterRoleBinding", "system:metrics-server"),
        ("Service", "metrics-server"),
        ("Deployment", "metrics-server"),
        ("APIService", "v1beta1.metrics.k8s.io"),
    }
    assert container["image"] == "registry.k8s.io/metrics-server/metrics-server:v0.7.2"
    assert "--kubelet-insecure-tls" in container["args"]
    assert {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"} in (
        deployment["spec"]["template"]["spec"]["tolerations"]
    )
    assert "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname" in container["args"]
    assert one(plan, "RoleBinding", "metrics-server-auth-reader")["roleRef"]["name"] == (
        "extension-apiserver-authentication-reader"
    )
    assert container["image"] == metrics_server.IMAGE
