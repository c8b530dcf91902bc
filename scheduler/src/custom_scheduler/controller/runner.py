"""`custom-scheduler run`: wires the controller together and runs it until SIGTERM.

Threads: two watches (nodes, all pods) and a NodeMetrics poller feed the scheduling loop's inbox; the
loop (this thread) owns the engine; a pool sends bindings, another records failure events; the leader
elector renews its Lease; a small HTTP server serves /metrics, /healthz and /readyz. Informers run on
standby replicas too, so a standby that takes over schedules from a warm cache at once.

Shutdown (SIGTERM or SIGINT): the loop stops taking pods; bindings already on the wire get
`SHUTDOWN_GRACE_SECONDS` to finish, the rest are abandoned (their pods stay pending for the next
leader); only then is the Lease released, so a successor never decides while our bindings may still
land. If a binding is still in flight after the grace period, the Lease is not released but left to
expire, and the process exits anyway: worker threads are daemons and are not joined.
"""

from __future__ import annotations

import logging
import queue
import signal
import sys
import threading
from types import FrameType
from typing import Any, Final

from custom_scheduler.config import SchedulerConfig
from custom_scheduler.controller.binder import DEFAULT_RETRY_BUDGET_SECONDS, Binder
from custom_scheduler.controller.cache import ClusterState
from custom_scheduler.controller.events import EventRecorder
from custom_scheduler.controller.httpserver import StatusServer
from custom_scheduler.controller.informers import start_node_metrics_poller, start_watch
from custom_scheduler.controller.leader import AlwaysLeader, LeaderElector
from custom_scheduler.controller.logs import configure_logging
from custom_scheduler.controller.loop import SchedulingLoop
from custom_scheduler.controller.metrics import SchedulerMetrics
from custom_scheduler.controller.queue import SchedulingQueue
from custom_scheduler.engine import Engine
from custom_scheduler.errors import KubeconfigError
from custom_scheduler.kube.client import KubeClient

log = logging.getLogger(__name__)

DEFAULT_METRICS_ADDR: Final = "0.0.0.0:10251"
SHUTDOWN_GRACE_SECONDS: Final = 10.0
"""How long bindings already sent may take to finish on shutdown (well inside a pod's 30 s grace)."""


def binding_retry_budget(config: SchedulerConfig) -> float:
    """How long one binding may take, retries included: the renew deadline less one retry period, so a
    binding sent while this replica led cannot be re-sent once a successor may have taken over."""
    timing = config.leader_election
    return float(timing.renew_deadline_seconds) - float(timing.retry_period_seconds)


class Controller:
    """One scheduler instance against one API server; `run` blocks until `stop` is set."""

    def __init__(
        self,
        config: SchedulerConfig,
        client: KubeClient,
        *,
        metrics_addr: str = DEFAULT_METRICS_ADDR,
        leader_elect: bool = True,
    ) -> None:
        self.config = config
        self.client = client
        self.metrics = SchedulerMetrics()
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.queue = SchedulingQueue.from_config(config.queue)
        self.engine = Engine(config)
        self.state = ClusterState(engine=self.engine, queue=self.queue, scheduler_name=config.scheduler_name)
        self.leader: LeaderElector | AlwaysLeader
        if leader_elect:
            self.leader = LeaderElector(
                client,
                namespace=config.leader_election.resource_namespace,
                name=config.lease_name,
                timing=config.leader_election,
                on_change=lambda leading: self.metrics.leader.set(1 if leading else 0),
            )
        else:
            self.leader = AlwaysLeader()
            self.metrics.leader.set(1)
        self.recorder = EventRecorder(
            client,
            component=config.scheduler_name,
            instance=self.leader.identity,
            still_pending=self.state.is_pending,
        )
        self.binder = Binder(
            client,
            recorder=self.recorder,
            report=self.inbox.put,
            may_bind=self.leader.is_leader,
            node_exists=self.state.has_node,
            retry_budget_seconds=binding_retry_budget(config)
            if leader_elect
            else DEFAULT_RETRY_BUDGET_SECONDS,
        )
        self.loop = SchedulingLoop(
            engine=self.engine,
            state=self.state,
            queue=self.queue,
            binder=self.binder,
            recorder=self.recorder,
            metrics=self.metrics,
            inbox=self.inbox,
            is_leader=self.leader.is_leader,
        )
        self._loop_alive = False
        self.status = StatusServer(
            metrics_addr,
            metrics=self.metrics,
            healthy=lambda: self._loop_alive,
            ready=lambda: self.state.synced,
        )

    def run(self, stop: threading.Event) -> None:
        """Start everything, schedule until `stop`, then shut down in order (see the module docstring)."""
        informers_stop = threading.Event()
        leader_stop = threading.Event()
        self.status.start()
        start_watch(self.client, "nodes", self.inbox, informers_stop)
        start_watch(self.client, "pods", self.inbox, informers_stop)
        start_node_metrics_poller(self.client, self.inbox, informers_stop, metrics=self.metrics)
        leader_thread = None
        if isinstance(self.leader, LeaderElector):
            leader_thread = threading.Thread(
                target=self.leader.run, args=(leader_stop,), name="leader", daemon=True
            )
            leader_thread.start()
        log.info(
            "scheduler started",
            extra={
                "schedulerName": self.config.scheduler_name,
                "identity": self.leader.identity,
                "api": self.client.host,
            },
        )
        self._loop_alive = True
        try:
            self.loop.run(stop)
        finally:
            self._loop_alive = False
            log.info("shutting down", extra={"bindingsInFlight": self.binder.in_flight()})
            drained = self.binder.shutdown(grace_seconds=SHUTDOWN_GRACE_SECONDS)
            self.recorder.shutdown(wait=False)
            if not drained and isinstance(self.leader, LeaderElector):
                log.warning("bindings still in flight; the lease is left to expire")
                self.leader.keep_lease_on_stop()
            leader_stop.set()
            if leader_thread is not None:
                leader_thread.join(timeout=SHUTDOWN_GRACE_SECONDS)
            informers_stop.set()
            self.status.stop()
            self.client.close()
            log.info("scheduler stopped")


def run(
    *,
    config: SchedulerConfig,
    kubeconfig: str | None = None,
    metrics_addr: str = DEFAULT_METRICS_ADDR,
    leader_elect: bool = True,
) -> int:
    """The `run` command: schedule pods until SIGTERM/SIGINT; 0 on a clean stop, 1 on a startup error."""
    configure_logging()
    try:
        client = KubeClient.from_kubeconfig(kubeconfig)
        controller = Controller(config, client, metrics_addr=metrics_addr, leader_elect=leader_elect)
    except (KubeconfigError, OSError, ValueError) as error:
        print(f"custom-scheduler: {error}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal received", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    controller.run(stop)
    return 0
