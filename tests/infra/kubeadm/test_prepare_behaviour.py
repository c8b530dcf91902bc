"""Behaviour of prepare.sh, run for real in a sandbox with every system-changing command faked.

Faked (stateful, through files in $FAKE_OUT): apt-get, apt-mark, dpkg-query, containerd (serving a
fixture of `containerd config default`), systemctl, swapon/swapoff, modprobe, sysctl, curl, gpg, nft.
Real: the script's own logic and every file it writes under /etc (the sandbox's overlay). So these
tests prove what prepare decides and writes, and that a second run changes nothing; they cannot prove
that apt, containerd, systemd or the kernel accept it; that needs a real VPS.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from infra.kubeadm import scripts

FIXTURES = Path(__file__).parent / "fixtures"
CONTAINERD_1_7 = FIXTURES / "containerd-1.7-config-default-excerpt.toml"
CONTAINERD_2_0 = FIXTURES / "containerd-2.0-config-default-excerpt.toml"

FSTAB = """# /etc/fstab: static file system information.
UUID=0a1b2c3d / ext4 errors=remount-ro 0 1
/swap.img\tnone\tswap\tsw\t0\t0
"""

FAKES = {
    # dpkg-query -W -f=FORMAT PACKAGE: answers from $FAKE_OUT/installed ("package version" lines).
    "dpkg-query": """
format=$2 package=$3
version=$(awk -v p="$package" '$1 == p { print $2 }' "$FAKE_OUT/installed" 2>/dev/null)
[[ -n $version ]] || exit 1
case "$format" in
  *Status-Status*) echo installed ;;
  *Version*) echo "$version" ;;
esac
""",
    # apt-get [options] install PACKAGE[=VERSION-*]...: records them as installed (pkgs.k8s.io style).
    "apt-get": """
for arg in "$@"; do
  case "$arg" in
    -* | update | install | *Lock* | *force-confold) ;;
    *=*) printf '%s %s\\n' "${arg%%=*}" "${arg#*=}" | sed 's/-\\*$/-1.1/' >> "$FAKE_OUT/installed" ;;
    *) printf '%s 1.0\\n' "$arg" >> "$FAKE_OUT/installed" ;;
  esac
done
""",
    "apt-mark": """
case "$1" in
  showhold) cat "$FAKE_OUT/held" 2>/dev/null || true ;;
  hold) shift; printf '%s\\n' "$@" >> "$FAKE_OUT/held" ;;
esac
""",
    "containerd": 'if [[ $1 == config ]]; then cat "$FAKE_CONTAINERD_CONFIG"; else echo "containerd 9.9"; fi',
    "swapon": 'cat "$FAKE_OUT/swap" 2>/dev/null || true',
    "swapoff": 'rm -f "$FAKE_OUT/swap"',
    "modprobe": "true",
    "sysctl": "true",
    "systemctl": "true",
    "curl": "echo 'fake armored key'",
    "gpg": 'while (($#)); do [[ $1 == -o ]] && cat > "$2"; shift; done',
    "nft": """
case "$*" in
  "list table inet kubevps") [[ -e $FAKE_OUT/nft-loaded ]] ;;
  "--check --file "*) true ;;
  "--file "*) touch "$FAKE_OUT/nft-loaded" ;;
  *) exit 2 ;;
