"""What must hold after a scheduler has run against the fake API, whatever faults were injected:
every schedulable pod bound exactly once, no node over-committed (the fake kubelet rejected nothing),
and pods of other schedulers never bound by ours."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable

from .cluster import FakeCluster

SCHEDULER_USER_AGENT = "custom-scheduler"


def violations(cluster: FakeCluster, *, scheduler_name: str) -> list[str]:
    """Every broken invariant, one line each (empty when all hold)."""
    problems = []
    counts = Counter(record.uid for record in cluster.bindings)
    for uid, n in counts.items():
        if n > 1:
            where = [
                f"{r.namespace}/{r.name} to {r.node!r} by {r.by}" for r in cluster.bindings if r.uid == uid
            ]
            problems.append(f"pod uid {uid} bound {n} times: {'; '.join(where)}")
    for pod in cluster.all("pods"):
        name = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        reason = pod.get("status", {}).get("reason", "")
        if reason.startswith("OutOf"):
            problems.append(f"{name} rejected by the kubelet: {pod['status'].get('message')}")
    ours = {
        p["metadata"]["uid"] for p in cluster.all("pods") if p["spec"].get("schedulerName") == scheduler_name
    }
    for record in cluster.bindings:
        if record.by.startswith(SCHEDULER_USER_AGENT) and record.uid not in ours:
            problems.append(f"{record.namespace}/{record.name} of another scheduler was bound by ours")
    return problems


def unbound(cluster: FakeCluster, *, scheduler_name: str, except_names: Iterable[str] = ()) -> list[str]:
    """Names of our pending pods that should have been bound."""
    skip = set(except_names)
    return sorted(
        pod["metadata"]["name"]
        for pod in cluster.pending_pods(scheduler_name)
        if pod["metadata"]["name"] not in skip
    )


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll `condition` until true; fail with `what` once `timeout` seconds have passed (a deadline, not
    a performance assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)
