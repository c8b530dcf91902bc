#!/usr/bin/env bash
# Init: `kubeadm init` on the first control plane, from the configuration rendered by
# infra/kubeadm/render.py. Runs once: a host that already has an admin kubeconfig is left alone.
#
# kubevps-params: NODE_NAME KUBEADM_CONFIG
#   NODE_NAME       the node this config is for (checked against the config's nodeRegistration.name)
#   KUBEADM_CONFIG  the kubeadm.k8s.io/v1beta3 YAML; holds no secret (kubeadm generates the token)
set -euo pipefail

: "${KUBEVPS_NODE_NAME:?}" "${KUBEVPS_KUBEADM_CONFIG:?}"

log() { printf 'kubevps: %s\n' "$*" >&2; }
die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

readonly CONFIG_DIR=/etc/kubernetes/kubevps
readonly CONFIG_FILE=$CONFIG_DIR/kubeadm-init.yaml

[[ $EUID -eq 0 ]] || die "init must run as root; give the SSH user passwordless sudo"

if [[ -f /etc/kubernetes/admin.conf ]]; then
  log "control plane already initialised on $KUBEVPS_NODE_NAME (/etc/kubernetes/admin.conf exists); nothing to do"
  exit 0
fi
# A static pod manifest without admin.conf means an earlier init stopped half-way; kubeadm's own
# preflight would fail on it with a less helpful message.
if [[ -e /etc/kubernetes/manifests/kube-apiserver.yaml ]]; then
  die "an earlier kubeadm init on $KUBEVPS_NODE_NAME stopped half-way (/etc/kubernetes/manifests is populated but admin.conf is missing); run 'kubeadm reset -f' on the host, then run pulumi up again"
fi
grep -Eq "^[[:space:]]+name: ${KUBEVPS_NODE_NAME//./\\.}\$" <<<"$KUBEVPS_KUBEADM_CONFIG" ||
  die "KUBEADM_CONFIG does not register node '$KUBEVPS_NODE_NAME' (nodeRegistration.name); it was rendered for another node"

# Kept after init: it documents how this control plane was created and is what `kubeadm reset` leaves behind.
install -d -m 0700 "$CONFIG_DIR"
(umask 077 && printf '%s\n' "$KUBEVPS_KUBEADM_CONFIG" >"$CONFIG_FILE")
chmod 0600 "$CONFIG_FILE"

log "running kubeadm init on $KUBEVPS_NODE_NAME with $CONFIG_FILE"
# --skip-token-print keeps the bootstrap token out of the output, which Pulumi records. Certificates are
# not uploaded: further control planes receive the shared PKI from join-credentials.sh.
kubeadm init --config "$CONFIG_FILE" --skip-token-print
log "control plane initialised on $KUBEVPS_NODE_NAME"
