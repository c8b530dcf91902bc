"""LoadThreshold (optional, off by default): skip nodes whose measured CPU or memory use is above a limit.

Only nodes with fresh metrics are judged (measured usage plus pods placed since the measurement); a node
without metrics is not treated as overloaded, so missing metrics never empty the cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from custom_scheduler.framework.interface import Verdicts
from custom_scheduler.framework.status import Code, Status
from custom_scheduler.objects import PodInfo
from custom_scheduler.plugins import names
from custom_scheduler.plugins.load import utilisation

if TYPE_CHECKING:
    from custom_scheduler.cluster import Cluster
    from custom_scheduler.config import SchedulerConfig

NAME: Final = names.LOAD_THRESHOLD
ERR_REASON: Final = "node(s) were above the load threshold"
_EPSILON: Final = 1e-9  # 3600m of 4000m is 90.00000000000001 % in floating point; exactly at the limit fits


class LoadThreshold:
    """Rejects measured nodes above ``cpuPercent`` or ``memoryPercent`` (Unschedulable: load may drop)."""

    name: Final = NAME

    def __init__(self, *, enabled: bool, cpu_percent: float, memory_percent: float, max_age: float) -> None:
        self.enabled = enabled
        self.cpu_percent = cpu_percent
        self.memory_percent = memory_percent
        self.max_age = max_age

    def pre_filter(self, pod: PodInfo, cluster: Cluster) -> Status | None:
        return None

    def filter(self, pod: PodInfo, cluster: Cluster) -> Verdicts | None:
        if not self.enabled:
            return None
        load = utilisation(None, cluster, max_age=self.max_age)
        cpu_over = load.cpu * 100 > self.cpu_percent + _EPSILON
        memory_over = load.memory * 100 > self.memory_percent + _EPSILON
        return Verdicts.single(Code.UNSCHEDULABLE, ERR_REASON, load.measured & (cpu_over | memory_over))


def new(config: SchedulerConfig) -> LoadThreshold:
    return LoadThreshold(
        enabled=config.load_threshold.enabled,
        cpu_percent=config.load_threshold.cpu_percent,
        memory_percent=config.load_threshold.memory_percent,
        max_age=config.node_load.metrics_max_age_seconds,
    )
