#!/usr/bin/env bash
# Prepare: turn a fresh Ubuntu/Debian VPS into a host kubeadm can init or join: swap off, kernel modules
# and sysctls, containerd, the Kubernetes packages pinned to one version, the kubelet's node IP and
# labels, and the host firewall. Every step first looks at what is there, so a second run changes nothing.
#
# kubevps-params: K8S_VERSION NODE_IP NFT_RULESET [NODE_LABELS] [NODE_TAINTS]
#   K8S_VERSION  exact Kubernetes version, e.g. 1.28.15 (selects the pkgs.k8s.io repository of its minor)
#   NODE_IP      the address the kubelet registers and the cluster talks to (private NIC if there is one)
#   NFT_RULESET  nftables text that defines `table inet kubevps` and nothing else
#   NODE_LABELS  kubelet --node-labels value, comma-separated k=v (may be empty)
#   NODE_TAINTS  kubelet --register-with-taints value, comma-separated key[=value]:Effect (may be empty):
#                a node is tainted from the moment it registers, before any pod can land on it
set -euo pipefail

: "${KUBEVPS_K8S_VERSION:?}" "${KUBEVPS_NODE_IP:?}" "${KUBEVPS_NFT_RULESET:?}"
readonly NODE_LABELS="${KUBEVPS_NODE_LABELS:-}"
readonly NODE_TAINTS="${KUBEVPS_NODE_TAINTS:-}"

log() { printf 'kubevps: %s\n' "$*" >&2; }
die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

readonly PAUSE_IMAGE=registry.k8s.io/pause:3.9
readonly KEYRING=/etc/apt/keyrings/kubernetes-apt-keyring.gpg
readonly FIREWALL_FILE=/etc/kubevps/firewall.nft
readonly FIREWALL_UNIT=kubevps-firewall.service

[[ $EUID -eq 0 ]] || die "prepare must run as root; give the SSH user passwordless sudo"
[[ $KUBEVPS_K8S_VERSION =~ ^1\.[0-9]+\.[0-9]+$ ]] ||
  die "K8S_VERSION is '$KUBEVPS_K8S_VERSION'; expected 1.MINOR.PATCH such as 1.28.15"
readonly K8S_MINOR="v${KUBEVPS_K8S_VERSION%.*}"
readonly K8S_REPO="https://pkgs.k8s.io/core:/stable:/${K8S_MINOR}/deb/"
[[ $KUBEVPS_NODE_IP =~ ^[0-9A-Fa-f.:]+$ ]] || die "NODE_IP is '$KUBEVPS_NODE_IP'; expected an IP address"
# The value lands unquoted in the kubelet's command line (systemd splits $KUBELET_EXTRA_ARGS on spaces).
[[ $NODE_LABELS =~ ^[A-Za-z0-9./_=,-]*$ ]] ||
  die "NODE_LABELS is '$NODE_LABELS'; expected comma-separated key=value labels without spaces"
[[ $NODE_TAINTS =~ ^[A-Za-z0-9./_=:,-]*$ ]] ||
  die "NODE_TAINTS is '$NODE_TAINTS'; expected comma-separated key[=value]:Effect taints without spaces"

workdir=$(mktemp -d -t kubevps-prepare.XXXXXX)
trap 'rm -rf -- "$workdir"' EXIT

export DEBIAN_FRONTEND=noninteractive
# Fresh VPS images often run unattended-upgrades or cloud-init's apt at first boot: wait for the dpkg
# lock instead of failing on it, and keep existing config files on upgrades.
apt_get() { apt-get -q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold "$@"; }

# install_content PATH MODE: makes PATH hold stdin with MODE, replacing it atomically only when the
# content differs. Sets `changed` to true or false, so callers act (restart, reload) only on a change.
changed=false
install_content() {
  local path=$1 mode=$2 tmp
  install -d -m 0755 "$(dirname "$path")"
  tmp=$(mktemp "$path.kubevps.XXXXXX")
  cat >"$tmp"
  if [[ -f $path ]] && cmp -s "$tmp" "$path"; then
    rm -f -- "$tmp"
    chmod "$mode" "$path"
    changed=false
  else
    chmod "$mode" "$tmp"
    mv -f -- "$tmp" "$path"
    log "wrote $path"
    changed=true
  fi
}

missing_packages() {
  local package
  for package in "$@"; do
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null) != installed ]]; then
      printf '%s\n' "$package"
    fi
  done
}

# --- Swap: the kubelet refuses to start with swap on (1.28 default). ----------------------------------
if [[ -n $(swapon --noheadings --show=NAME) ]]; then
  swapoff -a
  log "swap turned off"
