"""Cluster add-ons applied through the Kubernetes provider once the cluster is bootstrapped."""
