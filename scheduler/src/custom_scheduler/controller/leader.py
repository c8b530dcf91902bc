"""Lease leader election, as client-go's leaderelection package does it.

- The identity is `<hostname>_<random UUID>`, unique per process even for two replicas on one host.
- A candidate takes the Lease when it is free, or when its holder has not renewed it for
  `leaseDurationSeconds` *as observed on this process's own clock* (never trusting another machine's
  renewTime, so clock skew cannot steal a lease).
- Every write is an update carrying the Lease's resourceVersion, so of two candidates only one wins.
- The leader renews every `retryPeriodSeconds`. `is_leader()` is true only until the last successful
  renewal plus `renewDeadlineSeconds` (shorter than the lease duration), so a leader cut off from the API
  stops scheduling by itself before anyone else may take over, even while a renewal request hangs; a
  leader that reads another holder in the Lease stops at once.
- On shutdown the leader releases the Lease (empty holder), so a standby takes over at once, unless
  bindings may still be in flight: then the Lease is left to expire (`keep_lease_on_stop`).

Durations come from the validated config (`leaderElection.*`: lease > renew deadline > 1.2 x retry).
"""

from __future__ import annotations

import logging
import math
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Final

from custom_scheduler.config import LeaderElection
from custom_scheduler.errors import ApiError, ApiNotFoundError
from custom_scheduler.kube import paths
from custom_scheduler.kube.client import JsonObject, KubeClient
from custom_scheduler.kube.timefmt import micro_time_now

log = logging.getLogger(__name__)


RETRY_JITTER: Final = 1.2
"""client-go's JitterFactor: candidates retry at retryPeriod * [1, 1.2) so they do not move in lockstep."""


def new_identity() -> str:
    """kube-scheduler's leader-election identity: hostname, underscore, random UUID."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


class AlwaysLeader:
    """`--no-leader-elect`: a single replica that always schedules."""

    identity: Final = "no-leader-election"

    def is_leader(self) -> bool:
        return True


class LeaderElector:
    """Acquires and renews one Lease; `run` loops until `stop`, then releases the Lease if held."""

    def __init__(
        self,
        client: KubeClient,
        *,
        namespace: str,
        name: str,
        timing: LeaderElection,
        identity: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.identity = identity or new_identity()
        self._client = client
        self._namespace = namespace
        self._name = name
        self._lease_duration = float(timing.lease_duration_seconds)
        self._renew_deadline = float(timing.renew_deadline_seconds)
        self._retry_period = float(timing.retry_period_seconds)
        self._clock = clock
        self._on_change = on_change
        self._renewed_at: float | None = None
        self._observed: tuple[str, str] | None = None
        self._observed_at = 0.0
        self._was_leader = False
        self._release_on_stop = True

    def is_leader(self) -> bool:
        """True while the last renewal is younger than the renew deadline."""
        renewed = self._renewed_at
        return renewed is not None and self._clock() < renewed + self._renew_deadline

    def run(self, stop: threading.Event) -> None:
        """Campaign and renew until `stop`; then release the Lease if this process holds it, unless
        `keep_lease_on_stop` was called."""
        while not stop.is_set():
            self.try_acquire_or_renew()
            self._notice_change()
            period = (
                self._retry_period
                if self.is_leader()
                else self._retry_period * random.uniform(1.0, RETRY_JITTER)
            )
            stop.wait(period)
        if self._release_on_stop:
            self.release()
        else:
            log.info("lease left to expire", extra={"lease": paths.lease(self._namespace, self._name)})

    def keep_lease_on_stop(self) -> None:
        """On stop, do not release the Lease: let it expire. For a shutdown that leaves bindings in
        flight, so no successor decides while they may still land."""
        self._release_on_stop = False

    def try_acquire_or_renew(self) -> bool:
        """One round of client-go's tryAcquireOrRenew; True when this process holds the Lease now."""
        started = self._clock()
        now = micro_time_now()
        path = paths.lease(self._namespace, self._name)
        try:
            lease = self._client.get(path)
        except ApiNotFoundError:
            return self._create(now, started)
        except ApiError as error:
            log.warning("lease read failed", extra={"lease": path, "error": str(error)})
            return False
        spec = lease.get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        record = (holder, str(spec.get("renewTime") or ""))
        if record != self._observed:
            self._observed = record
            self._observed_at = self._clock()
        if holder and holder != self.identity:
            self._renewed_at = None  # someone else holds it: stop leading now, not at the renew deadline
            if self._observed_at + self._lease_duration > self._clock():
                return False
        transitions = int(spec.get("leaseTransitions") or 0)
        new_spec = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": math.ceil(self._lease_duration),
            "acquireTime": spec.get("acquireTime") if holder == self.identity else now,
            "renewTime": now,
            "leaseTransitions": transitions if holder == self.identity else transitions + 1,
        }
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {**lease.get("metadata", {}), "name": self._name, "namespace": self._namespace},
            "spec": new_spec,
        }
        try:
            self._client.put(path, body)
        except ApiError as error:
            log.info("lease not renewed", extra={"lease": path, "error": str(error)})
            return False
        self._succeeded(new_spec, started)
        return True

    def release(self) -> None:
        """Give the Lease up (empty holder) if this process still holds it."""
        if not self.is_leader():
            return
        path = paths.lease(self._namespace, self._name)
        self._renewed_at = None
        try:
            lease = self._client.get(path)
            if (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return
            now = micro_time_now()
            lease["spec"] = {
                **lease["spec"],
                "holderIdentity": "",
                "leaseDurationSeconds": 1,
                "acquireTime": now,
                "renewTime": now,
            }
            self._client.put(path, lease)
            log.info("lease released", extra={"lease": path})
        except ApiError as error:
            log.warning("lease not released; it will expire", extra={"lease": path, "error": str(error)})
        self._notice_change()

    def _create(self, now: str, started: float) -> bool:
        spec = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": math.ceil(self._lease_duration),
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": 0,
        }
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self._name, "namespace": self._namespace},
            "spec": spec,
        }
        try:
            self._client.post(paths.leases(self._namespace), body)
        except ApiError as error:
            log.info("lease not created", extra={"lease": self._name, "error": str(error)})
            return False
        self._succeeded(spec, started)
        return True

    def _succeeded(self, spec: JsonObject, started: float) -> None:
        """Count the lease from before the request was sent: the server may have written it any time since."""
        self._renewed_at = started
        self._observed = (self.identity, str(spec["renewTime"]))
        self._observed_at = self._renewed_at

    def _notice_change(self) -> None:
        leader = self.is_leader()
        if leader != self._was_leader:
            self._was_leader = leader
            log.info("leadership changed", extra={"identity": self.identity, "leader": leader})
            if self._on_change is not None:
                self._on_change(leader)
