"""Serve the fake API in its own process: `python -m tests.scheduler.fakeapi [--port N] [--no-kubelet]`.

Prints `listening on <url>` once ready, then serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .cluster import FakeCluster
from .server import FakeApiServer


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.scheduler.fakeapi")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-kubelet", action="store_true", help="do not simulate kubelet admission")
    parser.add_argument("--no-metrics-api", action="store_true", help="answer 404 for metrics.k8s.io")
    args = parser.parse_args()
    cluster = FakeCluster(kubelet=not args.no_kubelet, metrics_api=not args.no_metrics_api)
    server = FakeApiServer(cluster, port=args.port).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"listening on {server.url}", flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
