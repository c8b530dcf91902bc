#!/usr/bin/env bash
# Preflight: can this host become the Kubernetes node the stack declares? Checked before anything is
# installed, so a wrong host fails in seconds with a message instead of half-way through kubeadm.
# Read-only: it changes nothing, so a second run is always safe.
#
# kubevps-params: NODE_NAME ROLE CPU MEMORY_GIB DISK_GIB
# stdout: `kubevps: product_uuid=<uuid>` and `kubevps: mac=<mac>`. Cloned VPS images can share both,
#   which breaks kubelet and CNI in ways that are hard to trace; the caller compares them across nodes.
# stderr: progress, and one line per failed check.
set -euo pipefail

: "${KUBEVPS_NODE_NAME:?}" "${KUBEVPS_ROLE:?}" "${KUBEVPS_CPU:?}" "${KUBEVPS_MEMORY_GIB:?}" "${KUBEVPS_DISK_GIB:?}"

log() { printf 'kubevps: %s\n' "$*" >&2; }
die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

# Every check runs and reports; the script fails once at the end, so one run lists every problem.
failures=0
fail() {
  printf 'kubevps: FAILED: %s\n' "$*" >&2
  failures=$((failures + 1))
}

# A provider's "4 GB" plan shows about 3.8 GiB to the OS and a "40 GB" disk about 37 GiB, so sizes are
# accepted from 90 % of what is declared.
readonly TOLERANCE_PERCENT=90
# big_enough HAVE_GIB DECLARED_GIB: sizes may be fractional, which bash arithmetic is not.
big_enough() { awk -v have="$1" -v declared="$2" -v pct="$TOLERANCE_PERCENT" 'BEGIN { exit !(have * 100 >= declared * pct) }'; }
gib() { awk -v bytes="$1" 'BEGIN { printf "%.2f", bytes / 1073741824 }'; }

case "$KUBEVPS_ROLE" in
  control-plane) required_ports=(6443 2379 2380 10250 10257 10259) ;;
  worker) required_ports=(10250) ;;
  *) die "ROLE is '$KUBEVPS_ROLE'; expected control-plane or worker" ;;
esac
[[ $KUBEVPS_CPU =~ ^[1-9][0-9]*$ ]] || die "CPU is '$KUBEVPS_CPU'; expected a positive whole number"
for name in MEMORY_GIB DISK_GIB; do
  value_var="KUBEVPS_$name"
  [[ ${!value_var} =~ ^[0-9]+(\.[0-9]+)?$ && ! ${!value_var} =~ ^0+(\.0+)?$ ]] ||
    die "$name is '${!value_var}'; expected a positive number of GiB such as 4 or 3.5"
done
[[ $EUID -eq 0 ]] || die "preflight must run as root (product_uuid is readable by root only); give the SSH user passwordless sudo"

log "preflight of node $KUBEVPS_NODE_NAME ($KUBEVPS_ROLE) on host $(hostname)"

# Operating system: the releases KubeVPS supports (package names, containerd and apt behaviour differ elsewhere).
os_field() { sed -n "s/^$1=//p" /etc/os-release | tr -d '"'; }
if [[ -r /etc/os-release ]]; then
  os_id=$(os_field ID)
  os_version=$(os_field VERSION_ID)
else
  os_id=unknown os_version=unknown
fi
case "$os_id $os_version" in
  "ubuntu 22.04" | "ubuntu 24.04" | "debian 12") log "os: $os_id $os_version" ;;
  *) fail "operating system is '$os_id $os_version'; expected Ubuntu 22.04, Ubuntu 24.04 or Debian 12 - reinstall the VPS with one of those images" ;;
esac

cpus=$(nproc)
if ((cpus >= KUBEVPS_CPU)); then
  log "cpu: $cpus (declared $KUBEVPS_CPU)"
else
  fail "the host has $cpus CPUs; the stack declares $KUBEVPS_CPU - fix size.cpu in the stack config or pick a bigger plan"
fi

mem_gib=$(gib "$(awk '$1 == "MemTotal:" { print $2 * 1024 }' /proc/meminfo)")
if big_enough "$mem_gib" "$KUBEVPS_MEMORY_GIB"; then
  log "memory: $mem_gib GiB (declared $KUBEVPS_MEMORY_GIB GiB)"
else
  fail "the host has $mem_gib GiB of memory; the stack declares $KUBEVPS_MEMORY_GIB GiB (at least $TOLERANCE_PERCENT % of it is needed) - fix size.memoryGiB or pick a bigger plan"
fi

disk_gib=$(gib "$(df --block-size=1 --output=size / | tail -n 1 | tr -d ' ')")
if big_enough "$disk_gib" "$KUBEVPS_DISK_GIB"; then
  log "disk: root filesystem $disk_gib GiB (declared $KUBEVPS_DISK_GIB GiB)"
else
  fail "the root filesystem is $disk_gib GiB; the stack declares $KUBEVPS_DISK_GIB GiB (at least $TOLERANCE_PERCENT % of it is needed) - grow the filesystem (resize2fs/growpart) or fix size.diskGiB"
fi

# Swap is reported, not refused: prepare.sh turns it off for good.
swap_kib=$(awk '$1 == "SwapTotal:" { print $2 }' /proc/meminfo)
if ((swap_kib > 0)); then
  log "swap: $((swap_kib / 1024)) MiB on; prepare turns it off (the kubelet requires that)"
else
  log "swap: off"
fi

# Ports: on a host that already joined, the cluster's own components hold them, which is fine.
if [[ -e /etc/kubernetes/kubelet.conf ]]; then
  log "ports: not checked, /etc/kubernetes/kubelet.conf exists (already a cluster member)"
else
  for port in "${required_ports[@]}"; do
    listener=$(ss -Hltnp "sport = :$port")
    if [[ -n $listener ]]; then
      fail "TCP port $port is in use (${listener//$'\n'/; }); a $KUBEVPS_ROLE needs it free - stop that service, or run the reset step if this host was a node before"
    fi
  done
  log "ports: checked ${required_ports[*]}"
fi

# Identity. The MAC is the one of the interface holding the default route: the one kubelet and the CNI
# use unless told otherwise.
if uuid=$(cat /sys/class/dmi/id/product_uuid 2>/dev/null) && [[ -n $uuid ]]; then
  printf 'kubevps: product_uuid=%s\n' "$uuid"
else
  fail "/sys/class/dmi/id/product_uuid is not readable; kubeadm needs a unique product_uuid per node - this VPS type (container-based?) cannot run Kubernetes nodes"
fi
default_iface=$(ip -o route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
if [[ -n $default_iface && -r /sys/class/net/$default_iface/address ]]; then
  printf 'kubevps: mac=%s\n' "$(cat "/sys/class/net/$default_iface/address")"
else
  fail "found no default route, so no primary interface and MAC; configure networking (ip route show default is empty)"
fi

if ((failures > 0)); then
  die "preflight of node $KUBEVPS_NODE_NAME found $failures problem(s), listed above"
fi
log "preflight of node $KUBEVPS_NODE_NAME passed"
