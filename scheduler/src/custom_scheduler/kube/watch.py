"""List+watch in layers (after kopf's watching.py), each testable on its own:

- `infinite_watch` reconnects forever: it starts `continuous_watch` again after a 410 (a relist) and
  after a failed list (with backoff), until `stop` is set;
- `continuous_watch` lists, yields `Listed`, then watches from the list's resourceVersion, following
  bookmarks; a broken or failed stream (or an `ERROR` event) is resumed from the last resourceVersion
  seen, with backoff, and a 410 (HTTP status or `ERROR` event) ends it so the caller lists again;
- the HTTP stream itself is `WatchSource.watch` (`KubeClient.watch` in production).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from custom_scheduler.errors import ApiError, ApiGoneError
from custom_scheduler.kube.client import error_from_status

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

RECONNECT_BACKOFF_SECONDS: Final[Sequence[float]] = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)
"""Delays between failed attempts (list or watch), the last one repeating; reset by any success."""
WATCH_TIMEOUT_SECONDS: Final = 300
"""Server-side `timeoutSeconds` of one watch request; the watch then resumes from its resourceVersion."""


class WatchSource(Protocol):
    """The HTTP layer: one GET and one streaming watch (`KubeClient` implements it)."""

    def get(self, path: str, *, query: Mapping[str, str] | None = None) -> JsonObject:
        """A list; raises `ApiError` subclasses."""
        ...

    def watch(self, path: str, *, query: Mapping[str, str], timeout_seconds: int) -> Iterator[JsonObject]:
        """Raw watch events until the server ends the stream; raises `ApiGoneError` on HTTP 410."""
        ...


@dataclass(frozen=True, slots=True)
class Listed:
    """A full list: the receiver replaces everything it knew about this resource with `items`."""

    items: list[JsonObject]
    resource_version: str


@dataclass(frozen=True, slots=True)
class Changed:
    """One object added, modified or deleted."""

    type: Literal["ADDED", "MODIFIED", "DELETED"]
    obj: JsonObject


WatchEvent = Listed | Changed


class Backoff:
    """Walks a delay sequence on failures, repeating the last delay; `reset` after a success."""

    def __init__(self, delays: Sequence[float] = RECONNECT_BACKOFF_SECONDS) -> None:
        if not delays or any(delay < 0 for delay in delays):
            raise ValueError(
                f"backoff delays must be a non-empty sequence of non-negative seconds, got {delays!r}"
            )
        self._delays = tuple(delays)
        self._failures = 0

    def next_delay(self, error: ApiError | None = None) -> float:
        """The delay before the next attempt; a server's Retry-After wins when it is longer."""
        delay = self._delays[min(self._failures, len(self._delays) - 1)]
        self._failures += 1
        if error is not None and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay

    def reset(self) -> None:
        self._failures = 0


def infinite_watch(
    source: WatchSource,
    path: str,
    *,
    stop: threading.Event,
    backoff: Sequence[float] = RECONNECT_BACKOFF_SECONDS,
    timeout_seconds: int = WATCH_TIMEOUT_SECONDS,
) -> Iterator[WatchEvent]:
    """Yield `Listed`/`Changed` events for `path` forever (until `stop`), relisting whenever needed."""
    delays = Backoff(backoff)
    while not stop.is_set():
        changed = False
        try:
            for event in continuous_watch(
                source, path, stop=stop, backoff=backoff, timeout_seconds=timeout_seconds
            ):
                changed = changed or isinstance(event, Changed)
                yield event
            if changed:
                delays.reset()
            else:
                # 410 again right after a list: do not hammer the server with back-to-back lists.
                stop.wait(delays.next_delay())
        except ApiGoneError:
            log.info("resourceVersion expired; listing again", extra={"path": path})
        except ApiError as error:
            delay = delays.next_delay(error)
            log.warning("list failed; retrying", extra={"path": path, "error": str(error), "delay": delay})
            stop.wait(delay)


def continuous_watch(
    source: WatchSource,
    path: str,
    *,
    stop: threading.Event,
    backoff: Sequence[float] = RECONNECT_BACKOFF_SECONDS,
    timeout_seconds: int = WATCH_TIMEOUT_SECONDS,
) -> Iterator[WatchEvent]:
    """List once, then watch from that resourceVersion until 410 (return) or `stop`.

    Raises the list's `ApiError`; errors of the watch streams are retried here, resuming from the last
    resourceVersion, because a relist is expensive and a dropped stream loses nothing.
    """
    listing = source.get(path)
    resource_version = str(listing.get("metadata", {}).get("resourceVersion", ""))
    yield Listed(list(listing.get("items") or []), resource_version)
    delays = Backoff(backoff)
    query = {"allowWatchBookmarks": "true"}
    while not stop.is_set():
        try:
            for raw in source.watch(
                path, query={**query, "resourceVersion": resource_version}, timeout_seconds=timeout_seconds
            ):
                event_type = raw.get("type")
                obj = raw.get("object") or {}
                if event_type == "ERROR":
                    raise error_from_status(obj, what=f"WATCH {path} ERROR event")
                if event_type in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
                    resource_version = str(obj.get("metadata", {}).get("resourceVersion", resource_version))
                    delays.reset()
                    if event_type != "BOOKMARK":
                        yield Changed(event_type, obj)
                else:
                    log.warning("unknown watch event type; skipped", extra={"path": path, "type": event_type})
                if stop.is_set():
                    return
        except ApiGoneError:
            log.info("watch expired (410); listing again", extra={"path": path})
            return
        except ApiError as error:
            delay = delays.next_delay(error)
            log.warning("watch broke; resuming", extra={"path": path, "error": str(error), "delay": delay})
            stop.wait(delay)
