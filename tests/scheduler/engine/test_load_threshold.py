"""LoadThreshold (off by default): measured nodes above the CPU or memory limit are skipped."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from custom_scheduler.config import parse_config
from custom_scheduler.plugins import load_threshold

from tests.scheduler.builders import make_node, make_pod, node_metrics
from tests.scheduler.engine.harness import engine_with


@dataclass(frozen=True)
class Case:
    name: str
    enabled: bool
    cpu: str | None
    memory: str
    fits: bool


CASES = [
    Case("disabled by default: a busy node still fits", False, "3900m", "1Gi", True),
    Case("a node below both limits fits", True, "1", "1Gi", True),
    Case("cpu above the limit is skipped", True, "3700m", "1Gi", False),
    Case("memory above the limit is skipped", True, "100m", "7900Mi", False),
    Case("exactly at the limit still fits", True, "3600m", "1Gi", True),
    Case("a node without metrics is never skipped", True, None, "", True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_filter(case: Case) -> None:
    config = parse_config({"loadThreshold": {"enabled": case.enabled, "cpuPercent": 90}}, source="test")
    metrics = [] if case.cpu is None else [node_metrics("node1", cpu=case.cpu, memory=case.memory)]
    engine = engine_with(
        [make_node("node1").obj()], metrics=metrics, config=config, filters=[load_threshold.NAME], scores={}
    )
    result = engine.schedule(make_pod().obj())
    assert result.reasons.get("node1") == (None if case.fits else [load_threshold.ERR_REASON])
