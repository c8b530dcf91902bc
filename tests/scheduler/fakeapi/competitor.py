"""A competing scheduler inside the fake API: it binds pending pods of a given schedulerName itself,
racing the scheduler under test for the same pods (our bindings then meet 409 Conflict).

It places a pod only where the fake kubelet would admit it given what is bound at that instant, so
any over-commit the kubelet later reports is the scheduler under test's doing.
"""

from __future__ import annotations

import random
import threading

from .cluster import ApiFailureError, FakeCluster

COMPETITOR = "competitor"


class CompetingScheduler:
    """Every `interval` seconds, binds each pending pod of `scheduler_name` with probability `share`."""

    def __init__(
        self,
        cluster: FakeCluster,
        *,
        scheduler_name: str,
        share: float = 0.3,
        interval: float = 0.01,
        seed: int = 0,
    ) -> None:
        self._cluster = cluster
        self._scheduler_name = scheduler_name
        self._share = share
        self._interval = interval
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="competitor", daemon=True)
        self.bound = 0

    def start(self) -> CompetingScheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            for pod in self._cluster.pending_pods(self._scheduler_name):
                if self._random.random() < self._share:
                    self._try_bind(pod)

    def _try_bind(self, pod: dict[str, object]) -> None:
        cluster = self._cluster
        with cluster.cond:
            candidates = [
                node
                for node in cluster.objects["nodes"].values()
                if not node["spec"].get("unschedulable")
                and not any(
                    t.get("effect") in ("NoSchedule", "NoExecute") for t in node["spec"].get("taints") or []
                )
                and cluster.shortage(pod, node) is None
            ]
            if not candidates:
                return
            node = self._random.choice(candidates)
            meta = pod["metadata"]
            assert isinstance(meta, dict)
            binding = {
                "metadata": {"name": meta["name"], "uid": meta["uid"]},
                "target": {"name": node["metadata"]["name"]},
            }
            try:
                cluster.bind(meta["namespace"], meta["name"], binding, by=COMPETITOR)
            except ApiFailureError:
                return
            self.bound += 1
