"""The API's two time formats: Time (RFC 3339, seconds) and MicroTime (exactly six fractional digits).

Both carry a zone ("Z"); the API server rejects a MicroTime with any other number of digits.
"""

from __future__ import annotations

from datetime import UTC, datetime


def time_now() -> str:
    """The current Time, e.g. "2024-01-02T03:04:05Z"."""
    return format_time(datetime.now(UTC))


def micro_time_now() -> str:
    """The current MicroTime, e.g. "2024-01-02T03:04:05.123456Z"."""
    return format_micro_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """A Time or MicroTime (any number of fractional digits, "Z" or an offset) as an aware datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    head, dot, rest = value.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        value = f"{head}.{(digits + '000000')[:6]}{zone}"
    return datetime.fromisoformat(value)
