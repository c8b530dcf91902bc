"""Kubernetes quantities parsed exactly, rounded up as ``Quantity.Value()`` / ``MilliValue()`` do."""

from __future__ import annotations

from fractions import Fraction

import pytest
from custom_scheduler.quantity import QuantityError, milli_value, parse_quantity, value

CASES = [
    ("100m", Fraction(1, 10), 1, 100),
    ("1", Fraction(1), 1, 1000),
    ("1.5", Fraction(3, 2), 2, 1500),
    ("1.5Gi", Fraction(3 * 2**29), 3 * 2**29, 3 * 2**29 * 1000),
    ("128Mi", Fraction(128 * 2**20), 128 * 2**20, 128 * 2**20 * 1000),
    ("1e3", Fraction(1000), 1000, 1_000_000),
    ("1E3", Fraction(1000), 1000, 1_000_000),
    ("2e-3", Fraction(2, 1000), 1, 2),
    ("1k", Fraction(1000), 1000, 1_000_000),
    ("1M", Fraction(10**6), 10**6, 10**9),
    ("2E", Fraction(2 * 10**18), 2 * 10**18, 2**63 - 1),  # 2e21 millis saturate at int64, as in Kubernetes
    ("250u", Fraction(250, 10**6), 1, 1),
    ("1500n", Fraction(1500, 10**9), 1, 1),
    (".5", Fraction(1, 2), 1, 500),
    ("5.", Fraction(5), 5, 5000),
    ("+3", Fraction(3), 3, 3000),
    (4, Fraction(4), 4, 4000),
    (0.25, Fraction(1, 4), 1, 250),
    ("0", Fraction(0), 0, 0),
]


@pytest.mark.parametrize(("text", "exact", "int_value", "millis"), CASES, ids=[str(c[0]) for c in CASES])
def test_parses_exactly(text: str | int | float, exact: Fraction, int_value: int, millis: int) -> None:
    quantity = parse_quantity(text)
    assert quantity == exact
    assert value(quantity) == int_value
    assert milli_value(quantity) == millis


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "1Gb", "1 Gi", "e3", "1e", "--1", True, None, "١"])
def test_rejects_what_is_not_a_quantity(text: object) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)
