"""Pod Security Standards, "restricted" profile (which includes "baseline"), as of Kubernetes 1.28.

Written from https://kubernetes.io/docs/concepts/security/pod-security-standards/ to check the pod
templates the program applies. ``violations`` returns one line per broken rule, as the admission
controller would name it; an empty list means the pod is admitted in a ``restricted`` namespace.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

BASELINE_CAPABILITIES: Final = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
        "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip
RESTRICTED_VOLUME_TYPES: Final = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
SAFE_SYSCTLS: Final = frozenset(
    {
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)  # fmt: skip
SELINUX_TYPES: Final = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
SECCOMP_ALLOWED: Final = frozenset({"RuntimeDefault", "Localhost"})


def _containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or []


def violations(spec: Mapping[str, Any], annotations: Mapping[str, str] | None = None) -> list[str]:
    """Every restricted-profile rule that the pod ``spec`` (with its ``annotations``) breaks."""
    problems: list[str] = []
    pod_sc: Mapping[str, Any] = spec.get("securityContext") or {}
    containers = list(_containers(spec))

    # -- baseline
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            problems.append(f"host namespaces: {field}=true")
    contexts = [("pod", pod_sc)] + [(c["name"], c.get("securityContext") or {}) for c in containers]
    for who, sc in contexts:
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            problems.append(f"hostProcess: {who}")
        selinux = sc.get("seLinuxOptions") or {}
        if selinux.get("type", "") not in SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
            problems.append(f"seLinuxOptions: {who}")
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            problems.append(f"seccompProfile Unconfined: {who}")
    for container in containers:
        sc = container.get("securityContext") or {}
        name = container["name"]
        if sc.get("privileged"):
            problems.append(f"privileged: {name}")
        added = set((sc.get("capabilities") or {}).get("add") or [])
        if added - BASELINE_CAPABILITIES:
            problems.append(
                f"capabilities beyond baseline: {name} adds {sorted(added - BASELINE_CAPABILITIES)}"
            )
        if any(port.get("hostPort") for port in container.get("ports") or []):
            problems.append(f"hostPort: {name}")
        if sc.get("procMount", "Default") != "Default":
            problems.append(f"procMount: {name}")
    for volume in spec.get("volumes") or []:
        if "hostPath" in volume:
            problems.append(f"hostPath volume: {volume['name']}")
    for key, value in (annotations or {}).items():
        if key.startswith("container.apparmor.security.beta.kubernetes.io/") and not (
            value == "runtime/default" or value.startswith("localhost/")
        ):
            problems.append(f"AppArmor: {key}={value}")
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl["name"] not in SAFE_SYSCTLS:
            problems.append(f"unsafe sysctl: {sysctl['name']}")

    # -- restricted
    for volume in spec.get("volumes") or []:
        types = set(volume) - {"name"}
        if not types <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"volume type not allowed: {volume['name']} {sorted(types)}")
    for container in containers:
        sc = container.get("securityContext") or {}
        name = container["name"]
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"allowPrivilegeEscalation != false: {name}")
        run_as_non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if run_as_non_root is not True or sc.get("runAsNonRoot") is False:
            problems.append(f"runAsNonRoot != true: {name}")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
            problems.append(f"runAsUser=0: {name}")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in SECCOMP_ALLOWED:
            problems.append(f"seccompProfile not RuntimeDefault or Localhost: {name}")
        capabilities = sc.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            problems.append(f"capabilities must drop ALL: {name}")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"capabilities may only add NET_BIND_SERVICE: {name}")
    if pod_sc.get("runAsUser") == 0:
        problems.append("runAsUser=0: pod")
    return problems
