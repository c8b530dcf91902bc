"""The fake Kubernetes API over real HTTP/1.1 (keep-alive, chunked watch streams), serving a
`FakeCluster`: just enough of core/v1, events.k8s.io/v1, coordination.k8s.io/v1 and metrics.k8s.io for
the scheduler, plus `/fake/...` control endpoints for drivers in another process (the benchmark)."""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import orjson

from .cluster import ApiFailureError, FakeCluster, Obj, validate_lease
from .faults import Faults

NS = r"(?P<ns>[a-z0-9.-]+)"
NAME = r"(?P<name>[A-Za-z0-9.:_-]+)"
BOOKMARK_INTERVAL_SECONDS = 1.0
DEFAULT_WATCH_TIMEOUT_SECONDS = 300
HOLD_LIMIT_SECONDS = 60.0
"""Longest a held request waits, should a test forget to let it go."""

Route = tuple[str, re.Pattern[str], str]
ROUTES: list[Route] = [
    (method, re.compile(f"^{pattern}$"), handler)
    for method, pattern, handler in [
        ("GET", "/version", "version"),
        ("GET", "/api/v1/(?P<kind>nodes|pods|events)", "list"),
        ("GET", f"/api/v1/namespaces/{NS}/(?P<kind>pods|events)", "list"),
        ("GET", "/apis/events.k8s.io/v1/events", "list_events_v1"),
        ("GET", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases", "list_leases"),
        ("POST", "/api/v1/nodes", "create_node"),
        ("POST", "/api/v1/namespaces", "create_namespace"),
        ("DELETE", f"/api/v1/namespaces/{NAME}", "delete_namespace"),
        ("GET", f"/api/v1/nodes/{NAME}", "get_node"),
        ("DELETE", f"/api/v1/nodes/{NAME}", "delete_node"),
        ("POST", f"/api/v1/namespaces/{NS}/pods", "create_pod"),
        ("GET", f"/api/v1/namespaces/{NS}/pods/{NAME}", "get_pod"),
        ("GET", f"/api/v1/namespaces/{NS}/pods/{NAME}/status", "get_pod"),
        ("DELETE", f"/api/v1/namespaces/{NS}/pods/{NAME}", "delete_pod"),
        ("POST", f"/api/v1/namespaces/{NS}/pods/{NAME}/binding", "bind"),
        ("POST", f"/api/v1/namespaces/{NS}/bindings", "bind_legacy"),
        ("PATCH", f"/api/v1/namespaces/{NS}/pods/{NAME}/status", "patch_pod_status"),
        ("POST", f"/api/v1/namespaces/{NS}/events", "create_event"),
        ("POST", f"/apis/events.k8s.io/v1/namespaces/{NS}/events", "create_event_v1"),
        ("GET", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/{NAME}", "get_lease"),
        ("POST", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases", "create_lease"),
        ("PUT", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/{NAME}", "update_lease"),
        ("GET", "/apis/metrics.k8s.io/v1beta1/nodes", "node_metrics"),
        ("POST", "/fake/pods", "fake_create_pods"),
        ("POST", "/fake/nodes", "fake_create_nodes"),
        ("GET", "/fake/stats", "fake_stats"),
    ]
]


def field_filter(selector: str) -> Callable[[Obj], bool]:
    """A `fieldSelector` (`a.b=x,c!=y`) as a predicate; a missing field reads as ""."""
    terms: list[tuple[list[str], str, bool]] = []
    for term in filter(None, selector.split(",")):
        negate = "!=" in term
        path, value = re.split(r"!=|==|=", term, maxsplit=1)
        terms.append((path.split("."), value, negate))

    def matches(obj: Obj) -> bool:
        for path, value, negate in terms:
            current: Any = obj
            for part in path:
                current = current.get(part, "") if isinstance(current, dict) else ""
            if (str(current) == value) == negate:
                return False
        return True

    return matches


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (killed, timed out) is normal here; anything else is not."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeApiServer:
    """Serves a FakeCluster on 127.0.0.1 in a background thread; `url` is its base address."""

    def __init__(self, cluster: FakeCluster | None = None, *, port: int = 0) -> None:
        self.cluster = cluster or FakeCluster()
        self.faults = Faults()
        self.requests: list[tuple[str, str]] = []
        self.stopping = False
        handler = type("Handler", (_Handler,), {"api": self})
        self._httpd = _Server(("127.0.0.1", port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-api", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping = True
        with self.faults.lock:
            for rule in self.faults.rules:
                if rule.hold is not None:
                    rule.hold.set()
        with self.cluster.cond:
            self.cluster.cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()

    def kubeconfig(self, path: str) -> str:
        """Write a kubeconfig for this server (plain http, no auth) and return its path."""
        text = f"""apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: {self.url}
users:
- name: fake
  user:
    token: fake-token
contexts:
- name: fake
  context:
    cluster: fake
    user: fake
current-context: fake
"""
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api: ClassVar[FakeApiServer]
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the cluster state, not access logs."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # ----------------------------------------------------------------- plumbing

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:
            self.close_connection = True  # the client went away mid-request: nothing to act on
            return
        body = orjson.loads(raw) if raw else {}
        is_control = parts.path.startswith("/fake/")
        rule = None if is_control else self.api.faults.match(method, parts.path)
        if not is_control:
            self.api.requests.append((method, parts.path))
            if self.api.faults.latency_seconds:
                time.sleep(self.api.faults.latency_seconds)
        if rule is not None and rule.hold is not None:
            rule.hold.wait(HOLD_LIMIT_SECONDS)
            rule = None
        if rule is not None and not rule.lose_response:
            headers = {"Retry-After": f"{rule.retry_after:g}"} if rule.retry_after is not None else {}
            self._send_status(
                rule.status,
                "InternalError" if rule.status >= 500 else "TooManyRequests",
                "injected fault",
                headers,
            )
            return
        route = next(
            (
                (name, match)
                for verb, pattern, name in ROUTES
                if verb == method and (match := pattern.match(parts.path))
            ),
            None,
        )
        if route is None:
            self._send_status(404, "NotFound", "the server could not find the requested resource")
            return
        handler_name, match = route
        try:
            status, result = getattr(self, f"_h_{handler_name}")(query=query, body=body, **match.groupdict())
        except ApiFailureError as failure:
            self._send_status(failure.code, failure.reason, failure.message)
            return
        if result is None:
            return
        if rule is not None:
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self._send_json(status, result)

    def _send_json(self, status: int, obj: Obj, headers: dict[str, str] | None = None) -> None:
        data = orjson.dumps(obj)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_status(
        self, code: int, reason: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
        self._send_json(code, status, headers)

    def _watch(self, kind: str, query: dict[str, str], predicate: Callable[[Obj], bool]) -> tuple[int, None]:
        cluster = self.api.cluster
        watcher = cluster.open_watch(kind, query.get("resourceVersion", ""), predicate)
        timeout = float(query.get("timeoutSeconds") or DEFAULT_WATCH_TIMEOUT_SECONDS)
        bookmarks = query.get("allowWatchBookmarks") == "true"
        kind_name = {"pods": "Pod", "nodes": "Node", "events": "Event"}[kind]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + BOOKMARK_INTERVAL_SECONDS
        try:
            while True:
                with cluster.cond:
                    while not (watcher.events or watcher.dropped or watcher.finished or self.api.stopping):
                        remaining = min(deadline, next_bookmark) - time.monotonic()
                        if remaining <= 0:
                            break
                        cluster.cond.wait(remaining)
                    events = list(watcher.events)
                    watcher.events.clear()
                    current_rv = cluster.rv
                if watcher.dropped or self.api.stopping:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return 200, None
                payload = b"".join(orjson.dumps(event) + b"\n" for event in events)
                now = time.monotonic()
                if bookmarks and now >= next_bookmark and not watcher.finished:
                    bookmark = {
                        "type": "BOOKMARK",
                        "object": {
                            "kind": kind_name,
                            "apiVersion": "v1",
                            "metadata": {"resourceVersion": str(current_rv)},
                        },
                    }
                    payload += orjson.dumps(bookmark) + b"\n"
                    next_bookmark = now + BOOKMARK_INTERVAL_SECONDS
                if payload:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
                if watcher.finished or now >= deadline:
                    self.wfile.write(b"0\r\n\r\n")
                    return 200, None
        except OSError:
            self.close_connection = True
            return 200, None
        finally:
            cluster.close_watch(watcher)

    # ----------------------------------------------------------------- handlers

    def _h_version(self, **_: Any) -> tuple[int, Obj]:
        return 200, {"major": "1", "minor": "28", "gitVersion": "v1.28.15-fake"}

    def _h_list(
        self, *, kind: str, query: dict[str, str], ns: str | None = None, **_: Any
    ) -> tuple[int, Obj | None]:
        predicate = field_filter(query.get("fieldSelector", ""))
        if query.get("watch") in ("true", "1"):
            return self._watch(kind, query, predicate)
        return 200, self.api.cluster.list(kind, namespace=ns, field_filter=predicate)

    def _h_list_events_v1(self, **_: Any) -> tuple[int, Obj]:
        return 200, self.api.cluster.list("events")

    def _h_list_leases(self, *, ns: str, **_: Any) -> tuple[int, Obj]:
        return 200, self.api.cluster.list("leases", namespace=ns)

    def _h_create_node(self, *, body: Obj, **_: Any) -> tuple[int, Obj]:
        return 201, self.api.cluster.create("nodes", body)

    def _h_create_namespace(self, *, body: Obj, **_: Any) -> tuple[int, Obj]:
        return 201, self.api.cluster.create("namespaces", body)

    def _h_delete_namespace(self, *, name: str, **_: Any) -> tuple[int, Obj]:
        return 200, self.api.cluster.delete("namespaces", "", name)

    def _h_get_node(self, *, name: str, **_: Any) -> tuple[int, Obj]:
        return 200, self.api.cluster.get("nodes", "", name)

    def _h_delete_node(self, *, name: str, **_: Any) -> tuple[int, Obj]:
        return 200, self.api.cluster.delete("nodes", "", name)

    def _h_create_pod(self, *, ns: str, body: Obj, **_: Any) -> tuple[int, Obj]:
        body.setdefault("metadata", {})["namespace"] = ns
        return 201, self.api.cluster.create("pods", body)

    def _h_get_pod(self, *, ns: str, name: str, **_: Any) -> tuple[int, Obj]:
        return 200, self.api.cluster.get("pods", ns, name)

    def _h_delete_pod(self, *, ns: str, name: str, **_: Any) -> tuple[int, Obj]:
        return 200, self.api.cluster.delete("pods", ns, name)

    def _h_bind(self, *, ns: str, name: str, body: Obj, **_: Any) -> tuple[int, Obj]:
        if body.get("metadata", {}).get("name", name) != name:
            raise ApiFailureError(400, "BadRequest", "name in URL does not match name in Binding")
        return 201, self.api.cluster.bind(ns, name, body, by=self.headers.get("User-Agent", ""))

    def _h_bind_legacy(self, *, ns: str, body: Obj, **_: Any) -> tuple[int, Obj]:
        name = body.get("metadata", {}).get("name", "")
        return 201, self.api.cluster.bind(ns, name, body, by=self.headers.get("User-Agent", ""))

    def _h_patch_pod_status(self, *, ns: str, name: str, body: Obj, **_: Any) -> tuple[int, Obj]:
        content_type = self.headers.get("Content-Type", "")
        if content_type not in ("application/strategic-merge-patch+json", "application/merge-patch+json"):
            raise ApiFailureError(415, "UnsupportedMediaType", f"unsupported patch type {content_type!r}")
        strategic = content_type == "application/strategic-merge-patch+json"
        return 200, self.api.cluster.patch_pod_status(ns, name, body, strategic=strategic)

    def _h_create_event(self, *, ns: str, body: Obj, **_: Any) -> tuple[int, Obj]:
        return 201, self.api.cluster.create_event(ns, body, api="v1")

    def _h_create_event_v1(self, *, ns: str, body: Obj, **_: Any) -> tuple[int, Obj]:
        return 201, self.api.cluster.create_event(ns, body, api="events.k8s.io/v1")

    def _h_get_lease(self, *, ns: str, name: str, **_: Any) -> tuple[int, Obj]:
        return 200, self.api.cluster.get("leases", ns, name)

    def _h_create_lease(self, *, ns: str, body: Obj, **_: Any) -> tuple[int, Obj]:
        validate_lease(body)
        body.setdefault("metadata", {})["namespace"] = ns
        return 201, self.api.cluster.create("leases", body)

    def _h_update_lease(self, *, ns: str, name: str, body: Obj, **_: Any) -> tuple[int, Obj]:
        return 200, self.api.cluster.update_lease(ns, name, body)

    def _h_node_metrics(self, **_: Any) -> tuple[int, Obj]:
        return 200, self.api.cluster.node_metrics_list()

    def _h_fake_create_pods(self, *, body: Obj, **_: Any) -> tuple[int, Obj]:
        for pod in body.get("items", []):
            self.api.cluster.create("pods", pod)
        return 201, {"created": len(body.get("items", []))}

    def _h_fake_create_nodes(self, *, body: Obj, **_: Any) -> tuple[int, Obj]:
        self.api.cluster.add_nodes(body.get("items", []))
        return 201, {"created": len(body.get("items", []))}

    def _h_fake_stats(self, **_: Any) -> tuple[int, Obj]:
        """Counters a driver polls cheaply while a run is in progress."""
        cluster = self.api.cluster
        with cluster.cond:
            uids = [record.uid for record in cluster.bindings]
            return 200, {
                "pods": len(cluster.objects["pods"]),
                "bindings": len(uids),
                "bound_twice": len(uids) - len(set(uids)),
                "kubelet_rejections": cluster.kubelet_rejections,
                "events": dict(cluster.event_reasons),
            }
