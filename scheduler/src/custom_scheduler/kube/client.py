"""The one place that talks HTTP to the Kubernetes API, through the official `kubernetes` client.

Everything above this module sees plain JSON dicts and the package's own exception tree
(`custom_scheduler.errors.ApiError` and its subclasses); nothing else imports `kubernetes`.
Requests go through the client's low-level `param_serialize`/`call_api` pair and the bodies are
parsed with orjson: the typed models are slow to build (python-client #1921) and cannot read the
`Status` a successful Binding returns (python-client #547).

Responses carrying `Retry-After` (429, and 5xx sent by a throttling apiserver) are retried here,
honouring the header, as client-go does: the server has not acted on such a request, so even a POST
is safe to repeat.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from custom_scheduler.errors import (
    ApiConflictError,
    ApiError,
    ApiForbiddenError,
    ApiGoneError,
    ApiInvalidError,
    ApiNotFoundError,
    ApiServerError,
    ApiTooManyRequestsError,
    ApiUnavailableError,
    KubeconfigError,
)

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

DEFAULT_REQUEST_TIMEOUT_SECONDS: Final = 30.0
"""Deadline of one ordinary request (not a watch); a hung apiserver must not stall a worker forever."""
WATCH_READ_SLACK_SECONDS: Final = 30.0
"""A watch stream silent for `timeoutSeconds` plus this long is treated as dead and reconnected."""
MAX_RETRY_AFTER_ATTEMPTS: Final = 10
"""client-go retries a response carrying Retry-After at most 10 times."""
MAX_RETRY_AFTER_SECONDS: Final = 10.0
"""Cap on a server's Retry-After so a bogus header cannot park a worker for minutes."""
RETRY_POLL_SECONDS: Final = 0.1
"""A Retry-After pause with a `should_continue` check is slept in slices this long, so a caller that must
stop (leadership lost, shutting down) is not held for the rest of the pause."""
CONNECTION_POOL_SIZE: Final = 32
"""Keep-alive connections to the apiserver: the binder and event pools run in parallel."""
CONNECT_RETRIES: Final = 3
"""Immediate retries of a connection that could not be opened (nothing was sent, so always safe)."""
ERROR_TEXT_MAX: Final = 256
"""Longest slice of an error body kept in an exception (kopf's TEXT_ERROR_MAX_SIZE): logs stay readable."""

MERGE_PATCH: Final = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH: Final = "application/strategic-merge-patch+json"

_STATUS_TO_ERROR: Final[Mapping[int, type[ApiError]]] = {
    403: ApiForbiddenError,
    404: ApiNotFoundError,
    409: ApiConflictError,
    410: ApiGoneError,
    422: ApiInvalidError,
}


def resolve_kubeconfig(explicit: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The kubeconfig to use: `--kubeconfig`, else `$KUBECONFIG`, else None (in-cluster).

    `$KUBECONFIG` is kept whole (empty entries dropped): the kubernetes library splits it on
    `os.pathsep`, skips missing files and merges the rest, as kubectl does."""
    if explicit:
        return explicit
    env = os.environ if environ is None else environ
    entries = [entry for entry in env.get("KUBECONFIG", "").split(os.pathsep) if entry]
    return os.pathsep.join(entries) or None


def load_configuration(kubeconfig: str | None) -> k8s_client.Configuration:
    """Client configuration from a kubeconfig file, or from the pod's service account when None."""
    configuration = k8s_client.Configuration()
    try:
        if kubeconfig is None:
            k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=kubeconfig, client_configuration=configuration
            )
    except (ConfigException, OSError) as error:
        where = kubeconfig or "in-cluster service account (no --kubeconfig, no $KUBECONFIG)"
        raise KubeconfigError(f"cannot load Kubernetes client config from {where}: {error}") from None
    configuration.connection_pool_maxsize = CONNECTION_POOL_SIZE
    # Only connection failures are retried by urllib3 (the request never left); status codes and
    # Retry-After are handled once, in KubeClient.request, and a lost answer is the caller's to judge.
    configuration.retries = urllib3.Retry(
        total=CONNECT_RETRIES,
        connect=CONNECT_RETRIES,
        read=0,
        redirect=0,
        status=0,
        other=0,
        respect_retry_after_header=False,
    )
    return configuration


