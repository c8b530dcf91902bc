"""NodeResourcesFit: requests against allocatable minus requested (kube-scheduler 1.28 fit_test cases).

Nodes here mirror kube's ``makeAllocatableResources(10, 20, 32, 5, 20, 5)``: 10 millicores, 20 bytes of
memory, 32 pods, 5 ``example.com/aaa``, 20 bytes of ephemeral storage and 5 ``hugepages-2Mi``; existing
use comes from one running pod.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from custom_scheduler.plugins import node_resources_fit
from custom_scheduler.plugins.node_resources_fit import (
    ERR_REASON_SIDECAR,
    ERR_REASON_TOO_MANY_PODS,
    insufficient,
)

from tests.scheduler.builders import make_node, make_pod
from tests.scheduler.engine.harness import run_filter

EXTENDED_A = "example.com/aaa"
EXTENDED_B = "example.com/bbb"
KUBE_RESOURCE = "kubernetes.io/something"
HUGEPAGES = "hugepages-2Mi"


def res(cpu: int = 0, memory: int = 0, **scalars: int) -> dict[str, str]:
    """Requests in kube's test units: cpu in millicores, memory in bytes."""
    resources = {"cpu": f"{cpu}m", "memory": str(memory)}
    resources.update({_NAMES.get(k, k): str(v) for k, v in scalars.items()})
    return resources


_NAMES = {
    "a": EXTENDED_A,
    "b": EXTENDED_B,
    "kube": KUBE_RESOURCE,
    "huge": HUGEPAGES,
    "eph": "ephemeral-storage",
}


@dataclass(frozen=True)
class Case:
    name: str
    containers: list[dict[str, str]]
    used: dict[str, str] = field(default_factory=dict)
    init: list[dict[str, str]] = field(default_factory=list)
    overhead: dict[str, str] = field(default_factory=dict)
    pods: int = 32
    want: list[str] | None = None


CASES = [
    Case("no resources requested always fits", [{}], res(10, 20)),
    Case(
        "too many resources fails",
        [res(1, 1)],
        res(10, 20),
        want=[insufficient("cpu"), insufficient("memory")],
    ),
    Case(
        "too many resources fails due to init container cpu",
        [res(1, 1)],
        res(8, 19),
        init=[res(3, 1)],
        want=[insufficient("cpu")],
    ),
    Case(
        "too many resources fails due to highest init container cpu",
        [res(1, 1)],
        res(8, 19),
        init=[res(3, 1), res(2, 1)],
        want=[insufficient("cpu")],
    ),
    Case(
        "too many resources fails due to init container memory",
        [res(1, 1)],
        res(9, 19),
        init=[res(1, 3)],
        want=[insufficient("memory")],
    ),
    Case(
        "too many resources fails due to highest init container memory",
        [res(1, 1)],
        res(9, 19),
        init=[res(1, 3), res(1, 2)],
        want=[insufficient("memory")],
    ),
    Case(
        "init container fits because it's the max, not sum, of containers and init containers",
        [res(1, 1)],
        res(9, 19),
        init=[res(1, 1)],
    ),
    Case(
        "multiple init containers fit because it's the max, not sum",
        [res(1, 1)],
        res(9, 19),
        init=[res(1, 1), res(1, 1)],
    ),
    Case("both resources fit", [res(1, 1)], res(5, 5)),
    Case("one resource memory fits", [res(2, 1)], res(9, 5), want=[insufficient("cpu")]),
    Case("one resource cpu fits", [res(1, 2)], res(5, 19), want=[insufficient("memory")]),
    Case("equal edge case", [res(5, 1)], res(5, 19)),
    Case("equal edge case for init container", [res(4, 1)], res(5, 19), init=[res(5, 1)]),
    Case("extended resource fits", [res(a=1)], res(0, 0)),
    Case("extended resource fits for init container", [{}], res(0, 0), init=[res(a=1)]),
    Case("extended resource capacity enforced", [res(a=10)], res(0, 0), want=[insufficient(EXTENDED_A)]),
    Case(
        "extended resource capacity enforced for init container",
        [{}],
        res(0, 0),
        init=[res(a=10)],
        want=[insufficient(EXTENDED_A)],
    ),
    Case(
        "extended resource allocatable enforced", [res(a=1)], res(0, 0, a=5), want=[insufficient(EXTENDED_A)]
    ),
    Case(
        "extended resource allocatable enforced for multiple containers",
        [res(a=3), res(a=3)],
        res(0, 0, a=2),
        want=[insufficient(EXTENDED_A)],
    ),
    Case(
        "extended resource allocatable admits multiple init containers",
        [{}],
        res(0, 0, a=2),
        init=[res(a=3), res(a=3)],
    ),
    Case(
        "extended resource unknown to the node fails", [res(b=1)], res(0, 0), want=[insufficient(EXTENDED_B)]
    ),
    Case(
        "kubernetes.io resource capacity enforced",
        [res(kube=10)],
        res(0, 0),
        want=[insufficient(KUBE_RESOURCE)],
    ),
    Case("hugepages resource capacity enforced", [res(huge=10)], res(0, 0), want=[insufficient(HUGEPAGES)]),
    Case(
        "hugepages resource allocatable enforced for multiple containers",
        [res(huge=3), res(huge=3)],
        res(0, 0, huge=2),
        want=[insufficient(HUGEPAGES)],
    ),
    Case("resources + pod overhead fits", [res(1, 1)], res(5, 5), overhead={"cpu": "3m", "memory": "13"}),
    Case(
        "requests + overhead does not fit for memory",
        [res(1, 1)],
        res(5, 5),
        overhead={"cpu": "1m", "memory": "15"},
        want=[insufficient("memory")],
    ),
    Case("a zero extended-resource request is skipped", [res(1, 1, b=0)], res(0, 0)),
    Case(
        "ephemeral local storage request exceeds allocatable",
        [res(eph=25)],
        res(0, 0),
        want=[insufficient("ephemeral-storage")],
    ),
    Case("ephemeral local storage is sufficient", [res(eph=10)], res(0, 0, eph=10)),
    Case("pod does not request ephemeral local storage", [res(1, 1)], res(0, 0, eph=20)),
    Case(
        "even without requests a pod fails when there's no space for another pod",
        [{}],
        res(10, 20),
        pods=1,
        want=[ERR_REASON_TOO_MANY_PODS],
    ),
    Case(
        "even if both resources fit, a pod fails when there's no space for another pod",
        [res(1, 1)],
        res(5, 5),
        pods=1,
        want=[ERR_REASON_TOO_MANY_PODS],
    ),
    Case(
        "too many pods is reported before the insufficient resources",
        [res(5, 5)],
        res(9, 19),
        pods=1,
        want=[ERR_REASON_TOO_MANY_PODS, insufficient("cpu"), insufficient("memory")],
    ),
]


