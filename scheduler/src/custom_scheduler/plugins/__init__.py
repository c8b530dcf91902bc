"""The plugins, one module each, and the one place where they are all registered.

The plugin modules are imported by :func:`default_registry`, not by this package, so that importing
``custom_scheduler.plugins.names`` (as the config model does, also at Pulumi plan time) stays light.
"""

from __future__ import annotations

from custom_scheduler.framework.registry import Registry


def default_registry() -> Registry:
    """Every built-in plugin; filters in kube-scheduler's order, then ours."""
    from custom_scheduler.plugins import (
        balanced_allocation,
        business_line,
        business_priority,
        least_allocated,
        load_threshold,
        network_bandwidth,
        node_affinity,
        node_load,
        node_name,
        node_ports,
        node_resources_fit,
        node_unschedulable,
        taint_toleration,
    )

    registry = Registry()
    registry.register_filter(node_unschedulable.NAME, node_unschedulable.new)
    registry.register_filter(node_name.NAME, node_name.new)
    registry.register_filter(taint_toleration.NAME, taint_toleration.new)
    registry.register_filter(node_affinity.NAME, node_affinity.new)
    registry.register_filter(node_ports.NAME, node_ports.new)
    registry.register_filter(node_resources_fit.NAME, node_resources_fit.new)
    registry.register_filter(business_line.NAME, business_line.new)
    registry.register_filter(load_threshold.NAME, load_threshold.new)
    registry.register_score(node_load.NAME, node_load.new)
    registry.register_score(taint_toleration.NAME, taint_toleration.new)
    registry.register_score(node_affinity.NAME, node_affinity.new)
    registry.register_score(least_allocated.NAME, least_allocated.new)
    registry.register_score(balanced_allocation.NAME, balanced_allocation.new)
    registry.register_score(network_bandwidth.NAME, network_bandwidth.new)
    registry.register_score(business_priority.NAME, business_priority.new)
    return registry
