"""Fault injection for the fake API: error answers (500, 429 with Retry-After, ...), lost responses and
latency, matched by method and path. Watch-stream faults live on the cluster (drop, expire)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field


@dataclass
class FaultRule:
    """Answer matching requests with `status` (or lose the response after acting on the request), or,
    with `hold`, keep them waiting until the event is set and then serve them normally.

    `times` bounds how often it fires (None: forever); `every` fires on every n-th match only.
    """

    method: str | None
    path: re.Pattern[str]
    status: int = 500
    retry_after: float | None = None
    lose_response: bool = False
    times: int | None = None
    every: int = 1
    seen: int = 0
    fired: int = 0
    hold: threading.Event | None = None


@dataclass
class Faults:
    """The active fault rules and latency, consulted by the server for every API request."""

    latency_seconds: float = 0.0
    rules: list[FaultRule] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(
        self,
        *,
        path: str,
        method: str | None = None,
        status: int = 500,
        retry_after: float | None = None,
        times: int | None = None,
        every: int = 1,
    ) -> FaultRule:
        """Answer requests whose path matches the regex `path` with an error status."""
        rule = FaultRule(method, re.compile(path), status, retry_after, False, times, every)
        with self.lock:
            self.rules.append(rule)
        return rule

    def lose_responses(self, *, path: str, method: str | None = None, times: int | None = None) -> FaultRule:
        """Act on matching requests, then drop the connection without answering."""
        rule = FaultRule(method, re.compile(path), lose_response=True, times=times)
        with self.lock:
            self.rules.append(rule)
        return rule

    def hold(self, *, path: str, method: str | None = None, times: int | None = None) -> FaultRule:
        """Keep matching requests waiting (the client sees no answer) until `rule.hold.set()`, then serve
        them as usual. Set it before the server stops."""
        rule = FaultRule(method, re.compile(path), times=times, hold=threading.Event())
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
            self.latency_seconds = 0.0

    def match(self, method: str, path: str) -> FaultRule | None:
        """The first rule that fires for this request, counting it."""
        with self.lock:
            for rule in self.rules:
                if (rule.method is not None and rule.method != method) or not rule.path.search(path):
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                rule.seen += 1
                if rule.seen % rule.every:
                    continue
                rule.fired += 1
                return rule
        return None
