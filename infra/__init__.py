"""KubeVPS infrastructure: the Pulumi components that turn a stack config into a kubeadm cluster."""
