#!/usr/bin/env bash
# Kubeconfig: print the cluster-admin kubeconfig of the first control plane, pointed at the public API
# endpoint, for the Pulumi Kubernetes provider.
#
# kubevps-params: API_ENDPOINT
#   API_ENDPOINT  HOST:PORT the API server is reached at from outside, e.g. k8s.example.com:6443
# stdout: the kubeconfig and nothing else. It holds the cluster-admin credentials: the caller must keep
#   this output secret and out of the logs.
set -euo pipefail

: "${KUBEVPS_API_ENDPOINT:?}"

die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

readonly ADMIN_CONF=/etc/kubernetes/admin.conf

[[ $EUID -eq 0 ]] || die "kubeconfig must run as root ($ADMIN_CONF is readable by root only)"
# Checked strictly: the value goes into a sed replacement, and a stray character would corrupt it.
[[ $KUBEVPS_API_ENDPOINT =~ ^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$ ]] ||
  die "API_ENDPOINT is '$KUBEVPS_API_ENDPOINT'; expected HOST:PORT such as k8s.example.com:6443 or [2001:db8::1]:6443"
[[ -r $ADMIN_CONF ]] || die "$ADMIN_CONF does not exist; the init step has not run on this host"
grep -Eq '^[[:space:]]*server:' "$ADMIN_CONF" || die "$ADMIN_CONF has no 'server:' line; is it a kubeconfig?"

sed -E "s#^([[:space:]]*server:).*#\\1 https://$KUBEVPS_API_ENDPOINT#" "$ADMIN_CONF"
