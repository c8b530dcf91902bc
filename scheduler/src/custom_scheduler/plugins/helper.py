"""Helpers shared by plugins: caches of per-pod-shape results."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Final, Generic, TypeVar

from custom_scheduler.cluster import Cluster

V = TypeVar("V")
_CACHE_LIMIT: Final = 1024


class ShapeCache(Generic[V]):
    """Results that depend only on a pod's shape (tolerations, selectors, ...) and on the nodes' labels
    and taints: identical pods are common, so each shape is computed once per node version.

    Cached arrays are shared; callers must not modify them.
    """

    def __init__(self) -> None:
        self._version = -1
        self._entries: dict[Hashable, V] = {}

    def get(self, cluster: Cluster, key: Hashable, compute: Callable[[], V]) -> V:
        if cluster.node_version != self._version or len(self._entries) >= _CACHE_LIMIT:
            self._entries.clear()
            self._version = cluster.node_version
        if key not in self._entries:
            self._entries[key] = compute()
        return self._entries[key]
