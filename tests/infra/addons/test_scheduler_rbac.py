"""The scheduler's RBAC covers every API call the scheduler makes, and grants nothing it does not use:
no wildcard, nothing on secrets.

The calls are derived from the scheduler itself, not from the ClusterRole:
- a recorded run of the real controller (``custom_scheduler.controller.runner.Controller``, the real
  client over real HTTP) against the fake API of tests/scheduler/fakeapi, with the config the plan puts in
  the ConfigMap, driven through every path that talks to the API: informers, NodeMetrics, a binding whose
  response is lost (so the binder re-reads the pod), an unschedulable pod (event and pod condition),
  leader election from creating the Lease to releasing it;
- a scan of the package's source for every use of ``custom_scheduler.kube.paths`` (the only place that
  spells API paths, which a test checks too): each call site must have produced at least one request in
  that run, so the run cannot silently miss a code path.
Each request is turned into the attributes the API server authorizes (group, resource, subresource,
namespace, name, verb) and checked against the planned roles with RBAC's matching rules.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import custom_scheduler
import pytest
import yaml
from custom_scheduler.config import SchedulerConfig, parse_config
from custom_scheduler.controller.runner import Controller
from custom_scheduler.kube import paths
from custom_scheduler.kube.client import KubeClient, Response, load_configuration

from tests.infra.addons.support import of_kind, one, plan_of
from tests.infra.stacks import Plan, stack
from tests.scheduler.controller.support import RunningController, our_pod, sized_node
from tests.scheduler.fakeapi import FakeApiServer
from tests.scheduler.fakeapi.invariants import wait_for

SETTLE_SECONDS = 60.0
EVENTS_V1_ALLOWANCE = {("events.k8s.io", "events", "create")}
"""Granted though the recorder writes core/v1 events today: DESIGN.md 3.5 lets it use events.k8s.io/v1
instead (the same objects); this is the only grant the recorded run may leave unused."""


@dataclass(frozen=True)
class Call:
    """What the API server authorizes for one request."""

    group: str
    resource: str
    """``pods`` or ``pods/binding``: resource and subresource, as RBAC rules name them."""
    namespace: str
    name: str
    verb: str


def authorization_attributes(method: str, path: str, *, watch: bool) -> Call:
    """The request attributes of ``method path`` (k8s.io/apiserver's RequestInfo, for resource paths)."""
    parts = path.strip("/").split("/")
    if parts[0] == "api":
        group, rest = "", parts[2:]
    elif parts[0] == "apis":
        group, rest = parts[1], parts[3:]
    else:
        raise AssertionError(f"not a resource path: {path}")
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = rest[0] if len(rest) < 3 else f"{rest[0]}/{rest[2]}"
    name = rest[1] if len(rest) >= 2 else ""
    verbs = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
    verb = ("watch" if watch else "get" if name else "list") if method == "GET" else verbs[method]
    return Call(group, resource, namespace, name, verb)


class RecordingClient(KubeClient):
    """The real client, recording every request it sends (the seam: the client's public methods)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests: list[tuple[str, str, bool]] = []
        self._lock = threading.Lock()

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        with self._lock:
            self.requests.append((method, path, False))
        return super().request(method, path, **kwargs)

    def watch(self, path: str, *, query: Mapping[str, str], timeout_seconds: int) -> Iterator[dict[str, Any]]:
        with self._lock:
            self.requests.append(("GET", path, True))
        yield from super().watch(path, query=query, timeout_seconds=timeout_seconds)


# -- the planned RBAC ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_of(stack())


def _rules_for_account(
    plan: Plan, account: str, namespace: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(cluster-wide rules, {namespace: rules}) reaching the ServiceAccount through the planned bindings."""
    subject = {"kind": "ServiceAccount", "name": account, "namespace": namespace}
    cluster_rules: list[dict[str, Any]] = []
    namespaced: dict[str, list[dict[str, Any]]] = {}
    for binding in of_kind(plan, "ClusterRoleBinding"):
        if subject in binding["subjects"]:
            cluster_rules += one(plan, "ClusterRole", binding["roleRef"]["name"])["rules"]
    for binding in of_kind(plan, "RoleBinding"):
        if subject in binding["subjects"]:
            role_namespace = binding["metadata"]["namespace"]
            role = next(
                r
                for r in of_kind(plan, binding["roleRef"]["kind"])
                if r["metadata"]["name"] == binding["roleRef"]["name"]
                and r["metadata"].get("namespace") == role_namespace
            )
            namespaced.setdefault(role_namespace, []).extend(role["rules"])
    return cluster_rules, namespaced


def _allows(rule: Mapping[str, Any], call: Call) -> bool:
    return (
        call.group in rule["apiGroups"]
        and call.resource in rule["resources"]
        and call.verb in rule["verbs"]
        and (not rule.get("resourceNames") or call.name in rule["resourceNames"])
    )


def _scheduler_rules(plan: Plan) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    deployment = one(plan, "Deployment", "custom-scheduler")
    account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    return _rules_for_account(plan, account, deployment["metadata"]["namespace"])


def _all_rules(plan: Plan) -> list[dict[str, Any]]:
    cluster_rules, namespaced = _scheduler_rules(plan)
    return cluster_rules + [rule for rules in namespaced.values() for rule in rules]


# -- the recorded run -------------------------------------------------------------------------------------


def _deployed_config(plan: Plan) -> SchedulerConfig:
    """The ConfigMap's config, with test-sized durations (names, namespaces and plugins unchanged)."""
    data = yaml.safe_load(one(plan, "ConfigMap", "custom-scheduler-config")["data"]["config.yaml"])
    data["leaderElection"].update(leaseDurationSeconds=2, renewDeadlineSeconds=1.5, retryPeriodSeconds=0.25)
    data["queue"].update(podInitialBackoffSeconds=0.1, podMaxBackoffSeconds=0.5)
    return parse_config(data, source="configmap")


@pytest.fixture(scope="module")
def recorded(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> list[Call]:
    """Every request of a controller run that exercises each API-facing code path once."""
    config = _deployed_config(plan)
    server = FakeApiServer().start()
    try:
        cluster = server.cluster
        cluster.create("nodes", sized_node("node-0", cpu="4"))
        cluster.set_node_metrics("node-0", cpu="500m", memory="1Gi")
        server.faults.lose_responses(path="/binding$", times=1)
        cluster.create("pods", our_pod("fits", scheduler=config.scheduler_name))
        cluster.create("pods", our_pod("too-big", cpu="64", scheduler=config.scheduler_name))
        kubeconfig = server.kubeconfig(str(tmp_path_factory.mktemp("rbac") / "kubeconfig"))
        client = RecordingClient(load_configuration(kubeconfig))
        handle = RunningController(Controller(config, client, metrics_addr="127.0.0.1:0", leader_elect=True))
        handle.thread.start()
        try:
            wait_for(
                lambda: (
                    bool(cluster.get("pods", "default", "fits")["spec"].get("nodeName"))
                    and bool(cluster.events_for("default", "too-big", "FailedScheduling"))
                    and any(c["type"] == "PodScheduled" for c in _conditions(cluster, "too-big"))
                    and any(p == paths.NODE_METRICS for _, p, _ in client.requests)
                ),
                timeout=SETTLE_SECONDS,
                what="a binding, a failure report and a NodeMetrics read",
            )
        finally:
            handle.stop()
        return [authorization_attributes(m, p, watch=w) for m, p, w in client.requests]
    finally:
        server.stop()


def _conditions(cluster: Any, name: str) -> list[dict[str, Any]]:
    return list(cluster.get("pods", "default", name).get("status", {}).get("conditions") or [])


def test_the_recorded_run_went_through_every_api_call_site_of_the_scheduler(recorded: list[Call]) -> None:
    source_root = Path(custom_scheduler.__file__).parent
    sites = [site for path in sorted(source_root.rglob("*.py")) for site in _path_sites(path)]
    recorded_paths = set(_recorded_paths(recorded))

    assert sites, "no use of custom_scheduler.kube.paths found: did the API layer move?"
    missing = [
        f"{where}: {pattern.pattern}"
        for where, pattern in sites
        if not any(map(pattern.fullmatch, recorded_paths))
    ]
    assert missing == []


def test_every_api_path_the_scheduler_builds_comes_from_kube_paths() -> None:
    """So the call-site scan above sees every request the scheduler can make."""
    source_root = Path(custom_scheduler.__file__).parent
    literals = [
        f"{path.relative_to(source_root)}:{node.lineno} {node.value!r}"
        for path in sorted(source_root.rglob("*.py"))
        if path != source_root / "kube" / "paths.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("/api")
    ]

    assert literals == []


def test_rbac_allows_every_request_the_scheduler_made(plan: Plan, recorded: list[Call]) -> None:
    cluster_rules, namespaced = _scheduler_rules(plan)

    denied = [
        call
        for call in recorded
        if not any(_allows(rule, call) for rule in cluster_rules + namespaced.get(call.namespace, []))
    ]
    assert denied == []


def test_rbac_grants_nothing_the_scheduler_did_not_use(plan: Plan, recorded: list[Call]) -> None:
    used = {(c.group, c.resource, c.verb) for c in recorded}
    granted = {
        (group, resource, verb)
        for rule in _all_rules(plan)
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }

    assert granted - used == EVENTS_V1_ALLOWANCE


def test_rbac_has_no_wildcards_and_nothing_on_secrets(plan: Plan) -> None:
    for rule in _all_rules(plan):
        for key in ("apiGroups", "resources", "verbs", "resourceNames"):
            assert "*" not in rule.get(key, []), rule
        assert not rule.get("nonResourceURLs"), rule
        assert not any(r.split("/")[0] == "secrets" for r in rule["resources"]), rule
        assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"]), rule


def test_the_lease_role_names_the_one_lease_and_lives_in_the_election_namespace(plan: Plan) -> None:
    config = _deployed_config(plan)
    _, namespaced = _scheduler_rules(plan)

    assert set(namespaced) == {config.leader_election.resource_namespace}
    by_verb = {
        verb: rule.get("resourceNames") for rule in namespaced["kube-system"] for verb in rule["verbs"]
    }
    assert by_verb == {"create": None, "get": [config.lease_name], "update": [config.lease_name]}


def test_no_lease_role_when_leader_election_is_off() -> None:
    plan = plan_of(stack(scheduler={"replicas": 1, "config": {"leaderElection": {"leaderElect": False}}}))

    assert of_kind(plan, "Role") == []
    assert one(plan, "Deployment", "custom-scheduler")["spec"]["strategy"] == {"type": "Recreate"}


def test_the_scheduler_is_not_bound_to_the_kube_scheduler_roles(plan: Plan) -> None:
    role_names = {
        b["roleRef"]["name"] for b in of_kind(plan, "ClusterRoleBinding") + of_kind(plan, "RoleBinding")
    }

    assert not role_names & {"system:kube-scheduler", "system:volume-scheduler"}


# -- reading the source -------------------------------------------------------------------------------------


def _recorded_paths(recorded: list[Call]) -> Iterator[str]:
    for call in recorded:
        prefix = f"/apis/{call.group}/{_version(call.group)}" if call.group else "/api/v1"
        namespace = f"/namespaces/{call.namespace}" if call.namespace else ""
        resource, _, subresource = call.resource.partition("/")
        tail = "/".join(part for part in (resource, call.name, subresource) if part)
        yield f"{prefix}{namespace}/{tail}"


def _version(group: str) -> str:
    return {"coordination.k8s.io": "v1", "events.k8s.io": "v1", "metrics.k8s.io": "v1beta1"}[group]


PLACEHOLDER = "\x00"


def _path_sites(path: Path) -> Iterator[tuple[str, re.Pattern[str]]]:
    """Each use of ``paths.X`` in a module, as a regex over the request paths it can build."""
    if path.name == "paths.py" and path.parent.name == "kube":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {id(node.func): node for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "paths"
        ):
            continue
        member = getattr(paths, node.attr)
        where = f"{path.name}:{node.lineno} paths.{node.attr}"
        call = calls.get(id(node))
        if call is None:
            yield where, re.compile(re.escape(member))
            continue
        args = [a.value if isinstance(a, ast.Constant) else PLACEHOLDER for a in call.args]
        template = member(*args)
        yield where, re.compile(re.escape(template).replace(re.escape(PLACEHOLDER), "[^/]+"))
