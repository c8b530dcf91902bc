"""A small scheduling framework in kube-scheduler's shape: statuses, plugin interfaces, registry, runtime."""
