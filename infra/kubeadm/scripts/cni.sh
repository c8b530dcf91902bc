#!/usr/bin/env bash
# CNI: install the pod network on the first control plane, right after init, from a pinned upstream
# manifest with the stack's pod CIDR and MTU patched in. `kubectl apply` makes a second run a no-op.
# Note: the pod CIDR only takes effect at first install (Calico creates its IP pool once, Flannel
# allocates node subnets once); changing it later needs a new cluster.
#
# kubevps-params: CNI POD_SUBNET MTU
#   CNI         calico | flannel (both in VXLAN mode: it crosses provider networks that drop IPIP and BGP)
#   POD_SUBNET  the pod IPv4 CIDR, equal to the kubeadm networking.podSubnet
#   MTU         the pod interface MTU: the host MTU minus the VXLAN overhead (50 bytes)
set -euo pipefail

: "${KUBEVPS_CNI:?}" "${KUBEVPS_POD_SUBNET:?}" "${KUBEVPS_MTU:?}"

log() { printf 'kubevps: %s\n' "$*" >&2; }
die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

readonly CALICO_VERSION=v3.26.4
readonly CALICO_MANIFEST_URL=https://raw.githubusercontent.com/projectcalico/calico/$CALICO_VERSION/manifests/calico-vxlan.yaml
readonly FLANNEL_VERSION=v0.24.4
readonly FLANNEL_MANIFEST_URL=https://github.com/flannel-io/flannel/releases/download/$FLANNEL_VERSION/kube-flannel.yml
readonly ADMIN_CONF=/etc/kubernetes/admin.conf
readonly ROLLOUT_TIMEOUT=10m

kubectl() { command kubectl --kubeconfig "$ADMIN_CONF" "$@"; }

[[ $EUID -eq 0 ]] || die "cni must run as root ($ADMIN_CONF is readable by root only)"
[[ $KUBEVPS_POD_SUBNET =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$ ]] ||
  die "POD_SUBNET is '$KUBEVPS_POD_SUBNET'; expected an IPv4 CIDR such as 10.244.0.0/16"
if [[ ! $KUBEVPS_MTU =~ ^[1-9][0-9]{3}$ ]] || ((KUBEVPS_MTU < 1280 || KUBEVPS_MTU > 9000)); then
  die "MTU is '$KUBEVPS_MTU'; expected a number from 1280 to 9000 (host MTU minus 50 for VXLAN)"
fi
[[ -r $ADMIN_CONF ]] || die "$ADMIN_CONF does not exist; the init step has not run on this host"

workdir=$(mktemp -d -t kubevps-cni.XXXXXX)
trap 'rm -rf -- "$workdir"' EXIT
manifest=$workdir/upstream.yaml
patched=$workdir/patched.yaml

download() {
  log "downloading $1"
  curl -fsSL --retry 5 --retry-delay 5 --retry-all-errors --connect-timeout 20 -o "$manifest" "$1" ||
    die "could not download $1; check that this host reaches the internet (curl's error above)"
}

# require TEXT WHAT: the patched manifest must contain TEXT (literally, possibly several lines), or the
# upstream format changed under the pin and the substitution silently did nothing.
require() {
  [[ $(<"$patched") == *"$1"* ]] || die "patching the $KUBEVPS_CNI manifest failed: $2 is not set; did the upstream manifest change?"
}

