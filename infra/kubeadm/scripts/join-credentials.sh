#!/usr/bin/env bash
# Join credentials: everything one node needs to join, minted on the first control plane for that one
# join. A fresh bootstrap token with a short TTL goes into a discovery kubeconfig (the cluster CA and
# the token, which kubeadm uses for the TLS bootstrap); a control-plane join also gets the shared PKI
# it must not generate itself. Each run mints a new token; expired ones are removed by the cluster.
#
# kubevps-params: NODE_NAME JOIN_AS API_ENDPOINT TOKEN_TTL
#   NODE_NAME     the joining node (named in the token's description)
#   JOIN_AS       worker | control-plane
#   API_ENDPOINT  HOST:PORT the joining node reaches the API server at (the controlPlaneEndpoint)
#   TOKEN_TTL     token lifetime, e.g. 30m
# stdout: one line, base64 of a tar.gz holding discovery.conf (and pki/ for control planes). It is the
#   join.sh stdin and a SECRET: the caller must keep it secret and out of the logs.
# Secrets never appear on a command line: the token goes from kubeadm's stdout into a variable and from
# there, through shell builtins, into a 0600 file.
set -euo pipefail

: "${KUBEVPS_NODE_NAME:?}" "${KUBEVPS_JOIN_AS:?}" "${KUBEVPS_API_ENDPOINT:?}" "${KUBEVPS_TOKEN_TTL:?}"

log() { printf 'kubevps: %s\n' "$*" >&2; }
die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

readonly ADMIN_CONF=/etc/kubernetes/admin.conf
readonly PKI_DIR=/etc/kubernetes/pki
# What a joining control plane expects to find when certificates are not uploaded: the cluster,
# front-proxy and etcd CAs and the service-account key pair (kubeadm's "manual certificate distribution").
readonly SHARED_PKI_FILES=(ca.crt ca.key sa.key sa.pub front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key)

[[ $EUID -eq 0 ]] || die "join-credentials must run as root (it reads $PKI_DIR)"
case "$KUBEVPS_JOIN_AS" in
  worker | control-plane) ;;
  *) die "JOIN_AS is '$KUBEVPS_JOIN_AS'; expected worker or control-plane" ;;
esac
[[ $KUBEVPS_API_ENDPOINT =~ ^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$ ]] ||
  die "API_ENDPOINT is '$KUBEVPS_API_ENDPOINT'; expected HOST:PORT such as k8s.example.com:6443"
# A TTL of 0 would mean a token that never expires.
[[ $KUBEVPS_TOKEN_TTL =~ ^([0-9]+[hms])+$ && ! $KUBEVPS_TOKEN_TTL =~ ^(0+[hms])+$ ]] ||
  die "TOKEN_TTL is '$KUBEVPS_TOKEN_TTL'; expected a non-zero duration such as 30m or 1h"
[[ -r $ADMIN_CONF && -r $PKI_DIR/ca.crt ]] ||
  die "$ADMIN_CONF or $PKI_DIR/ca.crt is missing; join credentials come from the first control plane after init"

workdir=$(mktemp -d -t kubevps-join-credentials.XXXXXX)
trap 'rm -rf -- "$workdir"' EXIT
bundle=$workdir/bundle
install -d -m 0700 "$bundle"

token=$(kubeadm token create --kubeconfig "$ADMIN_CONF" --ttl "$KUBEVPS_TOKEN_TTL" \
  --description "kubevps join of $KUBEVPS_NODE_NAME")
[[ $token =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || die "kubeadm token create did not print a bootstrap token"
log "minted a bootstrap token for $KUBEVPS_NODE_NAME, valid $KUBEVPS_TOKEN_TTL"

ca_data=$(base64 -w 0 "$PKI_DIR/ca.crt")
(
  umask 077
  printf '%s\n' \
    'apiVersion: v1' \
    'kind: Config' \
    'clusters:' \
    '- name: kubernetes' \
    '  cluster:' \
    "    server: https://$KUBEVPS_API_ENDPOINT" \
    "    certificate-authority-data: $ca_data" \
    'users:' \
    '- name: tls-bootstrap-token-user' \
    '  user:' \
    "    token: $token" \
    'contexts:' \
    '- name: tls-bootstrap-token-user@kubernetes' \
    '  context:' \
    '    cluster: kubernetes' \
    '    user: tls-bootstrap-token-user' \
    'current-context: tls-bootstrap-token-user@kubernetes' >"$bundle/discovery.conf"
)
unset token

if [[ $KUBEVPS_JOIN_AS == control-plane ]]; then
  install -d -m 0700 "$bundle/pki" "$bundle/pki/etcd"
  for file in "${SHARED_PKI_FILES[@]}"; do
    [[ -r $PKI_DIR/$file ]] || die "$PKI_DIR/$file is missing; a control plane cannot join without it"
    install -m 0600 "$PKI_DIR/$file" "$bundle/pki/$file"
  done
  log "added the shared control-plane PKI for $KUBEVPS_NODE_NAME"
fi

tar --create --gzip --owner=0 --group=0 --numeric-owner --directory="$bundle" --file="$workdir/bundle.tar.gz" .
base64 -w 0 "$workdir/bundle.tar.gz"
printf '\n'
