"""The watch layers: continuous_watch (list, then watch from resourceVersion; 410 ends it) and
infinite_watch (relists and reconnects forever), first against scripted streams, then over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from custom_scheduler import errors
from custom_scheduler.kube import paths
from custom_scheduler.kube.client import KubeClient
from custom_scheduler.kube.watch import Backoff, Changed, Listed, WatchEvent, continuous_watch, infinite_watch

from tests.scheduler.controller.support import our_pod
from tests.scheduler.fakeapi import FakeApiServer

NO_DELAY = (0.0,)


def obj(name: str, rv: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": rv}}


def gone() -> dict[str, Any]:
    return {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version"}}


class ScriptedSource:
    """A WatchSource replaying scripted lists and streams; records the resourceVersion of each watch.

    A stream item that is an exception is raised at that point (a broken connection).
    """

    def __init__(self, lists: list[Any], streams: list[list[Any]], stop: threading.Event) -> None:
        self.lists = lists
        self.streams = streams
        self.stop = stop
        self.watched_from: list[str] = []

    def get(self, path: str, *, query: Mapping[str, str] | None = None) -> dict[str, Any]:
        item = self.lists.pop(0)
        if isinstance(item, Exception):
            raise item
        return dict(item)

    def watch(self, path: str, *, query: Mapping[str, str], timeout_seconds: int) -> Iterator[dict[str, Any]]:
        self.watched_from.append(query["resourceVersion"])
        if not self.streams:
            self.stop.set()
            return
        for item in self.streams.pop(0):
            if isinstance(item, Exception):
                raise item
            yield item


def listing(rv: str, *names: str) -> dict[str, Any]:
    return {"metadata": {"resourceVersion": rv}, "items": [obj(name, rv) for name in names]}


def summary(events: list[WatchEvent]) -> list[str]:
    return [
        f"listed {','.join(i['metadata']['name'] for i in e.items)}@{e.resource_version}"
        if isinstance(e, Listed)
        else f"{e.type} {e.obj['metadata']['name']}"
        for e in events
    ]


def test_lists_then_watches_from_the_list_resource_version() -> None:
    stop = threading.Event()
    source = ScriptedSource(
        [listing("10", "a")],
        [[{"type": "ADDED", "object": obj("b", "11")}, {"type": "DELETED", "object": obj("a", "12")}]],
        stop,
    )
    events = list(continuous_watch(source, "/x", stop=stop, backoff=NO_DELAY))
    assert summary(events) == ["listed a@10", "ADDED b", "DELETED a"]
    assert source.watched_from == ["10", "12"]


def test_bookmarks_advance_the_resource_version_without_an_event() -> None:
    stop = threading.Event()
    bookmark = {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "50"}}}
    source = ScriptedSource([listing("10")], [[bookmark]], stop)
    assert summary(list(continuous_watch(source, "/x", stop=stop, backoff=NO_DELAY))) == ["listed @10"]
    assert source.watched_from == ["10", "50"]


def test_a_broken_stream_resumes_from_the_last_resource_version_without_relisting() -> None:
    stop = threading.Event()
    broken = errors.ApiUnavailableError("connection reset")
    source = ScriptedSource(
        [listing("10")],
        [
            [{"type": "ADDED", "object": obj("b", "11")}, broken],
            [{"type": "ADDED", "object": obj("c", "12")}],
        ],
        stop,
    )
    events = list(continuous_watch(source, "/x", stop=stop, backoff=NO_DELAY))
    assert summary(events) == ["listed @10", "ADDED b", "ADDED c"]
    assert source.watched_from == ["10", "11", "12"]


@pytest.mark.parametrize(
    "expiry",
    [
        pytest.param([gone()], id="error-event-410"),
        pytest.param([errors.ApiGoneError("too old", status=410)], id="http-410"),
    ],
)
def test_410_ends_the_watch_and_infinite_watch_lists_again(expiry: list[Any]) -> None:
    stop = threading.Event()
    source = ScriptedSource(
        [listing("10", "a"), listing("20", "b")],
        [[{"type": "ADDED", "object": obj("x", "11")}, *expiry]],
        stop,
    )
    events = list(infinite_watch(source, "/x", stop=stop, backoff=NO_DELAY))
    assert summary(events) == ["listed a@10", "ADDED x", "listed b@20"]
    assert source.watched_from == ["10", "20"]


def test_unknown_event_types_are_skipped() -> None:
    stop = threading.Event()
    source = ScriptedSource([listing("1")], [[{"type": "WEIRD", "object": obj("w", "2")}]], stop)
    assert summary(list(continuous_watch(source, "/x", stop=stop, backoff=NO_DELAY))) == ["listed @1"]


def test_other_error_events_resume_the_watch() -> None:
    stop = threading.Event()
    error = {"type": "ERROR", "object": {"kind": "Status", "code": 500, "message": "etcd hiccup"}}
    source = ScriptedSource([listing("1")], [[error], [{"type": "ADDED", "object": obj("a", "2")}]], stop)
    assert summary(list(continuous_watch(source, "/x", stop=stop, backoff=NO_DELAY))) == [
        "listed @1",
        "ADDED a",
    ]
    assert source.watched_from == ["1", "1", "2"]


def test_a_failed_list_is_retried() -> None:
    stop = threading.Event()
    source = ScriptedSource([errors.ApiServerError("boom", status=500), listing("5", "a")], [], stop)
    assert summary(list(infinite_watch(source, "/x", stop=stop, backoff=NO_DELAY))) == ["listed a@5"]


@pytest.mark.parametrize(
    ("delays", "retry_after", "want"),
    [
        pytest.param((1.0, 2.0), None, [1.0, 2.0, 2.0], id="last-delay-repeats"),
        pytest.param((1.0,), 5.0, [5.0, 5.0, 5.0], id="retry-after-wins-when-longer"),
    ],
)
def test_backoff_sequence(delays: tuple[float, ...], retry_after: float | None, want: list[float]) -> None:
    backoff = Backoff(delays)
    error = errors.ApiTooManyRequestsError("slow down", status=429, retry_after=retry_after)
    assert [backoff.next_delay(error) for _ in want] == want


def collect(client: KubeClient, stop: threading.Event) -> list[WatchEvent]:
    """Run infinite_watch over HTTP in a daemon thread, collecting its events."""
    events: list[WatchEvent] = []

    def run() -> None:
        events.extend(infinite_watch(client, paths.PODS, stop=stop, backoff=(0.05,)))

    threading.Thread(target=run, daemon=True).start()
    return events


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.02)


def names(events: list[WatchEvent]) -> list[str]:
    return [e.obj["metadata"]["name"] for e in events if isinstance(e, Changed) and e.type == "ADDED"]


def test_over_http_a_dropped_stream_loses_no_event_and_410_relists(
    fake_api: FakeApiServer, client: KubeClient
) -> None:
    stop = threading.Event()
    events = collect(client, stop)
    wait_for(lambda: any(isinstance(e, Listed) for e in events))
    fake_api.cluster.create("pods", our_pod("a"))
    wait_for(lambda: "a" in names(events))
    fake_api.cluster.drop_watches()
    fake_api.cluster.create("pods", our_pod("b"))
    wait_for(lambda: "b" in names(events))
    fake_api.cluster.expire_watches()
    wait_for(lambda: sum(isinstance(e, Listed) for e in events) == 2)
    fake_api.cluster.create("pods", our_pod("c"))
    wait_for(lambda: "c" in names(events))
    stop.set()
    assert names(events) == ["a", "b", "c"]
    relisted = [e for e in events if isinstance(e, Listed)][-1]
    assert sorted(item["metadata"]["name"] for item in relisted.items) == ["a", "b"]
