"""`/metrics`, `/healthz` and `/readyz` on `--metrics-addr`, served from a background thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from custom_scheduler.controller.metrics import SchedulerMetrics

log = logging.getLogger(__name__)


def parse_addr(addr: str) -> tuple[str, int]:
    """ "HOST:PORT" (HOST may be empty or a bracketed IPv6 address) as a (host, port) pair."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"address {addr!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


Response = tuple[int, str, bytes]
"""HTTP status, content type, body."""


def status_routes(
    *, metrics: SchedulerMetrics, healthy: Callable[[], bool], ready: Callable[[], bool]
) -> dict[str, Callable[[], Response]]:
    """GET /metrics, /healthz and /readyz (also served by the extender)."""
    return {
        "/metrics": lambda: (200, "text/plain; version=0.0.4; charset=utf-8", metrics.render()),
        "/healthz": lambda: _probe(healthy()),
        "/readyz": lambda: _probe(ready()),
    }


NOT_FOUND: Response = (404, "text/plain", b"not found\n")


class StatusServer:
    """Serves metrics and probes; `healthy` and `ready` are polled on each probe request."""

    def __init__(
        self,
        addr: str,
        *,
        metrics: SchedulerMetrics,
        healthy: Callable[[], bool],
        ready: Callable[[], bool],
    ) -> None:
        routes = status_routes(metrics=metrics, healthy=healthy, ready=ready)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = routes.get(self.path.split("?", 1)[0])
                status, content_type, body = route() if route else NOT_FOUND
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Probes every few seconds would drown the scheduler's own logs."""

        self._httpd = ThreadingHTTPServer(parse_addr(addr), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="status-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> None:
        self._thread.start()
        log.info("serving metrics and probes", extra={"port": self.port})

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _probe(ok: bool) -> Response:
    return (200, "text/plain", b"ok\n") if ok else (503, "text/plain", b"not ready\n")
