"""Helpers shared by the controller tests: a test-sized config and a controller running in a thread."""

from __future__ import annotations

import threading
from typing import Any

from custom_scheduler.config import SchedulerConfig, parse_config
from custom_scheduler.controller.runner import Controller

from tests.scheduler.builders import make_node, make_pod

SCHEDULER = "custom-scheduler"


def our_pod(name: str, *, cpu: str = "100m", scheduler: str = SCHEDULER) -> dict[str, Any]:
    """A pending pod for `scheduler` (ours by default) requesting `cpu` and 128Mi."""
    return make_pod(name).scheduler(scheduler).req(cpu=cpu, memory="128Mi").obj()


def sized_node(name: str, *, cpu: str = "4", memory: str = "8Gi") -> dict[str, Any]:
    """A node with `cpu` and `memory` allocatable, room for 110 pods."""
    return make_node(name).alloc(cpu=cpu, memory=memory, pods="110").obj()


def fast_config(**overrides: Any) -> SchedulerConfig:
    """The default config with test-sized durations: short backoffs, a 2 s lease."""
    data: dict[str, Any] = {
        "queue": {
            "podInitialBackoffSeconds": 0.1,
            "podMaxBackoffSeconds": 0.5,
            "podMaxInUnschedulablePodsSeconds": 3,
        },
        "leaderElection": {
            "leaseDurationSeconds": 2,
            "renewDeadlineSeconds": 1.5,
            "retryPeriodSeconds": 0.25,
        },
    }
    data.update(overrides)
    return parse_config(data, source="test")


class RunningController:
    """A Controller running in a thread of the test process (against the fake API)."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=controller.run, args=(self.stopped,), daemon=True)

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.controller.status.port}"

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=30)
