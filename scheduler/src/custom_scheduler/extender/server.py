"""`custom-scheduler extender`: an HTTP server speaking kube-scheduler's extender protocol.

    POST <any prefix>/filter       ExtenderArgs -> ExtenderFilterResult
    POST <any prefix>/prioritize   ExtenderArgs -> HostPriorityList (scores 0-10)
    GET  /healthz, /readyz, /metrics

Both `nodeCacheCapable` modes are served. With a kubeconfig (`--kubeconfig`, else `$KUBECONFIG`) the
extender keeps its own cluster view, fed by the controller's informers (nodes, pods, NodeMetrics), so
NodeNames-only requests work and load comes from metrics-server; without one it decides from the Node
objects in each request. A bad request is answered 200 with `Error` set, which kube-scheduler treats
as a failed extender call (ignored when the extender is `ignorable`).
"""

from __future__ import annotations

import logging
import queue
import signal
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, Final

import orjson

from custom_scheduler.config import SchedulerConfig
from custom_scheduler.controller.cache import ClusterState
from custom_scheduler.controller.httpserver import NOT_FOUND, parse_addr, status_routes
from custom_scheduler.controller.informers import start_node_metrics_poller, start_watch
from custom_scheduler.controller.logs import configure_logging
from custom_scheduler.controller.metrics import SchedulerMetrics
from custom_scheduler.controller.queue import SchedulingQueue
from custom_scheduler.errors import KubeconfigError
from custom_scheduler.extender.decisions import Extender, new_engine
from custom_scheduler.extender.protocol import ProtocolError, error_result, parse_args
from custom_scheduler.kube.client import KubeClient, resolve_kubeconfig

log = logging.getLogger(__name__)

DEFAULT_ADDR: Final = "0.0.0.0:8888"
MAX_BODY_BYTES: Final = 64 * 1024 * 1024
"""A NodeList of thousands of nodes is a few MiB; anything far larger is not an ExtenderArgs."""


class ExtenderServer:
    """The HTTP front of an `Extender`; `ready` gates /readyz (the cache has synced)."""

    def __init__(
        self, addr: str, *, extender: Extender, metrics: SchedulerMetrics, ready: Callable[[], bool]
    ) -> None:
        handler = _handler(extender, metrics, ready)
        self._httpd = ThreadingHTTPServer(parse_addr(addr), handler)
        self._httpd.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(
    extender: Extender, metrics: SchedulerMetrics, ready: Callable[[], bool]
) -> type[BaseHTTPRequestHandler]:
    routes = status_routes(metrics=metrics, healthy=lambda: True, ready=ready)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes

        def do_POST(self) -> None:
            verb = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            if verb not in ("filter", "prioritize"):
                self._send(404, {"Error": f"unknown extender verb {verb!r}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._send(413, {"Error": "request body too large"})
                return
            try:
                args = parse_args(orjson.loads(self.rfile.read(length)))
            except (orjson.JSONDecodeError, ProtocolError) as error:
                log.warning("bad extender request", extra={"verb": verb, "error": str(error)})
                self._send(200, error_result(str(error)) if verb == "filter" else [])
                return
            self._send(200, extender.filter(args) if verb == "filter" else extender.prioritize(args))

        def do_GET(self) -> None:
            route = routes.get(self.path.split("?", 1)[0])
            self._send_bytes(*(route() if route else NOT_FOUND))

        def _send(self, status: int, body: object) -> None:
            self._send_bytes(status, "application/json", orjson.dumps(body))

        def _send_bytes(self, status: int, content_type: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """kube-scheduler calls twice per pod; access logs would drown everything else."""

    return Handler


def _start_cache(
    config: SchedulerConfig, client: KubeClient, metrics: SchedulerMetrics, stop: threading.Event
) -> tuple[Extender, ClusterState]:
    """An Extender over a watched cluster view: informers feed one applier thread, under the lock."""
    engine = new_engine(config)
    lock = threading.Lock()
    state = ClusterState(
        engine=engine,
        queue=SchedulingQueue.from_config(config.queue),
        scheduler_name=config.scheduler_name,
    )
    inbox: queue.Queue[Any] = queue.Queue()

    def apply_forever() -> None:
        while not stop.is_set():
            try:
                message = inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            with lock:
                state.apply(message)

    threading.Thread(target=apply_forever, name="extender-cache", daemon=True).start()
    start_watch(client, "nodes", inbox, stop)
    start_watch(client, "pods", inbox, stop)
    start_node_metrics_poller(client, inbox, stop, metrics=metrics)
    return Extender(config, engine=engine, lock=lock), state


def serve(*, config: SchedulerConfig, addr: str = DEFAULT_ADDR, kubeconfig: str | None = None) -> int:
    """The `extender` command: serve until SIGTERM/SIGINT; 0 on a clean stop, 1 on a startup error."""
    configure_logging()
    stop = threading.Event()
    metrics = SchedulerMetrics()
    state: ClusterState | None = None
    try:
        path = resolve_kubeconfig(kubeconfig)
        if path is not None:
            extender, state = _start_cache(config, KubeClient.from_kubeconfig(path), metrics, stop)
        else:
            extender = Extender(config)
            log.info(
                "no kubeconfig: deciding from the Node objects in each request (nodeCacheCapable: false)"
            )
        server = ExtenderServer(
            addr, extender=extender, metrics=metrics, ready=lambda: state is None or state.synced
        )
    except (KubeconfigError, OSError, ValueError) as error:
        print(f"custom-scheduler extender: {error}", file=sys.stderr)
        return 1

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal received", extra={"signal": signal.Signals(signum).name})
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("extender serving", extra={"port": server.port, "cached": path is not None})
    server.serve_forever()
    return 0
