"""Fixtures for the controller tests: a fake Kubernetes API over real HTTP and a real client for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.controller.runner import Controller
from custom_scheduler.kube.client import KubeClient

from tests.scheduler.controller.support import RunningController, fast_config
from tests.scheduler.fakeapi import FakeApiServer


@pytest.fixture
def fake_api() -> Iterator[FakeApiServer]:
    """A fake API server on a free local port, stopped after the test."""
    server = FakeApiServer().start()
    yield server
    server.stop()


@pytest.fixture
def kubeconfig(fake_api: FakeApiServer, tmp_path: Path) -> str:
    """A kubeconfig file pointing at the fake API (plain http)."""
    return fake_api.kubeconfig(str(tmp_path / "kubeconfig"))


@pytest.fixture
def client(kubeconfig: str) -> Iterator[KubeClient]:
    """The real client, through the real `kubernetes` library, talking to the fake API."""
    kube = KubeClient.from_kubeconfig(kubeconfig)
    yield kube
    kube.close()


@pytest.fixture
def start_controller(kubeconfig: str) -> Iterator[Callable[..., RunningController]]:
    """Start Controllers (real client, real HTTP) in threads; all are stopped after the test."""
    running: list[RunningController] = []

    def start(config: SchedulerConfig | None = None, *, leader_elect: bool = False) -> RunningController:
        client = KubeClient.from_kubeconfig(kubeconfig)
        controller = Controller(
            config or fast_config(), client, metrics_addr="127.0.0.1:0", leader_elect=leader_elect
        )
        handle = RunningController(controller)
        handle.thread.start()
        running.append(handle)
        return handle

    yield start
    for handle in running:
        handle.stop()
