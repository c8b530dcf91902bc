#!/usr/bin/env bash
# Deregister: delete the Node object of a node that left the stack, from the first control plane, after
# the node was reset. A node already gone, or an API that no longer answers, is reported and skipped.
#
# kubevps-params: NODE_NAME
set -euo pipefail

: "${KUBEVPS_NODE_NAME:?}"

log() { printf 'kubevps: %s\n' "$*" >&2; }
die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

readonly ADMIN_CONF=/etc/kubernetes/admin.conf
kubectl() { command kubectl --kubeconfig "$ADMIN_CONF" --request-timeout=30s "$@"; }

[[ $EUID -eq 0 ]] || die "deregister must run as root ($ADMIN_CONF is readable by root only)"

if [[ ! -r $ADMIN_CONF ]]; then
  log "no $ADMIN_CONF on this host, so no cluster to remove $KUBEVPS_NODE_NAME from; skipping"
  exit 0
fi
if ! kubectl get --raw=/readyz >/dev/null 2>&1; then
  log "the API server does not answer; skipping the removal of node $KUBEVPS_NODE_NAME"
  exit 0
fi
kubectl delete node "$KUBEVPS_NODE_NAME" --ignore-not-found >&2 ||
  die "could not delete node $KUBEVPS_NODE_NAME (error above); delete it with 'kubectl delete node $KUBEVPS_NODE_NAME'"
log "node $KUBEVPS_NODE_NAME is no longer registered"
