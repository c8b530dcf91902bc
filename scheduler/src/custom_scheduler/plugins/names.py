"""Every plugin name in one place: the strings used in config weights, registries and messages."""

from __future__ import annotations

from typing import Final

NODE_UNSCHEDULABLE: Final = "NodeUnschedulable"
NODE_NAME: Final = "NodeName"
TAINT_TOLERATION: Final = "TaintToleration"
NODE_AFFINITY: Final = "NodeAffinity"
NODE_PORTS: Final = "NodePorts"
NODE_RESOURCES_FIT: Final = "NodeResourcesFit"
BUSINESS_LINE: Final = "BusinessLine"
LOAD_THRESHOLD: Final = "LoadThreshold"

NODE_LOAD: Final = "NodeLoad"
LEAST_ALLOCATED: Final = "LeastAllocated"
BALANCED_ALLOCATION: Final = "BalancedAllocation"
NETWORK_BANDWIDTH: Final = "NetworkBandwidth"
BUSINESS_PRIORITY: Final = "BusinessPriority"

FILTER_ORDER: Final = (
    NODE_UNSCHEDULABLE,
    NODE_NAME,
    TAINT_TOLERATION,
    NODE_AFFINITY,
    NODE_PORTS,
    NODE_RESOURCES_FIT,
    BUSINESS_LINE,
    LOAD_THRESHOLD,
)
"""kube-scheduler 1.28's filter order for its six plugins, then ours; only the first failure counts."""
