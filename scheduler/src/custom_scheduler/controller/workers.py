"""A small pool of daemon worker threads for the binder and the event recorder.

`concurrent.futures.ThreadPoolExecutor` joins its (non-daemon) threads when the interpreter exits, so
one request hanging on a slow API server would hold a stopping scheduler for as long as the request's
timeout and retries last. These workers are daemon threads: the controller decides how long to wait for
them (`Binder.shutdown`), and after that the process exits without joining them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import Any


class DaemonPool:
    """`workers` daemon threads running submitted calls in order; each call gets a Future."""

    def __init__(self, workers: int, *, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}_{index}", daemon=True)
            for index in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        """Run `fn(*args)` on a worker; after `shutdown` the returned Future is already cancelled."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                future.cancel()
                return future
            self._jobs.put((future, partial(fn, *args)))
        return future

    def shutdown(self) -> None:
        """Take no more work and cancel what has not started; running calls go on, and are not joined."""
        with self._lock:
            self._closed = True
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].cancel()
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, call = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = call()
            except BaseException as error:  # handed to the Future, as ThreadPoolExecutor does
                future.set_exception(error)
            else:
                future.set_result(result)