fi
# Comment out swap entries so it stays off after a reboot; untouched when none is active in fstab.
if grep -Eq '^[^#].*[[:space:]]swap[[:space:]]' /etc/fstab; then
  sed -Ei.kubevps.bak '/^[^#].*[[:space:]]swap[[:space:]]/s/^/# kubevps: swap off for the kubelet # /' /etc/fstab
  log "swap entries commented out in /etc/fstab (backup: /etc/fstab.kubevps.bak)"
fi

# --- Kernel modules and sysctls for container networking. -------------------------------------------
install_content /etc/modules-load.d/kubevps-kubernetes.conf 0644 <<'EOF'
# Written by KubeVPS prepare.sh: overlayfs for containerd, br_netfilter so bridged pod traffic sees iptables.
overlay
br_netfilter
EOF
modprobe overlay
modprobe br_netfilter
install_content /etc/sysctl.d/99-kubevps-kubernetes.conf 0644 <<'EOF'
# Written by KubeVPS prepare.sh: required by kubeadm and the CNI.
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward = 1
EOF
sysctl --quiet --load=/etc/sysctl.d/99-kubevps-kubernetes.conf

# --- Packages this script and the kubelet need, and containerd from the distribution. ---------------
# A host that already has Docker's containerd.io keeps it: installing `containerd` would remove it (and
# Docker with it). Its shipped config disables CRI, which the regenerated config below fixes.
containerd_package=containerd
if [[ -z $(missing_packages containerd.io) ]]; then
  containerd_package=containerd.io
fi
apt_updated=false
mapfile -t missing < <(missing_packages ca-certificates curl gpg nftables "$containerd_package")
if ((${#missing[@]} > 0)); then
  log "installing ${missing[*]}"
  apt_get update
  apt_updated=true
  apt_get install --no-install-recommends "${missing[@]}"
fi

# --- containerd: the kubelet uses the systemd cgroup driver, and kubeadm 1.28 expects pause:3.9. ------
# The config is regenerated from the installed containerd's defaults each run, so an upgrade of the
# package is picked up; containerd restarts only when the resulting file differs.
containerd_config=$(containerd config default)
case "$(sed -n 's/^version = \([0-9]*\)$/\1/p' <<<"$containerd_config")" in
  2) # containerd 1.6 / 1.7
    containerd_config=$(sed -E \
      -e 's/^([[:space:]]*)SystemdCgroup = false$/\1SystemdCgroup = true/' \
      -e "s#^([[:space:]]*)sandbox_image = .*#\\1sandbox_image = \"$PAUSE_IMAGE\"#" <<<"$containerd_config")
    sandbox_pattern="sandbox_image = \"$PAUSE_IMAGE\""
    ;;
  3) # containerd 2.x: CRI keys moved to io.containerd.cri.v1.{runtime,images}
    containerd_config=$(sed -E \
      -e 's/^([[:space:]]*)SystemdCgroup = false$/\1SystemdCgroup = true/' \
      -e "s#^([[:space:]]*)sandbox = .*#\\1sandbox = '$PAUSE_IMAGE'#" <<<"$containerd_config")
    sandbox_pattern="sandbox = '$PAUSE_IMAGE'"
    ;;
  *) die "containerd $(containerd --version) prints a config format this script does not know (expected version = 2 or 3)" ;;
esac
# Some releases leave SystemdCgroup out of the defaults: add it to the runc options table then.
if ! grep -q 'SystemdCgroup = true' <<<"$containerd_config"; then
  containerd_config=$(sed -E '/^[[:space:]]*\[plugins\..*\.runtimes\.runc\.options\]$/a SystemdCgroup = true' \
    <<<"$containerd_config")
fi
grep -q 'SystemdCgroup = true' <<<"$containerd_config" ||
  die "could not set SystemdCgroup = true in the containerd config (no runc options table); check 'containerd config default'"
grep -qF "$sandbox_pattern" <<<"$containerd_config" ||
  die "could not set the sandbox image to $PAUSE_IMAGE in the containerd config; check 'containerd config default'"
install_content /etc/containerd/config.toml 0644 <<<"$containerd_config"
if [[ $changed == true ]]; then
  systemctl restart containerd
  log "containerd restarted with the new config"
fi
systemctl enable --now --quiet containerd

# --- Kubernetes packages from pkgs.k8s.io, one repository per minor. --------------------------------
# The key is fetched every run and replaced only if it differs: that picks up a rotated signing key
# (the EOL repositories' keys have expired before) without touching an unchanged host.
curl -fsSL --retry 5 --retry-delay 3 --retry-all-errors --connect-timeout 20 "${K8S_REPO}Release.key" |
  gpg --dearmor --yes -o "$workdir/keyring.gpg"