esac
""",
}


@pytest.fixture
def fresh_vps(sandbox):
    """A fresh Ubuntu-like host: swap on, nothing installed but the base system."""
    sandbox.fakes.update(FAKES)
    sandbox.write("/etc/fstab", FSTAB)
    (sandbox.out / "swap").write_text("/swap.img\n")
    (sandbox.out / "installed").write_text("ca-certificates 1.0\ncurl 1.0\n")
    return sandbox


def _prepare(host, realistic_params, containerd: Path = CONTAINERD_1_7, **overrides: str):
    params = {**realistic_params["prepare"], **overrides}
    return host.run_step("prepare", params, env={"FAKE_CONTAINERD_CONFIG": str(containerd)})


def _wrote(run) -> list[str]:
    return [
        line.removeprefix("kubevps: wrote ") for line in run.stderr.splitlines() if "kubevps: wrote " in line
    ]


def test_first_run_installs_pinned_packages_and_holds_them(fresh_vps, realistic_params) -> None:
    run = _prepare(fresh_vps, realistic_params)

    run.assert_ok()
    installs = [argv for argv in run.argv("apt-get") if " install " in f" {argv} "]
    assert installs[0].endswith("install --no-install-recommends gpg nftables containerd")
    assert installs[1].endswith(
        "install --allow-change-held-packages kubelet=1.28.15-* kubeadm=1.28.15-* kubectl=1.28.15-*"
    )
    assert "-o DPkg::Lock::Timeout=600" in installs[0]
    assert (fresh_vps.out / "held").read_text().split() == ["kubelet", "kubeadm", "kubectl"]


def test_first_run_writes_the_kubernetes_apt_source_for_the_minor(fresh_vps, realistic_params) -> None:
    _prepare(fresh_vps, realistic_params).assert_ok()

    assert fresh_vps.path("/etc/apt/sources.list.d/kubernetes.list").read_text() == (
        "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] "
        "https://pkgs.k8s.io/core:/stable:/v1.28/deb/ /\n"
    )
    assert fresh_vps.path("/etc/apt/keyrings/kubernetes-apt-keyring.gpg").read_text() == "fake armored key\n"


def test_swap_goes_off_now_and_after_reboot(fresh_vps, realistic_params) -> None:
    run = _prepare(fresh_vps, realistic_params)

    run.assert_ok()
    assert run.argv("swapoff") == ["-a"]
    fstab = fresh_vps.path("/etc/fstab").read_text().splitlines()
    assert fstab[1] == "UUID=0a1b2c3d / ext4 errors=remount-ro 0 1"
    assert fstab[2].startswith("# kubevps: swap off for the kubelet # /swap.img")


def test_kernel_modules_and_sysctls_are_persisted(fresh_vps, realistic_params) -> None:
    run = _prepare(fresh_vps, realistic_params)

    run.assert_ok()
    modules = fresh_vps.path("/etc/modules-load.d/kubevps-kubernetes.conf").read_text()
    assert modules.splitlines()[1:] == ["overlay", "br_netfilter"]
    sysctls = fresh_vps.path("/etc/sysctl.d/99-kubevps-kubernetes.conf").read_text()
    for setting in ("net.bridge.bridge-nf-call-iptables = 1", "net.bridge.bridge-nf-call-ip6tables = 1",
                    "net.ipv4.ip_forward = 1"):  # fmt: skip
        assert setting in sysctls
    assert run.argv("modprobe") == ["overlay", "br_netfilter"]


@pytest.mark.parametrize(
    ("containerd", "cgroup_line", "sandbox_line"),
    [
        pytest.param(CONTAINERD_1_7, "SystemdCgroup = true", 'sandbox_image = "registry.k8s.io/pause:3.9"',
                     id="containerd-1.7-version-2"),
        pytest.param(CONTAINERD_2_0, "SystemdCgroup = true", "sandbox = 'registry.k8s.io/pause:3.9'",
                     id="containerd-2.0-version-3-without-SystemdCgroup"),
    ],
)  # fmt: skip
def test_containerd_uses_systemd_cgroups_and_pause_3_9(
    fresh_vps, realistic_params, containerd: Path, cgroup_line: str, sandbox_line: str
) -> None:
    run = _prepare(fresh_vps, realistic_params, containerd=containerd)

    run.assert_ok()
    config = fresh_vps.path("/etc/containerd/config.toml").read_text()
    lines = [line.strip() for line in config.splitlines()]
    assert cgroup_line in lines
    assert sandbox_line in lines
    assert "SystemdCgroup = false" not in lines
    options_header = next(i for i, line in enumerate(lines) if line.endswith(".runtimes.runc.options]"))
    assert cgroup_line in lines[options_header:]
    assert "restart containerd" in run.argv("systemctl")


def test_containerd_config_of_an_unknown_format_is_refused(
    fresh_vps, realistic_params, tmp_path: Path
) -> None:
    unknown = tmp_path / "config.toml"
    unknown.write_text("version = 4\n")

    run = _prepare(fresh_vps, realistic_params, containerd=unknown)

    run.assert_fails("prints a config format this script does not know")


def test_kubelet_gets_node_ip_and_labels(fresh_vps, realistic_params) -> None:
    _prepare(fresh_vps, realistic_params).assert_ok()

    assert fresh_vps.path("/etc/default/kubelet").read_text() == (
        "KUBELET_EXTRA_ARGS=--node-ip=10.10.0.2 --node-labels=kubevps.dev/business-line=payments\n"
    )


def test_kubelet_without_labels_gets_only_the_node_ip(fresh_vps, realistic_params) -> None:
    params = {k: v for k, v in realistic_params["prepare"].items() if k != "NODE_LABELS"}

    fresh_vps.run_step("prepare", params, env={"FAKE_CONTAINERD_CONFIG": str(CONTAINERD_1_7)}).assert_ok()

    assert fresh_vps.path("/etc/default/kubelet").read_text() == "KUBELET_EXTRA_ARGS=--node-ip=10.10.0.2\n"


def test_firewall_replaces_only_its_table_and_loads_at_boot(fresh_vps, realistic_params) -> None:
    run = _prepare(fresh_vps, realistic_params)

    run.assert_ok()
    ruleset = fresh_vps.path("/etc/kubevps/firewall.nft").read_text()
    assert ruleset.splitlines()[2:4] == ["table inet kubevps", "delete table inet kubevps"]
    assert realistic_params["prepare"]["NFT_RULESET"] in ruleset
    assert oct(fresh_vps.path("/etc/kubevps/firewall.nft").stat().st_mode & 0o777) == "0o600"
    unit = fresh_vps.path("/etc/systemd/system/kubevps-firewall.service").read_text()
    assert "ExecStart=/usr/sbin/nft --file /etc/kubevps/firewall.nft" in unit
    assert "Before=network-pre.target shutdown.target containerd.service kubelet.service" in unit
    assert "enable --quiet kubevps-firewall.service" in run.argv("systemctl")
    (check, load) = run.argv("nft")
    assert check.startswith("--check --file ")  # a candidate in the temp dir, before it is installed
    assert check.endswith("/firewall.nft")
    assert load == "--file /etc/kubevps/firewall.nft"


def test_second_run_changes_nothing(fresh_vps, realistic_params) -> None:
    _prepare(fresh_vps, realistic_params).assert_ok()
    etc_before = _snapshot(fresh_vps.etc)

    again = _prepare(fresh_vps, realistic_params)

    again.assert_ok()
    assert _wrote(again) == []
    assert _snapshot(fresh_vps.etc) == etc_before
    assert fresh_vps.leftover_temp_files() == []
    assert again.argv("apt-get") == []
    assert again.argv("swapoff") == []
    assert not [
        argv for argv in again.argv("systemctl") if argv.startswith(("restart", "try-restart", "daemon"))
    ]
    assert again.argv("nft")[1:] == ["list table inet kubevps"]
    assert [argv for argv in again.argv("apt-mark") if argv.startswith("hold")] == []


def test_firewall_lost_at_runtime_is_reloaded(fresh_vps, realistic_params) -> None:
    _prepare(fresh_vps, realistic_params).assert_ok()
    (fresh_vps.out / "nft-loaded").unlink()  # e.g. someone ran `nft flush ruleset`

    again = _prepare(fresh_vps, realistic_params)

    again.assert_ok()
    assert again.argv("nft")[-1] == "--file /etc/kubevps/firewall.nft"


def test_changed_firewall_is_reapplied(fresh_vps, realistic_params) -> None:
    _prepare(fresh_vps, realistic_params).assert_ok()

    again = _prepare(fresh_vps, realistic_params, NFT_RULESET="table inet kubevps {\n}\n")

    again.assert_ok()
    assert _wrote(again) == ["/etc/kubevps/firewall.nft"]
    assert "--file /etc/kubevps/firewall.nft" in again.argv("nft")


def test_a_ruleset_nft_rejects_never_replaces_the_boot_file(fresh_vps, realistic_params) -> None:
    _prepare(fresh_vps, realistic_params).assert_ok()
    good = fresh_vps.path("/etc/kubevps/firewall.nft").read_text()
    fresh_vps.fakes["nft"] = FAKES["nft"].replace(
        '"--check --file "*) true ;;', '"--check --file "*) exit 1 ;;'
    )

    run = _prepare(fresh_vps, realistic_params, NFT_RULESET="table inet kubevps { chain input { bogus } }")

    run.assert_fails("nft rejects NFT_RULESET")
    assert fresh_vps.path("/etc/kubevps/firewall.nft").read_text() == good


def test_a_ruleset_that_flushes_everything_is_refused(fresh_vps, realistic_params) -> None:
    run = _prepare(fresh_vps, realistic_params, NFT_RULESET="flush ruleset\ntable inet kubevps {\n}\n")

    run.assert_fails("NFT_RULESET contains 'flush ruleset'")
    assert not fresh_vps.path("/etc/kubevps/firewall.nft").exists()


def test_a_cluster_member_is_not_upgraded_behind_kubeadm(fresh_vps, realistic_params) -> None:
    _prepare(fresh_vps, realistic_params).assert_ok()
    fresh_vps.write("/etc/kubernetes/kubelet.conf", "kind: Config\n")

    run = _prepare(fresh_vps, realistic_params, K8S_VERSION="1.28.16")

    run.assert_fails("already a cluster member with kubelet (1.28.15-1.1)", "upgrade it with kubeadm upgrade")
    assert not [argv for argv in run.argv("apt-get") if "install" in argv]


def test_docker_containerd_io_is_kept(fresh_vps, realistic_params) -> None:
    with (fresh_vps.out / "installed").open("a") as installed:
        installed.write("containerd.io 1.7.25-1\n")

    run = _prepare(fresh_vps, realistic_params)

    run.assert_ok()
    installs = [argv for argv in run.argv("apt-get") if " install " in f" {argv} "]
    assert installs[0].endswith("install --no-install-recommends gpg nftables")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        pytest.param({"K8S_VERSION": "v1.28.15"}, "K8S_VERSION is 'v1.28.15'", id="version"),
        pytest.param({"NODE_IP": "10.0.0.1; reboot"}, "NODE_IP is '10.0.0.1; reboot'", id="node-ip"),
        pytest.param({"NODE_LABELS": "a=b c=d"}, "NODE_LABELS is 'a=b c=d'", id="labels-with-space"),
    ],
)
def test_bad_params_are_refused_before_any_change(
    fresh_vps, realistic_params, override: dict[str, str], message: str
) -> None:
    run = _prepare(fresh_vps, realistic_params, **override)

    run.assert_fails(message)
    assert run.argv("swapoff") == []


def test_rendered_prepare_stays_within_one_argument(realistic_params) -> None:
    script = scripts.render_script("prepare", realistic_params["prepare"])

    assert len(script.encode()) < scripts.MAX_SCRIPT_BYTES / 4


def test_firewall_file_loads_twice_into_one_table_with_the_real_nft(fresh_vps, realistic_params) -> None:
    # The one check here against the real tool, in an empty network namespace: the written file is
    # valid nftables and reloading it replaces the table instead of adding a second copy of its rules.
    nft = shutil.which("nft")
    if nft is None:
        pytest.skip("needs the nft binary (Debian package nftables) on PATH")
    _prepare(fresh_vps, realistic_params).assert_ok()
    firewall = fresh_vps.path("/etc/kubevps/firewall.nft")

    listed = subprocess.run(
        [
            "unshare",
            "--net",
            "sh",
            "-c",
            f'"$0" --file {firewall} && "$0" --file {firewall} && "$0" list ruleset',
            nft,
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("table inet kubevps") == 1
    assert listed.stdout.count('comment "kube-apiserver"') == 1


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()
    }
