"""The scheduler config: defaults, camelCase YAML, every problem reported with its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from custom_scheduler.config import SchedulerConfig, load_config, parse_config
from custom_scheduler.errors import ConfigError


def test_defaults() -> None:
    config = SchedulerConfig()
    assert config.scheduler_name == "custom-scheduler"
    assert config.percentage_of_nodes_to_score == 100
    assert config.weights.by_plugin() == {
        "NodeLoad": 5,
        "TaintToleration": 3,
        "NodeAffinity": 2,
        "LeastAllocated": 1,
        "BalancedAllocation": 1,
        "NetworkBandwidth": 1,
        "BusinessPriority": 1,
    }
    assert config.business_line.label_key == "kubevps.dev/business-line"
    assert not config.load_threshold.enabled
    assert config.node_load.metrics_max_age_seconds == 120
    assert (config.leader_election.lease_duration_seconds, config.leader_election.renew_deadline_seconds) == (
        15,
        10,
    )
    assert config.queue.pod_max_in_unschedulable_pods_seconds == 300


def test_a_full_file_parses() -> None:
    config = parse_config(
        {
            "apiVersion": "kubevps.dev/v1alpha1",
            "kind": "SchedulerConfiguration",
            "schedulerName": "vps-scheduler",
            "weights": {"NodeLoad": 10, "NetworkBandwidth": 0},
            "businessLine": {"labelKey": "example.com/line", "spillToShared": ["search"]},
            "loadThreshold": {"enabled": True, "cpuPercent": 80, "memoryPercent": 90.5},
            "leaderElection": {
                "resourceName": "vps-lock",
                "leaseDurationSeconds": 30,
                "renewDeadlineSeconds": 20,
            },
        },
        source="config.yaml",
    )
    assert config.weights.by_plugin()["NodeLoad"] == 10
    assert config.weights.by_plugin()["NetworkBandwidth"] == 0
    assert config.weights.by_plugin()["TaintToleration"] == 3
    assert config.business_line.spill_to_shared == ("search",)
    assert config.lease_name == "vps-lock"


def test_the_lease_defaults_to_the_scheduler_name() -> None:
    assert parse_config({"schedulerName": "my-sched"}, source="c").lease_name == "my-sched"


def test_to_yaml_round_trips() -> None:
    config = parse_config({"weights": {"NodeLoad": 7}, "businessLine": {"spillToShared": ["a"]}}, source="c")
    assert parse_config(yaml.safe_load(config.to_yaml()), source="c") == config
    assert parse_config(yaml.safe_load(SchedulerConfig().to_yaml()), source="c") == SchedulerConfig()


BAD: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "renew deadline not below the lease",
        {"leaderElection": {"leaseDurationSeconds": 15, "renewDeadlineSeconds": 15}},
        ["config.yaml: leaderElection.renewDeadlineSeconds: must be less than leaseDurationSeconds (15)"],
    ),
    (
        "renew deadline not above retry * 1.2",
        {"leaderElection": {"renewDeadlineSeconds": 2, "retryPeriodSeconds": 2}},
        [
            "config.yaml: leaderElection.renewDeadlineSeconds: "
            "must be greater than retryPeriodSeconds * 1.2 (2.4)"
        ],
    ),
    (
        "unknown plugin in weights",
        {"weights": {"NodeLoadd": 1}},
        [
            "config.yaml: weights.NodeLoadd: unknown key (expected one of: BalancedAllocation, "
            "BusinessPriority, LeastAllocated, NetworkBandwidth, NodeAffinity, NodeLoad, TaintToleration)"
        ],
    ),
    (
        "weight out of range",
        {"weights": {"NodeLoad": 101}},
        ["config.yaml: weights.NodeLoad: 101 not in valid range [0, 100]"],
    ),
    (
        "every problem is reported, not only the first",
        {"schedulerName": "Bad_Name", "percentageOfNodesToScore": 0, "nope": 1},
        [
            "config.yaml: schedulerName: 'Bad_Name' is not a DNS-1123 subdomain "
            "(lower-case alphanumerics, '-' and '.')",
            "config.yaml: percentageOfNodesToScore: 0 not in valid range [1, 100]",
            "config.yaml: nope: unknown key (expected one of: apiVersion, businessLine, kind, "
            "leaderElection, loadThreshold, nodeLoad, percentageOfNodesToScore, queue, schedulerName, "
            "weights)",
        ],
    ),
    (
        "wrong kind",
        {"kind": "KubeSchedulerConfiguration"},
        [
            "config.yaml: kind: 'KubeSchedulerConfiguration' is not supported: "
            "should be 'SchedulerConfiguration'"
        ],
    ),
    (
        "weights must be integers",
        {"weights": {"NodeLoad": "5"}},
        ["config.yaml: weights.NodeLoad: Input should be a valid integer"],
    ),
    (
        "a bad business-line key",
        {"businessLine": {"labelKey": "no spaces allowed"}},
        [
            "config.yaml: businessLine.labelKey: 'no spaces allowed' is not a valid label key "
            "(e.g. 'kubevps.dev/business-line')"
        ],
    ),
]


@pytest.mark.parametrize(("data", "want"), [(d, w) for _, d, w in BAD], ids=[n for n, _, _ in BAD])
def test_invalid_config(data: dict[str, Any], want: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="config.yaml")
    assert caught.value.problems == want


def test_load_config_without_a_path_gives_defaults() -> None:
    assert load_config(None) == SchedulerConfig()


def test_load_config_reads_yaml(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("schedulerName: from-file\nweights:\n  NodeLoad: 9\n")
    assert load_config(path).scheduler_name == "from-file"


@pytest.mark.parametrize(
    ("text", "want"),
    [("weights: [1, 2\n", "not valid YAML"), ("- a\n- b\n", "expected a mapping of config keys, got list")],
    ids=["broken YAML", "not a mapping"],
)
def test_load_config_reports_unreadable_files(tmp_path: Path, text: str, want: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems[0].startswith(f"{path}: {want}")


def test_load_config_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "missing.yaml")
