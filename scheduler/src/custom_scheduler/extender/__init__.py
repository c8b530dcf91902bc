"""`custom-scheduler extender`: our business-line and load-aware logic behind kube-scheduler's extender
protocol, for clusters that keep the default scheduler (see server.py)."""
