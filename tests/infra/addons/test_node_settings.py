"""Node labels and taints from the stack, applied through the Kubernetes provider (DESIGN.md 3.2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.addons.node_settings import node_taints
from infra.config import NodeConfig
from tests.infra.addons.support import BUSINESS_LINE
from tests.infra.stacks import Plan, existing_node, stack

Planned = Callable[[str], Plan]
NODE_PATCH = "kubernetes:core/v1:NodePatch"
CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def _patch(plan: Plan, node: str) -> dict[str, Any]:
    inputs: dict[str, Any] = plan.by_name[f"{node}-labels"]["inputs"]
    return inputs


def test_every_node_gets_one_forced_server_side_patch(planned: Planned) -> None:
    plan = planned("business-lines")

    assert sorted(r["name"] for r in plan.of_type(NODE_PATCH)) == [
        "cp-1-labels",
        "worker-1-labels",
        "worker-2-labels",
        "worker-3-labels",
    ]
    for resource in plan.of_type(NODE_PATCH):
        metadata = resource["inputs"]["metadata"]
        assert resource["inputs"]["kind"] == "Node"
        assert f"{metadata['name']}-labels" == resource["name"]
        assert metadata["annotations"] == {"pulumi.com/patchForce": "true"}


def test_dedicated_nodes_are_labelled_and_tainted_for_their_business_line(planned: Planned) -> None:
    plan = planned("business-lines")

    for node in ("worker-2", "worker-3"):
        patch = _patch(plan, node)
        assert patch["metadata"]["labels"][BUSINESS_LINE] == "payments"
        assert {"key": BUSINESS_LINE, "value": "payments", "effect": "NoSchedule"} in patch["spec"]["taints"]


def test_configured_labels_and_taints_are_kept_beside_the_business_line(planned: Planned) -> None:
    patch = _patch(planned("business-lines"), "worker-3")

    assert patch["metadata"]["labels"] == {
        "node.kubernetes.io/instance-type": "2cpu-4gib",
        "topology.kubernetes.io/region": "lab",
        BUSINESS_LINE: "payments",
        "disk": "nvme",
    }
    assert patch["spec"]["taints"] == [
        {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
        {"key": BUSINESS_LINE, "value": "payments", "effect": "NoSchedule"},
    ]


def test_shared_workers_carry_no_taints_and_control_planes_keep_kubeadms(planned: Planned) -> None:
    plan = planned("business-lines")

    assert "spec" not in _patch(plan, "worker-1")
    assert BUSINESS_LINE not in _patch(plan, "worker-1")["metadata"]["labels"]
    assert _patch(plan, "cp-1")["spec"]["taints"] == [CONTROL_PLANE]


def test_a_label_changed_in_the_stack_changes_the_same_patch() -> None:
    def with_line(line: str) -> Plan:
        raw = stack(control_planes=1, workers=1)
        raw["nodes"][1]["labels"] = {BUSINESS_LINE: line}
        return Plan(raw)

    before, after = with_line("payments"), with_line("search")

    assert _patch(before, "worker-1")["metadata"]["labels"][BUSINESS_LINE] == "payments"
    assert _patch(after, "worker-1")["metadata"]["labels"][BUSINESS_LINE] == "search"
    assert _patch(after, "worker-1")["spec"]["taints"] == [
        {"key": BUSINESS_LINE, "value": "search", "effect": "NoSchedule"}
    ]


def test_the_business_line_key_follows_the_scheduler_config() -> None:
    raw = stack(
        control_planes=1, workers=1, scheduler={"config": {"businessLine": {"labelKey": "acme.io/team"}}}
    )
    raw["nodes"][1]["labels"] = {"acme.io/team": "search", BUSINESS_LINE: "ignored"}

    taints = _patch(Plan(raw), "worker-1")["spec"]["taints"]

    assert taints == [{"key": "acme.io/team", "value": "search", "effect": "NoSchedule"}]


def test_patches_wait_until_the_node_has_joined(planned: Planned) -> None:
    plan = planned("high-availability")

    assert "cp-1-init" in plan.ancestors("cp-1-labels")
    for node in ("cp-2", "cp-3", "worker-1", "worker-2"):
        assert f"{node}-join" in plan.ancestors(f"{node}-labels")


def _spec(role: str = "worker", **extra: Any) -> NodeConfig:
    return NodeConfig.model_validate(existing_node("n", role, 1, **extra))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(_spec(), [], id="shared-worker"),
        pytest.param(_spec("control-plane"), [CONTROL_PLANE], id="control-plane"),
        pytest.param(
            _spec(labels={BUSINESS_LINE: "ads"}),
            [{"key": BUSINESS_LINE, "value": "ads", "effect": "NoSchedule"}],
            id="dedicated",
        ),
        pytest.param(
            _spec(
                labels={BUSINESS_LINE: "ads"},
                taints=[{"key": BUSINESS_LINE, "value": "x", "effect": "NoSchedule"}],
            ),
            [{"key": BUSINESS_LINE, "value": "x", "effect": "NoSchedule"}],
            id="configured-taint-wins-same-key-and-effect",
        ),
        pytest.param(
            _spec(
                "control-plane",
                taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
            ),
            [CONTROL_PLANE],
            id="control-plane-taint-listed-once",
        ),
        pytest.param(
            _spec(taints=[{"key": "spot", "effect": "PreferNoSchedule"}]),
            [{"key": "spot", "effect": "PreferNoSchedule"}],
            id="empty-value-omitted",
        ),
    ],
)
def test_node_taints(spec: NodeConfig, expected: list[dict[str, str]]) -> None:
    assert node_taints(spec, business_line_key=BUSINESS_LINE) == expected
