"""kubeadm bootstrap of a KubeVPS cluster: the scripts that run on the hosts, and the pure Python around them.

`render` turns typed inputs into the kubeadm configuration file; `scripts` turns a step name and its
parameters into the exact text that runs on a host and the `remote.Command` command string that runs it.
The scripts themselves are real files in `scripts/`, one per bootstrap step.
"""