def node_with_one_running_pod(pods: int, used: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    node = make_node("node1").alloc(
        {"cpu": "10m", "memory": "20", "pods": pods, EXTENDED_A: 5, "ephemeral-storage": "20", HUGEPAGES: 5}
    )
    running = make_pod("existing").container(used).node("node1").obj()
    return node.obj(), [running]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_filter(case: Case) -> None:
    node, running = node_with_one_running_pod(case.pods, case.used)
    pod = make_pod()
    for requests in case.containers:
        pod.container(requests)
    for requests in case.init:
        pod.init_container(requests)
    if case.overhead:
        pod.overhead(**case.overhead)
    result = run_filter(node_resources_fit.NAME, pod.obj(), [node], running)
    assert result.reasons.get("node1") == case.want


def test_restartable_init_containers_are_rejected_up_front() -> None:
    pod = make_pod().req(cpu="1m").init_container(res(1, 1), sidecar=True).obj()
    node, running = node_with_one_running_pod(32, {})
    result = run_filter(node_resources_fit.NAME, pod, [node], running)
    assert result.reasons == {"node1": [ERR_REASON_SIDECAR]}
    assert result.message == f"0/1 nodes are available: {ERR_REASON_SIDECAR}."
    assert result.unresolvable


def test_limits_without_requests_count_as_requests() -> None:
    pod = make_pod().container(limits={"cpu": "11m"}).obj()
    node, running = node_with_one_running_pod(32, {})
    assert run_filter(node_resources_fit.NAME, pod, [node], running).reasons == {
        "node1": [insufficient("cpu")]
    }


def test_finished_pods_free_their_requests() -> None:
    node, _ = node_with_one_running_pod(32, {})
    done = make_pod("done").container(res(10, 20)).node("node1").phase("Failed").obj()
    assert run_filter(
        node_resources_fit.NAME, make_pod().container(res(5, 5)).obj(), [node], [done]
    ).feasible == ["node1"]