install_content "$KEYRING" 0644 <"$workdir/keyring.gpg"
repo_changed=$changed
install_content /etc/apt/sources.list.d/kubernetes.list 0644 <<EOF
deb [signed-by=$KEYRING] $K8S_REPO /
EOF
if [[ $changed == true ]]; then
  repo_changed=true
fi

installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
outdated=()
for package in kubelet kubeadm kubectl; do
  version=$(installed_version "$package")
  # Debian versions from pkgs.k8s.io look like 1.28.15-1.1.
  [[ $version == "$KUBEVPS_K8S_VERSION"-* ]] || outdated+=("$package${version:+ ($version)}")
done
if ((${#outdated[@]} > 0)); then
  # Changing the version on a cluster member is an upgrade, which belongs to `kubeadm upgrade`
  # (control plane first, one minor at a time), not to a package install behind its back.
  if [[ -e /etc/kubernetes/kubelet.conf ]] && [[ -n $(installed_version kubelet) ]]; then
    die "this host is already a cluster member with ${outdated[*]} installed, but K8S_VERSION is $KUBEVPS_K8S_VERSION; upgrade it with kubeadm upgrade, or set kubernetesVersion back"
  fi
  log "installing kubelet, kubeadm and kubectl $KUBEVPS_K8S_VERSION (not at that version: ${outdated[*]})"
  if [[ $apt_updated == false || $repo_changed == true ]]; then
    apt_get update
  fi
  apt_get install --allow-change-held-packages \
    "kubelet=$KUBEVPS_K8S_VERSION-*" "kubeadm=$KUBEVPS_K8S_VERSION-*" "kubectl=$KUBEVPS_K8S_VERSION-*"
fi
# Held, so an `apt-get upgrade` by a person or unattended-upgrades never moves them.
held=$(apt-mark showhold)
for package in kubelet kubeadm kubectl; do
  if ! grep -qx "$package" <<<"$held"; then
    apt-mark hold "$package" >/dev/null
    log "$package held at $(installed_version "$package")"
  fi
done

# --- kubelet: node IP (VPS hosts often have a public and a private NIC) and labels. ------------------
kubelet_args="--node-ip=$KUBEVPS_NODE_IP"
[[ -z $NODE_LABELS ]] || kubelet_args+=" --node-labels=$NODE_LABELS"
[[ -z $NODE_TAINTS ]] || kubelet_args+=" --register-with-taints=$NODE_TAINTS"
install_content /etc/default/kubelet 0644 <<EOF
KUBELET_EXTRA_ARGS=$kubelet_args
EOF
# Before kubeadm has configured it, the kubelet restarts in a loop anyway; afterwards it must pick up a change.
if [[ $changed == true ]]; then
  systemctl try-restart kubelet
fi
systemctl enable --quiet kubelet

# --- Host firewall: our own nftables table, loaded at boot before the kubelet. -----------------------
# Only `table inet kubevps` is ever replaced: kube-proxy and the CNI keep their own tables, and a
# `flush ruleset` would silently wipe theirs.
if grep -Eq '^[[:space:]]*flush[[:space:]]+ruleset' <<<"$KUBEVPS_NFT_RULESET"; then
  die "NFT_RULESET contains 'flush ruleset', which would delete the Kubernetes and CNI rules; define only table inet kubevps"
fi
# The declare-then-delete prelude makes loading the file replace the table in one transaction, so a
# reload never leaves the host without rules and never duplicates them. The kernel checks the new file
# before it replaces the one the next boot loads.
cat >"$workdir/firewall.nft" <<EOF
#!/usr/sbin/nft -f
# Written by KubeVPS prepare.sh; loaded at boot by $FIREWALL_UNIT. Edit the stack, not this file.
table inet kubevps
delete table inet kubevps
$KUBEVPS_NFT_RULESET
EOF
nft --check --file "$workdir/firewall.nft" || die "nft rejects NFT_RULESET (errors above); fix the firewall rendering"
install_content "$FIREWALL_FILE" 0600 <"$workdir/firewall.nft"
firewall_changed=$changed
install_content "/etc/systemd/system/$FIREWALL_UNIT" 0644 <<EOF
[Unit]
Description=KubeVPS host firewall (nftables table inet kubevps)
Documentation=file://$FIREWALL_FILE
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target shutdown.target containerd.service kubelet.service
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft --file $FIREWALL_FILE

[Install]
WantedBy=sysinit.target
EOF
[[ $changed == false ]] || systemctl daemon-reload
systemctl enable --quiet "$FIREWALL_UNIT"
if [[ $firewall_changed == true ]] || ! nft list table inet kubevps >/dev/null 2>&1; then
  nft --file "$FIREWALL_FILE"
  log "firewall table inet kubevps loaded"
fi

log "host prepared for Kubernetes $KUBEVPS_K8S_VERSION (node IP $KUBEVPS_NODE_IP)"