@dataclass(frozen=True, slots=True)
class Response:
    """A decoded successful response: HTTP status and JSON body."""

    status: int
    body: JsonObject


class KubeClient:
    """JSON-in, JSON-out access to the API server; raises only `ApiError` subclasses.

    Thread-safe: the underlying urllib3 pool is shared by the scheduling, binding and watch threads.
    `sleep` and `clock` are the seams tests use to observe Retry-After handling without waiting.
    """

    def __init__(
        self,
        configuration: k8s_client.Configuration,
        *,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = k8s_client.ApiClient(configuration)
        self._api.user_agent = "custom-scheduler"
        self._timeout = request_timeout
        self._sleep = sleep
        self._clock = clock

    @classmethod
    def from_kubeconfig(cls, kubeconfig: str | None) -> KubeClient:
        """A client for `--kubeconfig`, else `$KUBECONFIG`, else the in-cluster service account."""
        return cls(load_configuration(resolve_kubeconfig(kubeconfig)))

    @property
    def host(self) -> str:
        """The API server URL this client talks to."""
        return str(self._api.configuration.host)

    def close(self) -> None:
        """Release pooled connections."""
        self._api.rest_client.close()

    def get(self, path: str, *, query: Mapping[str, str] | None = None) -> JsonObject:
        """GET a resource or a list."""
        return self.request("GET", path, query=query).body

    def post(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        should_continue: Callable[[], bool] | None = None,
        budget_seconds: float | None = None,
    ) -> Response:
        """POST a new object (or a subresource such as a Binding); returns status and body.

        `should_continue` and `budget_seconds` bound the Retry-After retries, as in `request`."""
        return self.request(
            "POST", path, body=body, should_continue=should_continue, budget_seconds=budget_seconds
        )

    def put(self, path: str, body: Mapping[str, Any]) -> JsonObject:
        """PUT (replace) an object; the body's metadata.resourceVersion makes it conditional."""
        return self.request("PUT", path, body=body).body

    def patch(
        self, path: str, body: Mapping[str, Any], *, content_type: str = STRATEGIC_MERGE_PATCH
    ) -> JsonObject:
        """PATCH an object or subresource (strategic merge by default, like kube-scheduler)."""
        return self.request("PATCH", path, body=body, content_type=content_type).body

    def delete(self, path: str) -> JsonObject:
        """DELETE an object."""
        return self.request("DELETE", path).body

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
        should_continue: Callable[[], bool] | None = None,
        budget_seconds: float | None = None,
    ) -> Response:
        """One request, retried only while the server answers with Retry-After.

        `should_continue` is asked before each Retry-After pause, during it, and before each resend:
        once it says False the last answer is raised instead (the server did not act on any attempt).
        `budget_seconds` caps the whole request, retries and pauses included: no pause or resend goes
        past it, and each attempt's timeout is cut to what is left of it."""
        deadline = None if budget_seconds is None else self._clock() + budget_seconds
        for attempt in range(MAX_RETRY_AFTER_ATTEMPTS + 1):
            timeout = (
                None
                if deadline is None
                else min(self._timeout, max(deadline - self._clock(), RETRY_POLL_SECONDS))
            )
            raw = self._send(method, path, query=query, body=body, content_type=content_type, timeout=timeout)
            try:
                data = raw.read()
            except urllib3.exceptions.HTTPError as error:
                raise ApiUnavailableError(f"{method} {path}: response lost: {error}") from None
            finally:
                raw.release_conn()
            if raw.status < 400:
                return Response(raw.status, _decode(data))
            failure = _error_for(raw.status, data, raw.headers, what=f"{method} {path}")
            delay = failure.retry_after
            if delay is None or attempt == MAX_RETRY_AFTER_ATTEMPTS:
                raise failure
            if deadline is not None and self._clock() + delay >= deadline:
                raise failure
            log.info(
                "API throttled; retrying",
                extra={"path": path, "status": raw.status, "delay": delay},
            )
            if not self._pause(delay, should_continue):
                raise failure
        raise AssertionError("unreachable")

    def _pause(self, delay: float, should_continue: Callable[[], bool] | None) -> bool:
        """Sleep `delay` before a resend; False (at once) when `should_continue` says to give up."""
        if should_continue is None:
            self._sleep(delay)
            return True
        remaining = delay
        while should_continue():
            if remaining <= 0:
                return True
            step = min(remaining, RETRY_POLL_SECONDS)
            self._sleep(step)
            remaining -= step
        return False

    def watch(self, path: str, *, query: Mapping[str, str], timeout_seconds: int) -> Iterator[JsonObject]:
        """Stream a watch: one decoded `{"type", "object"}` dict per line until the server ends it.

        Raises `ApiGoneError` when the server refuses the resourceVersion with HTTP 410 up front; a 410 that
        arrives inside the stream is an `ERROR` event, passed on like any other for the caller to judge.
        """
        params = {**query, "watch": "true", "timeoutSeconds": str(timeout_seconds)}
        raw = self._send("GET", path, query=params, read_timeout=timeout_seconds + WATCH_READ_SLACK_SECONDS)
        try:
            if raw.status >= 400:
                raise _error_for(raw.status, raw.read(), raw.headers, what=f"WATCH {path}")
            buffer = b""
            while True:
                chunk = raw.read1(65536)
                if not chunk:
                    return
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield _decode(line)
        except urllib3.exceptions.HTTPError as error:
            raise ApiUnavailableError(f"WATCH {path}: stream broken: {error}") from None
        finally:
            raw.release_conn()

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
        read_timeout: float | None = None,
        timeout: float | None = None,
    ) -> urllib3.BaseHTTPResponse:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        _, url, headers, serialized, _ = self._api.param_serialize(
            method,
            path,
            query_params=list(query.items()) if query else None,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        request_timeout: float | tuple[float, float] = self._timeout if timeout is None else timeout
        if read_timeout is not None:
            request_timeout = (self._timeout, read_timeout)
        try:
            response = self._api.call_api(
                method, url, header_params=headers, body=serialized, _request_timeout=request_timeout
            )
        except (urllib3.exceptions.HTTPError, ApiException, OSError) as error:
            raise ApiUnavailableError(f"{method} {path}: {error}") from None
        raw: urllib3.BaseHTTPResponse = response.response
        return raw


def _decode(data: bytes) -> JsonObject:
    try:
        decoded = orjson.loads(data) if data else {}
    except orjson.JSONDecodeError as error:
        raise ApiServerError(f"API answered with invalid JSON: {error}", status=200) from None
    if not isinstance(decoded, dict):
        raise ApiServerError("API answered with JSON that is not an object", status=200)
    return decoded


def _error_for(status: int, data: bytes, headers: Mapping[str, str], *, what: str) -> ApiError:
    """Map an HTTP error response to the package's exception tree."""
    text = f"{what}: HTTP {status}: {_status_message(data)}"
    return _classify(status, text, _retry_after(headers.get("Retry-After")))


def error_from_status(status: Mapping[str, Any], *, what: str) -> ApiError:
    """Map a `Status` object (e.g. the object of a watch `ERROR` event) to the package's exception tree."""
    code = status.get("code")
    code = code if isinstance(code, int) else 0
    return _classify(code, f"{what}: {code}: {str(status.get('message', ''))[:ERROR_TEXT_MAX]}", None)


def _classify(code: int, text: str, retry_after: float | None) -> ApiError:
    """The one mapping from an HTTP status code to an exception class."""
    if code == 429:
        return ApiTooManyRequestsError(
            text, status=code, retry_after=retry_after if retry_after is not None else 1.0
        )
    if code >= 500:
        return ApiServerError(text, status=code, retry_after=retry_after)
    return _STATUS_TO_ERROR.get(code, ApiError)(text, status=code)


def _status_message(data: bytes) -> str:
    try:
        decoded = orjson.loads(data)
    except orjson.JSONDecodeError:
        return data[:ERROR_TEXT_MAX].decode("utf-8", errors="replace")
    if isinstance(decoded, dict) and isinstance(decoded.get("message"), str):
        return str(decoded["message"])[:ERROR_TEXT_MAX]
    return data[:ERROR_TEXT_MAX].decode("utf-8", errors="replace")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