case "$KUBEVPS_CNI" in
  calico)
    download "$CALICO_MANIFEST_URL"
    grep -qF "calico/node:$CALICO_VERSION" "$manifest" || die "$CALICO_MANIFEST_URL is not the Calico $CALICO_VERSION manifest"
    # - the pod CIDR: CALICO_IPV4POOL_CIDR ships commented out (Calico would default to 192.168.0.0/16);
    # - VXLAN always, never CrossSubnet: between hosts on one subnet the provider would see raw pod
    #   addresses and drop them as spoofed;
    # - the MTU of pod interfaces and of the VXLAN device (felix reads both from veth_mtu);
    # - the node address from the Node's InternalIP (the kubelet's --node-ip): Calico's default picks
    #   the first interface it finds, often the public one on a VPS with a private network.
    sed -E \
      -e 's/^([[:space:]]*)# - name: CALICO_IPV4POOL_CIDR$/\1- name: CALICO_IPV4POOL_CIDR/' \
      -e "s|^([[:space:]]*)#   value: \"192\\.168\\.0\\.0/16\"\$|\\1  value: \"$KUBEVPS_POD_SUBNET\"|" \
      -e '/^[[:space:]]*- name: CALICO_IPV4POOL_VXLAN$/{n;s/value: ".*"/value: "Always"/}' \
      -e "s/^([[:space:]]*veth_mtu:).*/\\1 \"$KUBEVPS_MTU\"/" \
      -e '/^[[:space:]]*- name: IP$/{n;s/^( *)  value: "autodetect"$/&\n\1- name: IP_AUTODETECTION_METHOD\n\1  value: "kubernetes-internal-ip"/}' \
      "$manifest" >"$patched"
    require $'- name: CALICO_IPV4POOL_CIDR\n              value: "'"$KUBEVPS_POD_SUBNET"'"' "the pod CIDR (CALICO_IPV4POOL_CIDR)"
    require $'- name: CALICO_IPV4POOL_VXLAN\n              value: "Always"' "VXLAN mode Always (CALICO_IPV4POOL_VXLAN)"
    require "veth_mtu: \"$KUBEVPS_MTU\"" "the MTU (veth_mtu)"
    require $'- name: IP_AUTODETECTION_METHOD\n              value: "kubernetes-internal-ip"' "the node address (IP_AUTODETECTION_METHOD)"
    rollout=(--namespace kube-system daemonset/calico-node)
    ;;
  flannel)
    download "$FLANNEL_MANIFEST_URL"
    grep -qF "flannel:$FLANNEL_VERSION" "$manifest" || die "$FLANNEL_MANIFEST_URL is not the Flannel $FLANNEL_VERSION manifest"
    # - the pod CIDR: net-conf.json "Network";
    # - the MTU: flanneld derives the VXLAN MTU from the host interface and writes it to
    #   /run/flannel/subnet.env; the flannel CNI plugin copies that value into its delegate (the bridge
    #   plugin) unless the delegate already has an "mtu". Adding "mtu" to the delegate in cni-conf.json
    #   is therefore how the pod interfaces get the MTU the stack asks for.
    sed -E \
      -e "s|\"Network\": \"[^\"]*\"|\"Network\": \"$KUBEVPS_POD_SUBNET\"|" \
      -e "s|^([[:space:]]*)\"delegate\": \\{\$|&\\n\\1  \"mtu\": $KUBEVPS_MTU,|" \
      "$manifest" >"$patched"
    require "\"Network\": \"$KUBEVPS_POD_SUBNET\"" "the pod CIDR (net-conf.json Network)"
    require $'"delegate": {\n            "mtu": '"$KUBEVPS_MTU," "the MTU (cni-conf.json delegate mtu)"
    rollout=(--namespace kube-flannel daemonset/kube-flannel-ds)
    ;;
  *) die "CNI is '$KUBEVPS_CNI'; expected calico or flannel" ;;
esac

log "applying $KUBEVPS_CNI (pod CIDR $KUBEVPS_POD_SUBNET, MTU $KUBEVPS_MTU)"
kubectl apply -f "$patched" >&2
log "waiting up to $ROLLOUT_TIMEOUT for ${rollout[*]}"
kubectl rollout status "${rollout[@]}" --timeout="$ROLLOUT_TIMEOUT" >&2 ||
  die "the $KUBEVPS_CNI DaemonSet did not become ready within $ROLLOUT_TIMEOUT; see 'kubectl -n ${rollout[1]} get pods -o wide' and their logs (image pulls from docker.io, MTU, firewall)"
log "$KUBEVPS_CNI is running"
