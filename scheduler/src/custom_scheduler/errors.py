"""The scheduler's exception tree, drawn once so callers know what to catch.

    SchedulerError              base of everything this package raises on purpose
    ├── ConfigError             the scheduler config file is invalid (one line per problem)
    ├── InputError              a simulate input file or object is invalid (one line per problem)
    ├── KubeconfigError         no usable Kubernetes client config (--kubeconfig, $KUBECONFIG, in-cluster)
    └── ApiError                the Kubernetes API refused or failed a request (``status``, ``retry_after``)
        ├── ApiUnavailableError     no HTTP answer: connection refused or reset, timeout, response lost
        ├── ApiServerError          5xx: the server failed; the request may or may not have taken effect
        ├── ApiTooManyRequestsError 429: throttled; ``retry_after`` says when to come back
        ├── ApiForbiddenError       403: RBAC does not allow this request
        ├── ApiNotFoundError        404: the object (or the whole API, e.g. metrics.k8s.io) is not there
        ├── ApiConflictError        409: exists already, bound already, precondition or version mismatch
        ├── ApiGoneError            410: the resourceVersion is too old; list again
        └── ApiInvalidError         422: the server rejected the object as invalid

ConfigError and InputError carry ``problems``: human-readable lines, each naming the file and the path
of the bad value. The CLI prints them one per line and exits with code 2, never with a traceback.

The ``Api*`` classes are raised only by ``custom_scheduler.kube.client``, which maps the ``kubernetes``
client's exceptions and HTTP statuses onto them once, so no other module knows that library's errors.
"""

from __future__ import annotations

from collections.abc import Sequence


class SchedulerError(Exception):
    """Base class of the errors the scheduler raises deliberately."""


class _ProblemsError(SchedulerError):
    """An error made of one or more independent problems, each a complete line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))


class ConfigError(_ProblemsError):
    """The scheduler configuration is invalid; ``problems`` lists every bad value with its path."""


class InputError(_ProblemsError):
    """A simulate input file or object is invalid; ``problems`` names the file and the object."""


class KubeconfigError(SchedulerError):
    """No usable Kubernetes client configuration was found; the message says where it looked."""


class ApiError(SchedulerError):
    """The Kubernetes API answered with an error, or not at all.

    ``status`` is the HTTP status (0 when there was no answer); ``retry_after`` is the delay in seconds
    the server asked for with a ``Retry-After`` header, if any.
    """

    def __init__(self, message: str, *, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class ApiUnavailableError(ApiError):
    """No HTTP answer: the connection failed, timed out, or broke before the response was read."""


class ApiServerError(ApiError):
    """The server failed (5xx); a write may or may not have been applied."""


class ApiTooManyRequestsError(ApiError):
    """The server throttled the request (429); come back after ``retry_after`` seconds."""


class ApiForbiddenError(ApiError):
    """RBAC does not allow the request (403)."""


class ApiNotFoundError(ApiError):
    """The object, or the API group, does not exist (404)."""


class ApiConflictError(ApiError):
    """The request conflicts with the object's current state (409)."""


class ApiGoneError(ApiError):
    """The requested resourceVersion has been compacted away (410); list again."""


class ApiInvalidError(ApiError):
    """The server rejected the object as invalid (422)."""
