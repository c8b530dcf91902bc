"""custom-scheduler: KubeVPS's load-aware Kubernetes scheduler (kube-scheduler 1.28 filter semantics)."""

__version__ = "0.1.0"
