#!/usr/bin/env bash
# Drain: evict the workloads of a node that is leaving the stack, from the first control plane, before
# the node itself is reset. Nothing to drain is not an error: a node already gone, or a cluster whose
# API no longer answers (being destroyed as a whole), is reported and skipped.
#
# kubevps-params: NODE_NAME
set -euo pipefail

: "${KUBEVPS_NODE_NAME:?}"

log() { printf 'kubevps: %s\n' "$*" >&2; }
die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

readonly ADMIN_CONF=/etc/kubernetes/admin.conf
kubectl() { command kubectl --kubeconfig "$ADMIN_CONF" --request-timeout=20s "$@"; }

[[ $EUID -eq 0 ]] || die "drain must run as root ($ADMIN_CONF is readable by root only)"

if [[ ! -r $ADMIN_CONF ]]; then
  log "no $ADMIN_CONF on this host, so no cluster to drain $KUBEVPS_NODE_NAME from; skipping"
  exit 0
fi
if ! kubectl get --raw=/readyz >/dev/null 2>&1; then
  log "the API server does not answer; skipping the drain of $KUBEVPS_NODE_NAME"
  exit 0
fi
node=$(kubectl get node "$KUBEVPS_NODE_NAME" --ignore-not-found -o name) ||
  die "could not look up node $KUBEVPS_NODE_NAME (kubectl's error above)"
if [[ -z $node ]]; then
  log "node $KUBEVPS_NODE_NAME is not in the cluster; nothing to drain"
  exit 0
fi

log "draining node $KUBEVPS_NODE_NAME (up to 5 minutes)"
# --request-timeout would cut the drain short; the drain's own --timeout bounds it.
if ! command kubectl --kubeconfig "$ADMIN_CONF" drain "$KUBEVPS_NODE_NAME" \
  --ignore-daemonsets --delete-emptydir-data --force --timeout=5m; then
  die "node $KUBEVPS_NODE_NAME did not drain within 5 minutes, often because a PodDisruptionBudget allows no eviction; see 'kubectl get pods -A -o wide --field-selector spec.nodeName=$KUBEVPS_NODE_NAME' and 'kubectl get pdb -A', fix it, then run pulumi again"
fi
log "node $KUBEVPS_NODE_NAME drained"
