"""The scheduler configuration: one typed, validated model for the scheduler and the Pulumi program.

The YAML file (mounted from a ConfigMap) is in the spirit of KubeSchedulerConfiguration; every key has a
default, unknown keys are errors, and every problem is reported with its path, not only the first:

    config.yaml: leaderElection.renewDeadlineSeconds: must be less than leaseDurationSeconds (15)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal, Self

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from custom_scheduler.errors import ConfigError
from custom_scheduler.plugins import names
from custom_scheduler.validation import (
    is_dns1123_label,
    is_dns1123_subdomain,
    is_label_value,
    is_qualified_name,
)

API_VERSION: Final = "kubevps.dev/v1alpha1"
KIND: Final = "SchedulerConfiguration"
DEFAULT_SCHEDULER_NAME: Final = "custom-scheduler"
BUSINESS_LINE_LABEL: Final = "kubevps.dev/business-line"
_LEADER_ELECTION_JITTER: Final = 1.2  # client-go's JitterFactor: renewDeadline must exceed retryPeriod * 1.2


def _dns1123_subdomain(text: str) -> str:
    if not is_dns1123_subdomain(text):
        raise ValueError(f"{text!r} is not a DNS-1123 subdomain (lower-case alphanumerics, '-' and '.')")
    return text


def _dns1123_label(text: str) -> str:
    if not is_dns1123_label(text):
        raise ValueError(f"{text!r} is not a DNS-1123 label (lower-case alphanumerics and '-')")
    return text


def _label_key(text: str) -> str:
    if not is_qualified_name(text):
        raise ValueError(f"{text!r} is not a valid label key (e.g. 'kubevps.dev/business-line')")
    return text


def _label_value(text: str) -> str:
    if not is_label_value(text):
        raise ValueError(f"{text!r} is not a valid label value")
    return text


def _in_range(low: float, high: float) -> AfterValidator:
    def check(number: float) -> float:
        if not low <= number <= high:
            raise ValueError(f"{number} not in valid range [{low:g}, {high:g}]")
        return number

    return AfterValidator(check)


def _positive(number: float) -> float:
    if number <= 0:
        raise ValueError(f"{number} must be greater than 0")
    return number


Weight = Annotated[StrictInt, _in_range(0, 100)]
Percent = Annotated[StrictInt | StrictFloat, _in_range(1, 100)]
Seconds = Annotated[StrictInt | StrictFloat, AfterValidator(_positive)]
DnsSubdomain = Annotated[str, AfterValidator(_dns1123_subdomain)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Weights(_Model):
    """Score plugin weights (0 disables a plugin); the total is the weighted sum of 0-100 scores."""

    node_load: Weight = Field(5, alias=names.NODE_LOAD)
    taint_toleration: Weight = Field(3, alias=names.TAINT_TOLERATION)
    node_affinity: Weight = Field(2, alias=names.NODE_AFFINITY)
    least_allocated: Weight = Field(1, alias=names.LEAST_ALLOCATED)
    balanced_allocation: Weight = Field(1, alias=names.BALANCED_ALLOCATION)
    network_bandwidth: Weight = Field(1, alias=names.NETWORK_BANDWIDTH)
    business_priority: Weight = Field(1, alias=names.BUSINESS_PRIORITY)

    def by_plugin(self) -> dict[str, int]:
        """The weights keyed by plugin name, in declaration order."""
        return {str(info.alias): getattr(self, field) for field, info in type(self).model_fields.items()}


class BusinessLine(_Model):
    """Business-line isolation: the label that dedicates a node, and lines allowed into the shared pool."""

    label_key: Annotated[str, AfterValidator(_label_key)] = Field(BUSINESS_LINE_LABEL, alias="labelKey")
    spill_to_shared: tuple[Annotated[str, AfterValidator(_label_value)], ...] = Field(
        (), alias="spillToShared"
    )


class LoadThreshold(_Model):
    """Optional filter: skip nodes whose measured CPU or memory use is above these percentages."""

    enabled: StrictBool = False
    cpu_percent: Percent = Field(90, alias="cpuPercent")
    memory_percent: Percent = Field(95, alias="memoryPercent")


class NodeLoad(_Model):
    """NodeMetrics older than this fall back to requests (metrics-server reports about every 15 s)."""

    metrics_max_age_seconds: Seconds = Field(120, alias="metricsMaxAgeSeconds")


class LeaderElection(_Model):
    """Lease-based leader election; durations follow kube-scheduler's defaults (15 s / 10 s / 2 s)."""

    leader_elect: StrictBool = Field(True, alias="leaderElect")
    resource_namespace: Annotated[str, AfterValidator(_dns1123_label)] = Field(
        "kube-system", alias="resourceNamespace"
    )
    resource_name: DnsSubdomain | None = Field(None, alias="resourceName")
    lease_duration_seconds: Seconds = Field(15, alias="leaseDurationSeconds")
    renew_deadline_seconds: Seconds = Field(10, alias="renewDeadlineSeconds")
    retry_period_seconds: Seconds = Field(2, alias="retryPeriodSeconds")

    @model_validator(mode="after")
    def _client_go_rules(self) -> Self:
        problems = []
        if self.renew_deadline_seconds >= self.lease_duration_seconds:
            problems.append(
                "renewDeadlineSeconds: must be less than leaseDurationSeconds "
                f"({self.lease_duration_seconds:g})"
            )
        if self.renew_deadline_seconds <= self.retry_period_seconds * _LEADER_ELECTION_JITTER:
            problems.append(
                "renewDeadlineSeconds: must be greater than retryPeriodSeconds * 1.2 "
                f"({self.retry_period_seconds * _LEADER_ELECTION_JITTER:g})"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self


class Queue(_Model):
    """Scheduling queue backoff: 1 s doubling to 10 s; unschedulable pods retried at least every 5 min."""

    pod_initial_backoff_seconds: Seconds = Field(1, alias="podInitialBackoffSeconds")
    pod_max_backoff_seconds: Seconds = Field(10, alias="podMaxBackoffSeconds")
    pod_max_in_unschedulable_pods_seconds: Seconds = Field(300, alias="podMaxInUnschedulablePodsSeconds")

    @model_validator(mode="after")
    def _max_not_below_initial(self) -> Self:
        if self.pod_max_backoff_seconds < self.pod_initial_backoff_seconds:
            raise ValueError(
                "podMaxBackoffSeconds: must not be less than podInitialBackoffSeconds "
                f"({self.pod_initial_backoff_seconds:g})"
            )
        return self


class SchedulerConfig(_Model):
    """The whole scheduler configuration; ``SchedulerConfig()`` is the built-in default."""

    api_version: Literal["kubevps.dev/v1alpha1"] | None = Field(None, alias="apiVersion")
    kind: Literal["SchedulerConfiguration"] | None = None
    scheduler_name: DnsSubdomain = Field(DEFAULT_SCHEDULER_NAME, alias="schedulerName")
    percentage_of_nodes_to_score: Annotated[StrictInt, _in_range(1, 100)] = Field(
        100, alias="percentageOfNodesToScore"
    )
    weights: Weights = Weights()
    business_line: BusinessLine = Field(BusinessLine(), alias="businessLine")
    load_threshold: LoadThreshold = Field(LoadThreshold(), alias="loadThreshold")
    node_load: NodeLoad = Field(NodeLoad(), alias="nodeLoad")
    leader_election: LeaderElection = Field(LeaderElection(), alias="leaderElection")
    queue: Queue = Queue()

    @property
    def lease_name(self) -> str:
        """The leader-election Lease name: ``leaderElection.resourceName``, else the scheduler name."""
        return self.leader_election.resource_name or self.scheduler_name

    def to_yaml(self) -> str:
        """The config as YAML with camelCase keys; ``parse_config`` reads it back to an equal config."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return yaml.safe_dump(data, sort_keys=False)


def parse_config(data: Mapping[str, Any], *, source: str) -> SchedulerConfig:
    """Validate a decoded config mapping; raise ConfigError listing every problem as ``source: path: msg``."""
    if not isinstance(data, Mapping):
        raise ConfigError([f"{source}: expected a mapping of config keys, got {type(data).__name__}"])
    try:
        return SchedulerConfig.model_validate(dict(data))
    except ValidationError as error:
        problems = [line for detail in error.errors() for line in _describe(detail)]
        raise ConfigError([f"{source}: {line}" for line in problems]) from None


def load_config(path: str | os.PathLike[str] | None) -> SchedulerConfig:
    """Read and validate a YAML config file; ``None`` gives the built-in defaults."""
    if path is None:
        return SchedulerConfig()
    source = os.fspath(path)
    try:
        with open(source, encoding="utf-8") as stream:
            data = yaml.load(stream, Loader=yaml.CSafeLoader)
    except OSError as error:
        raise ConfigError([f"{source}: cannot read the config file: {error.strerror}"]) from None
    except yaml.YAMLError as error:
        raise ConfigError([f"{source}: not valid YAML: {_one_line(str(error))}"]) from None
    return parse_config({} if data is None else data, source=source)


def _describe(detail: ErrorDetails) -> list[str]:
    """One line per problem: ``path: message``; cross-field validators name their field in the message."""
    path = ".".join(str(part) for part in detail["loc"] if not _is_union_tag(part))
    kind = detail["type"]
    if kind == "extra_forbidden":
        messages = ["unknown key" + _expected_keys(detail["loc"][:-1])]
    elif kind == "value_error":
        messages = str(detail["msg"]).removeprefix("Value error, ").split("\n")
    elif kind == "literal_error":
        messages = [f"{detail['input']!r} is not supported: {str(detail['msg']).removeprefix('Input ')}"]
    else:
        messages = [str(detail["msg"])]
    return [_join_path(path, message) for message in messages]


def _is_union_tag(part: object) -> bool:
    return isinstance(part, str) and part in {"int", "float", "str", "bool", "none"}


def _join_path(path: str, message: str) -> str:
    head, sep, rest = message.partition(": ")
    if sep and head.isidentifier() and head[0].islower():
        path, message = (f"{path}.{head}" if path else head), rest
    return f"{path}: {message}" if path else message


def _expected_keys(loc: tuple[int | str, ...]) -> str:
    model: type[BaseModel] = SchedulerConfig
    for part in loc:
        fields = {str(info.alias or name): info for name, info in model.model_fields.items()}
        annotation = fields[str(part)].annotation if str(part) in fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        model = annotation
    keys = sorted(str(info.alias or name) for name, info in model.model_fields.items())
    return f" (expected one of: {', '.join(keys)})"


def _one_line(text: str) -> str:
    return " ".join(text.split())
