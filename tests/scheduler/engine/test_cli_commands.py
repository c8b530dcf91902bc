"""``run`` and ``extender`` hand the validated config and their flags to the controller and extender."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from custom_scheduler import cli
from custom_scheduler.config import SchedulerConfig
from custom_scheduler.controller import runner
from custom_scheduler.extender import server


class Recorder:
    """Stands in for the controller's ``run`` / the extender's ``serve`` entry point."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> int:
        self.calls.append(kwargs)
        return 0


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    fake = Recorder()
    monkeypatch.setattr(runner, "run", fake)
    monkeypatch.setattr(server, "serve", fake)
    return fake


def test_run_defaults(recorder: Recorder) -> None:
    assert cli.main(["run"]) == 0
    assert recorder.calls == [
        {
            "config": SchedulerConfig(),
            "kubeconfig": None,
            "metrics_addr": "0.0.0.0:10251",
            "leader_elect": True,
        }
    ]


def test_run_flags(recorder: Recorder, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("schedulerName: other\n")
    argv = [
        "run",
        "--kubeconfig",
        "kc",
        "--config",
        str(config),
        "--metrics-addr",
        "127.0.0.1:9",
        "--no-leader-elect",
    ]
    assert cli.main(argv) == 0
    call = recorder.calls[0]
    assert (call["kubeconfig"], call["metrics_addr"], call["leader_elect"]) == ("kc", "127.0.0.1:9", False)
    assert call["config"].scheduler_name == "other"


def test_leader_election_can_be_turned_off_in_config(recorder: Recorder, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("leaderElection: {leaderElect: false}\n")
    assert cli.main(["run", "--config", str(config)]) == 0
    assert recorder.calls[0]["leader_elect"] is False


def test_extender_defaults(recorder: Recorder) -> None:
    assert cli.main(["extender"]) == 0
    assert recorder.calls == [{"config": SchedulerConfig(), "addr": "0.0.0.0:8888", "kubeconfig": None}]


def test_a_bad_config_never_reaches_the_controller(recorder: Recorder, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("percentageOfNodesToScore: 0\n")
    assert cli.main(["run", "--config", str(config)]) == 2
    assert recorder.calls == []
