"""Structured logs: one line per record, `key=value` pairs after the message (klog's structured style).

Callers pass their fields as `extra={"pod": "ns/name", "node": ..., "reason": ...}`.
"""

from __future__ import annotations

import logging
import sys
from typing import Final

_STANDARD_ATTRIBUTES: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    """`2024-01-01T00:00:00 INFO logger "message" key=value ...`"""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(
            f"{key}={_quote(value)}" for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES
        )
        stamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        line = f"{stamp} {record.levelname} {record.name} {_quote(record.getMessage())}"
        if fields:
            line = f"{line} {fields}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure_logging(level: int = logging.INFO) -> None:
    """Send structured lines to stderr (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)


def _quote(value: object) -> str:
    text = str(value)
    if text and not any(c.isspace() or c in '"=' for c in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
