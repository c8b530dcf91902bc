#!/usr/bin/env bash
# Join: make this host a node of the cluster, with the credentials join-credentials.sh minted for it on
# the first control plane. Runs once: a host that already has a kubelet kubeconfig is left alone.
#
# kubevps-params: NODE_NAME JOIN_AS [ADVERTISE_ADDRESS]
#   NODE_NAME          the name to register
#   JOIN_AS            worker | control-plane
#   ADVERTISE_ADDRESS  the local address this control plane's API server advertises (control-plane only)
# stdin: the one-line base64 bundle printed by join-credentials.sh (SECRET). It is unpacked into a 0700
#   directory that is removed on exit; nothing secret is passed on a command line.
set -euo pipefail

: "${KUBEVPS_NODE_NAME:?}" "${KUBEVPS_JOIN_AS:?}"
readonly ADVERTISE_ADDRESS="${KUBEVPS_ADVERTISE_ADDRESS:-}"

log() { printf 'kubevps: %s\n' "$*" >&2; }
die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

readonly PKI_DIR=/etc/kubernetes/pki

[[ $EUID -eq 0 ]] || die "join must run as root; give the SSH user passwordless sudo"
case "$KUBEVPS_JOIN_AS" in
  worker) ;;
  control-plane)
    [[ -n $ADVERTISE_ADDRESS ]] || die "ADVERTISE_ADDRESS is required to join as a control plane"
    ;;
  *) die "JOIN_AS is '$KUBEVPS_JOIN_AS'; expected worker or control-plane" ;;
esac

if [[ -f /etc/kubernetes/kubelet.conf ]]; then
  # Read the bundle anyway, so the sender never sees a closed pipe.
  cat >/dev/null
  log "$KUBEVPS_NODE_NAME already joined (/etc/kubernetes/kubelet.conf exists); nothing to do"
  exit 0
fi

workdir=$(mktemp -d -t kubevps-join.XXXXXX)
trap 'rm -rf -- "$workdir"' EXIT
bundle=$workdir/bundle
install -d -m 0700 "$bundle"

base64 --decode >"$workdir/bundle.tar.gz" ||
  die "stdin is not the base64 bundle from join-credentials (decoding failed)"
[[ -s $workdir/bundle.tar.gz ]] || die "stdin is empty; expected the base64 bundle from join-credentials"
tar --extract --gzip --no-same-owner --directory="$bundle" --file="$workdir/bundle.tar.gz" ||
  die "the bundle on stdin is not a tar.gz from join-credentials"
[[ -f $bundle/discovery.conf ]] || die "the bundle on stdin has no discovery.conf"

if [[ $KUBEVPS_JOIN_AS == control-plane ]]; then
  [[ -d $bundle/pki ]] || die "the bundle has no pki/; mint it with JOIN_AS=control-plane"
  # Installed before the join: kubeadm then signs this node's certificates with the cluster's CAs
  # instead of generating new ones. Keys stay readable by root only.
  install -d -m 0755 "$PKI_DIR" "$PKI_DIR/etcd"
  while IFS= read -r -d '' file; do
    relative=${file#"$bundle/pki/"}
    case "$relative" in
      *.key) mode=0600 ;;
      *) mode=0644 ;;
    esac
    install -m "$mode" "$file" "$PKI_DIR/$relative"
  done < <(find "$bundle/pki" -type f -print0)
  log "installed the shared control-plane PKI into $PKI_DIR"
fi

discovery=$bundle/discovery.conf
log "joining the cluster as $KUBEVPS_JOIN_AS $KUBEVPS_NODE_NAME"
join_status=0
if [[ $KUBEVPS_JOIN_AS == control-plane ]]; then
  kubeadm join --discovery-file "$discovery" --node-name "$KUBEVPS_NODE_NAME" \
    --control-plane --apiserver-advertise-address "$ADVERTISE_ADDRESS" || join_status=$?
else
  kubeadm join --discovery-file "$discovery" --node-name "$KUBEVPS_NODE_NAME" || join_status=$?
fi
if ((join_status != 0)); then
  die "kubeadm join of $KUBEVPS_NODE_NAME failed (exit $join_status, details above). If it stopped half-way, run 'kubeadm reset -f' on this host before the next attempt. If the token expired (Unauthorized), the next attempt needs fresh credentials: replace this node's join-credentials command (pulumi up --replace <its URN>)"
fi
log "$KUBEVPS_NODE_NAME joined the cluster as $KUBEVPS_JOIN_AS"
