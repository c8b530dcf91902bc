"""Builders and readers for the add-on tests: stacks of every shape, and the manifests a plan writes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from infra.plan import write_plan
from tests.infra.stacks import Plan, stack

BUSINESS_LINE = "kubevps.dev/business-line"
REGISTRY_PASSWORD = "registry-password-never-in-a-plan"


def business_line_stack() -> dict[str, Any]:
    """One control plane, a shared worker and two workers dedicated to the payments line (one tainted)."""
    raw = stack(control_planes=1, workers=3)
    raw["nodes"][2]["labels"] = {BUSINESS_LINE: "payments"}
    raw["nodes"][3]["labels"] = {BUSINESS_LINE: "payments", "disk": "nvme"}
    raw["nodes"][3]["taints"] = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    return raw


def registry_stack() -> dict[str, Any]:
    return stack(
        scheduler={
            "image": {
                "mode": "registry",
                "registry": "ghcr.io/acme",
                "username": "acme",
                "password": REGISTRY_PASSWORD,
            }
        }
    )


PREBUILT_REF = "ghcr.io/acme/custom-scheduler:1.0.0@sha256:" + "ab" * 32


def prebuilt_stack() -> dict[str, Any]:
    return stack(scheduler={"image": {"mode": "prebuilt", "ref": PREBUILT_REF}})


def plan_of(raw: dict[str, Any]) -> Plan:
    """The plan; the scheduler block is secret whenever it carries a registry password."""
    secret = ("ssh", "scheduler") if "password" in raw.get("scheduler", {}).get("image", {}) else ("ssh",)
    return Plan(copy.deepcopy(raw), secret_keys=secret)


STACKS: dict[str, Any] = {
    "single-control-plane": lambda: stack(control_planes=1, workers=0),
    "high-availability": lambda: stack(control_planes=3, workers=2),
    "business-lines": business_line_stack,
    "flannel-non-root-one-replica": lambda: stack(
        cluster={"name": "edge", "cni": "flannel"},
        ssh={"user": "ops", "privateKey": stack()["ssh"]["privateKey"]},
        scheduler={"name": "edge-scheduler", "replicas": 1, "config": {"weights": {"NodeLoad": 9}}},
    ),
    "registry-image": registry_stack,
    "prebuilt-image": prebuilt_stack,
}
"""Stacks of every shape the add-ons handle, by case id."""


def manifests(plan: Plan, out: Path) -> dict[str, dict[str, Any]]:
    """The manifests/ files the offline plan writes, by file name (the resource name)."""
    write_plan(plan.recorder, out)
    return {
        path.stem: yaml.safe_load(path.read_text()) for path in sorted((out / "manifests").glob("*.yaml"))
    }


def of_kind(plan: Plan, kind: str) -> list[dict[str, Any]]:
    """The inputs (the manifest) of every Kubernetes resource of ``kind``."""
    return [
        r["inputs"]
        for r in plan.resources
        if r["type"].startswith("kubernetes:") and r["inputs"]["kind"] == kind
    ]


def one(plan: Plan, kind: str, name: str) -> dict[str, Any]:
    found = [m for m in of_kind(plan, kind) if m["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]
