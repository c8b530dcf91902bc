"""Kubernetes resource quantities (``100m``, ``1.5Gi``, ``1e3``), parsed exactly.

The grammar and rounding follow apimachinery's ``resource.Quantity``: a signed decimal number followed
by a binary-SI suffix (Ki..Ei), a decimal-SI suffix (n, u, m, "", k, M, G, T, P, E) or a decimal
exponent (``e3``, ``E-2``). Values are held as exact fractions; ``Quantity.Value()`` and
``Quantity.MilliValue()`` round *up*, which :func:`value` and :func:`milli_value` reproduce.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache
from typing import Final

_NUMBER: Final = re.compile(r"([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(.*)", re.DOTALL)
_EXPONENT: Final = re.compile(r"[eE]([+-]?[0-9]+)")
_SUFFIXES: Final[dict[str, Fraction]] = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}


class QuantityError(ValueError):
    """The text is not a Kubernetes quantity."""


def parse_quantity(raw: object) -> Fraction:
    """Return the exact value of a quantity given as a string or a plain YAML/JSON number."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise QuantityError(f"{raw!r} is not a quantity (expected a string like '100m' or '1Gi')")
    return _parse_text(raw if isinstance(raw, str) else repr(raw))


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Fraction:
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise QuantityError(f"{text!r} is not a quantity (expected a string like '100m' or '1Gi')")
    sign, number, suffix = match.groups()
    value = Fraction(number)
    if suffix in _SUFFIXES:
        value *= _SUFFIXES[suffix]
    else:
        exponent = _EXPONENT.fullmatch(suffix)
        if exponent is None:
            raise QuantityError(f"{text!r} has an unknown suffix {suffix!r}")
        value *= Fraction(10) ** int(exponent.group(1))
    return -value if sign == "-" else value


INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)


def value(quantity: Fraction) -> int:
    """``Quantity.Value()``: the value as an integer, rounded up, saturated to int64 as Kubernetes does."""
    return _int64(math.ceil(quantity))


def milli_value(quantity: Fraction) -> int:
    """``Quantity.MilliValue()``: thousandths (CPU in millicores), rounded up, saturated to int64."""
    return _int64(math.ceil(quantity * 1000))


def _int64(number: int) -> int:
    return max(INT64_MIN, min(INT64_MAX, number))
