#!/usr/bin/env bash
# Reset: undo what prepare, init/join and the CNI did to a host that leaves the cluster, so it can be
# reused or rejoined. Runs after its drain; safe on a host that is already clean (every step checks
# first). The packages and containerd stay installed.
#
# kubevps-params:
set -euo pipefail

log() { printf 'kubevps: %s\n' "$*" >&2; }
die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

readonly FIREWALL_UNIT=kubevps-firewall.service
# Interfaces the CNIs and kube-proxy create on the host; pod veths go away with their pods.
readonly CNI_INTERFACES=(cni0 flannel.1 vxlan.calico vxlan-v6.calico kube-ipvs0)
# iptables lines that belong to kube-proxy, Calico or Flannel (their chains, and rules jumping to them).
readonly K8S_RULE_PATTERN='KUBE-|cali-|cali:|FLANNEL-|flanneld'

[[ $EUID -eq 0 ]] || die "reset must run as root; give the SSH user passwordless sudo"

if command -v kubeadm >/dev/null; then
  # Stops the kubelet, removes the containers, the static pods, this node's etcd member (control
  # planes) and the kubeconfigs and certificates under /etc/kubernetes.
  kubeadm reset -f
else
  log "kubeadm is not installed; nothing for kubeadm reset to do"
fi
rm -rf /etc/kubernetes/kubevps

# kubeadm reset leaves the CNI's configuration, state, interfaces and iptables rules behind.
rm -rf /etc/cni/net.d /var/lib/cni /var/lib/calico /var/run/calico /run/flannel
for interface in "${CNI_INTERFACES[@]}"; do
  if ip link show dev "$interface" >/dev/null 2>&1; then
    ip link delete dev "$interface"
    log "removed interface $interface"
  fi
done
# Filtered save/restore removes exactly those lines and keeps every other rule of the host. Both the
# nft and the legacy backends are looked at: kube-proxy uses whichever the host already used.
for tool in iptables ip6tables iptables-legacy ip6tables-legacy; do
  command -v "$tool-save" >/dev/null || continue
  rules=$("$tool-save")
  if grep -Eq -- "$K8S_RULE_PATTERN" <<<"$rules"; then
    grep -Ev -- "$K8S_RULE_PATTERN" <<<"$rules" | "$tool-restore"
    log "removed the Kubernetes and CNI rules from $tool"
  fi
done
if command -v ipvsadm >/dev/null; then
  ipvsadm --clear
fi

# The KubeVPS host firewall (prepare.sh).
if command -v nft >/dev/null && nft list table inet kubevps >/dev/null 2>&1; then
  nft delete table inet kubevps
  log "removed the nftables table inet kubevps"
fi
if [[ -e /etc/systemd/system/$FIREWALL_UNIT ]]; then
  systemctl disable --now --quiet "$FIREWALL_UNIT"
  rm -f "/etc/systemd/system/$FIREWALL_UNIT"
  systemctl daemon-reload
  log "removed $FIREWALL_UNIT"
fi
rm -rf /etc/kubevps

log "host reset"
