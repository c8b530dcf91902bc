"""Kubernetes resource quantities for the fake kubelet, written independently of the scheduler's own
parser so that the fake judges over-commit without sharing the code under test."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

_SUFFIXES: Final = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def parse(value: str | int | float) -> Decimal:
    """A quantity string ("250m", "1Gi", "1e3") as a Decimal of base units."""
    text = str(value).strip()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            return Decimal(text[: -len(suffix)]) * _SUFFIXES[suffix]
    return Decimal(text)


def milli(value: str | int | float) -> int:
    """A quantity in thousandths, rounded up as Kubernetes does for milli-CPU."""
    return int((parse(value) * 1000).to_integral_value(rounding="ROUND_CEILING"))


def pod_requests(pod: dict[str, Any]) -> dict[str, Decimal]:
    """Effective requests as the kubelet admits them: max(sum(containers), max(init)) + overhead."""
    spec = pod.get("spec", {})
    total: dict[str, Decimal] = {}
    for container in spec.get("containers", []):
        for name, quantity in _container_requests(container).items():
            total[name] = total.get(name, Decimal(0)) + parse(quantity)
    for container in spec.get("initContainers", []) or []:
        for name, quantity in _container_requests(container).items():
            total[name] = max(total.get(name, Decimal(0)), parse(quantity))
    for name, quantity in (spec.get("overhead") or {}).items():
        total[name] = total.get(name, Decimal(0)) + parse(quantity)
    return total


def _container_requests(container: dict[str, Any]) -> dict[str, Any]:
    """Requests, defaulted from limits where only a limit is set (API server defaulting)."""
    resources = container.get("resources") or {}
    return {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
