"""Kubernetes name and label syntax checks (apimachinery ``util/validation``), shared by config and filters.

Label selectors built from these rules decide whether a node-affinity term even parses, so they must
match apimachinery exactly: a term with an invalid key or value never matches any node.
"""

from __future__ import annotations

import re
from typing import Final

_DNS1123_LABEL: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED_NAME_PART: Final = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE: Final = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_GO_INT: Final = re.compile(r"[+-]?[0-9]+")
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


def is_dns1123_label(text: str) -> bool:
    """A DNS-1123 label: lower-case alphanumerics and '-', at most 63 characters."""
    return len(text) <= 63 and _DNS1123_LABEL.fullmatch(text) is not None


def is_dns1123_subdomain(text: str) -> bool:
    """A DNS-1123 subdomain: dot-separated labels, at most 253 characters."""
    return len(text) <= 253 and _DNS1123_SUBDOMAIN.fullmatch(text) is not None


def is_qualified_name(text: str) -> bool:
    """A label key: an optional DNS-1123 subdomain prefix and '/', then a name of at most 63 characters."""
    parts = text.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix or not is_dns1123_subdomain(prefix):
            return False
    else:
        return False
    return 0 < len(name) <= 63 and _QUALIFIED_NAME_PART.fullmatch(name) is not None


def is_label_value(text: str) -> bool:
    """A label value: empty, or up to 63 alphanumerics, '-', '_', '.', starting and ending alphanumeric."""
    return len(text) <= 63 and _LABEL_VALUE.fullmatch(text) is not None


def parse_go_int64(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``: the integer, or None where Go would return an error."""
    if _GO_INT.fullmatch(text) is None:
        return None
    number = int(text)
    return number if _INT64_MIN <= number <= _INT64_MAX else None
