"""Plugin results: a status code with reasons, as kube-scheduler's ``framework.Status``.

``None`` stands for success everywhere a plugin may return a status. Unschedulable means preemption or
a change in the cluster may help; UnschedulableAndUnresolvable means it cannot (wrong node name, taint,
affinity, business line); Error is an internal failure and is retried with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Code(Enum):
    SUCCESS = "Success"
    ERROR = "Error"
    UNSCHEDULABLE = "Unschedulable"
    UNSCHEDULABLE_AND_UNRESOLVABLE = "UnschedulableAndUnresolvable"


@dataclass(frozen=True, slots=True)
class Status:
    """A non-success outcome with the reasons people read in ``0/N nodes are available: ...``."""

    code: Code
    reasons: tuple[str, ...]
    plugin: str = ""

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)
