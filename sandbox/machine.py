"""A disposable stand-in for the SmoothCurves droplet: systemd-nspawn on an overlay.

One cached Debian 12 rootfs (built once with debootstrap) is the bottom layer; an optional
cached "baseline" layer (production laid by the fixture deploy) sits on it; each sandbox gets
a throwaway upper layer, its own veth, and a git daemon on the host side serving the stand-in
upstream. Everything it makes is named after the sandbox, so teardown and recovery can find it
again even when the run that made it was killed.
"""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox import rootfs
from sandbox.host import ensure_prerequisites, run, sh

STATE_ROOT = Path(os.environ.get("BASTION_SANDBOX_STATE", "/var/lib/bastion-sandbox"))
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
IP_FORWARD_SAVED = STATE_ROOT / "ip_forward.saved"
SSH_WAIT_SECONDS = 60


@dataclass
class Sandbox:
    name: str = "bastion"
    subnet: str = "10.213.7.0/24"
    # What v2 of its upstream holds: None for the stand-in, else the real app (see sandbox/upstream.py).
    app: str | None = None
    # Which droplet its production baseline lays (sandbox/layouts.py): main of the upstream follows it.
    layout: str = "2026"

    def __post_init__(self):
        # nspawn names the host side ve-NAME and interface names stop at 15 characters.
        if not (1 <= len(self.name) <= 12) or not self.name.replace("-", "").isalnum():
            raise SystemExit(f"sandbox name {self.name!r}: use 1-12 letters, digits or '-'")
        net = ipaddress.ip_network(self.subnet)
        hosts = list(net.hosts())
        self.host_address, self.address = str(hosts[0]), str(hosts[1])
        self.prefix = net.prefixlen
        self.state = STATE_ROOT / self.name

    # Names of everything this sandbox owns on the host.
    @property
    def veth(self):
        return f"ve-{self.name}"

    @property
    def nft_table(self):
        return "bastion_" + self.name.replace("-", "_")

    @property
    def merged(self):
        return self.state / "merged"

    @property
    def upstream_dir(self):
        return self.state / "upstream"

    @property
    def upstream_url(self):
        return f"git://{self.host_address}/hacs.git"

    @property
    def upstream_repo(self):
        return self.upstream_dir / "hacs.git"

    @property
    def known_hosts(self):
        return self.state / "known_hosts"

    @property
    def ssh_config(self):
        return self.state / "ssh_config"

    @property
    def info_file(self):
        return self.state / "sandbox.json"

    # ------------------------------------------------------------------ lifecycle

    def up(self, layers: list[Path] | None = None) -> Sandbox:
        """Boot a pristine copy; whatever an earlier run of this name left is cleared first."""
        ensure_prerequisites()
        self.down(quiet=True)
        self._check_subnet_free()
        base = rootfs.ensure()
        self.state.mkdir(parents=True, exist_ok=True)
        for sub in ("upper", "work", "merged"):
            (self.state / sub).mkdir()
        lowers = [str(p) for p in (layers or [])] + [str(base)]
        run(["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={':'.join(lowers)},upperdir={self.state}/upper,workdir={self.state}/work",
             str(self.merged)])
        self._configure_guest()
        self._enable_forwarding()
        self._start_upstream_repo()
        self._boot()
        self._configure_host_side()
        self._start_git_daemon()
        self._write_connection_files()
        self.wait_for_ssh()
        return self

    def down(self, quiet: bool = False):
        """Stop what this sandbox started, by PID, and remove its veth, mounts and nft table."""
        self._stop_pidfile("nspawn.pid", "systemd-nspawn", grace=15)
        # nspawn killed outright leaves the guest's init running: its end ends the whole guest.
        self._stop_pidfile("init.pid", "systemd", grace=0)
        self._stop_pidfile("gitd.pid", "git-daemon", grace=3)
        self._stop_ssh_masters()
        for mount in reversed(_mounts_under(self.state)):
            run(["umount", "-l", mount], check=False)
        run(["ip", "link", "delete", self.veth], check=False)
        run(["nft", "delete", "table", "ip", self.nft_table], check=False)
        if self.state.exists():
            shutil.rmtree(self.state)
        self._restore_forwarding()
        if not quiet:
            print(f"sandbox {self.name}: down")

    def stop(self):
        """Halt the guest but keep its upper layer (to turn it into a cached layer)."""
        self._stop_pidfile("nspawn.pid", "systemd-nspawn", grace=15)
        self._stop_pidfile("init.pid", "systemd", grace=0)
        run(["umount", str(self.merged)], check=False)

    def running(self) -> bool:
        return _alive(self.state / "nspawn.pid", "systemd-nspawn")

    # ------------------------------------------------------------------ access

    def ssh(self, command: str, check: bool = True, user: str = "root",
            timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ssh", "-F", str(self.ssh_config), f"{user}@{self.address}", command],
            capture_output=True, text=True, check=check, stdin=subprocess.DEVNULL, timeout=timeout,
        )

    def wait_for_ssh(self):
        deadline = time.monotonic() + SSH_WAIT_SECONDS
        while True:
            probe = subprocess.run(
                ["ssh", "-F", str(self.ssh_config), "-o", "ConnectTimeout=2",
                 f"root@{self.address}", "systemctl is-system-running --wait >/dev/null 2>&1; true"],
                capture_output=True, text=True, stdin=subprocess.DEVNULL,
            )
            if probe.returncode == 0:
                return
            if time.monotonic() > deadline or not self.running():
                log = (self.state / "console.log")
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise SystemExit(f"sandbox {self.name}: SSH never answered: {probe.stderr.strip()}\n{tail}")
            time.sleep(0.2)

    def connection(self) -> dict:
        return json.loads(self.info_file.read_text())

    # ------------------------------------------------------------------ internals

    def _check_subnet_free(self):
        net = ipaddress.ip_network(self.subnet)
        for line in sh("ip -4 -o addr show").splitlines():
            addr = ipaddress.ip_interface(line.split()[3])
            if addr.network.overlaps(net):
                raise SystemExit(
                    f"sandbox subnet {self.subnet} overlaps {addr} on this machine: "
                    f"choose another with BASTION_SANDBOX_SUBNET")

    def _configure_guest(self):
        network = self.merged / "etc/systemd/network/80-container-host0.network"
        network.parent.mkdir(parents=True, exist_ok=True)
        # The droplet of today has global IPv6, so localhost is ::1 too (glibc leaves ::1 out otherwise) and
        # production, told to listen on localhost, listens on [::1] only. A unique-local address on the
        # guest's own end of the veth does the same here; nothing is routed to it.
        ipv6 = f"Address=fd5a:b57e:{self.host_address.split('.')[2]}::2/64\n" if self.layout == "2026" else ""
        network.write_text(
            "[Match]\nName=host0\n\n[Network]\n"
            f"Address={self.address}/{self.prefix}\nGateway={self.host_address}\n{ipv6}"
            # No IPv6 router here: waiting for router advertisements held boot for 13 s.
            "LinkLocalAddressing=no\nIPv6AcceptRA=no\n")
        resolv = self.merged / "etc/resolv.conf"
        if resolv.is_symlink():
            resolv.unlink()
        resolv.write_text(Path("/etc/resolv.conf").read_text())
        (self.merged / "etc/hostname").write_text(f"{self.name}\n")
        (self.merged / "etc/hosts").write_text(
            f"127.0.0.1 localhost\n127.0.1.1 {self.name}\n"
            + ("::1 localhost ip6-localhost ip6-loopback\n" if self.layout == "2026" else ""))

    def _enable_forwarding(self):
        STATE_ROOT.mkdir(parents=True, exist_ok=True)
        if not IP_FORWARD_SAVED.exists():
            IP_FORWARD_SAVED.write_text(IP_FORWARD.read_text())
        IP_FORWARD.write_text("1\n")
        run(["nft", "-f", "-"], input=(
            f"table ip {self.nft_table} {{\n"
            f"  chain postrouting {{\n"
            f"    type nat hook postrouting priority srcnat; policy accept;\n"
            f"    ip saddr {self.subnet} oifname != \"{self.veth}\" masquerade\n"
            f"  }}\n}}\n"))

    @staticmethod
    def restore_forwarding_when_idle():
        """ip_forward as it was before the first sandbox, once none runs (side by side, each of the last two
        to stop may have seen the other still up)."""
        running = [p for p in STATE_ROOT.glob("*/nspawn.pid") if _alive(p, "systemd-nspawn")]
        if IP_FORWARD_SAVED.exists() and not running:
            IP_FORWARD.write_text(IP_FORWARD_SAVED.read_text())
            IP_FORWARD_SAVED.unlink()

    def _restore_forwarding(self):
        others = [d for d in STATE_ROOT.glob("*/nspawn.pid") if d.parent != self.state]
        if IP_FORWARD_SAVED.exists() and not any(_alive(p, "systemd-nspawn") for p in others):
            IP_FORWARD.write_text(IP_FORWARD_SAVED.read_text())
            IP_FORWARD_SAVED.unlink()

    def _start_upstream_repo(self):
        from sandbox import layouts, upstream
        main_app = layouts.named(self.layout).main_app
        upstream.build(self.upstream_repo, self.app, str(main_app) if main_app and main_app.is_dir() else None)

    def _boot(self):
        with open(self.state / "console.log", "wb") as console:
            proc = subprocess.Popen(
                ["systemd-nspawn", "-b", "-D", str(self.merged), f"--machine={self.name}",
                 "--register=no", "--keep-unit", "--network-veth", "--console=read-only"],
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _write_pidfile(self.state / "nspawn.pid", proc.pid)

    def _configure_host_side(self):
        deadline = time.monotonic() + 10
        nspawn = int((self.state / "nspawn.pid").read_text().split()[0])
        children = Path(f"/proc/{nspawn}/task/{nspawn}/children")
        while not (children.exists() and children.read_text().split()):
            if time.monotonic() > deadline:
                raise SystemExit(f"sandbox {self.name}: the guest never started; see {self.state}/console.log")
            time.sleep(0.02)
        _write_pidfile(self.state / "init.pid", int(children.read_text().split()[0]))
        while run(["ip", "link", "show", self.veth], check=False).returncode != 0:
            if time.monotonic() > deadline or not self.running():
                raise SystemExit(f"sandbox {self.name}: {self.veth} never appeared; see {self.state}/console.log")
            time.sleep(0.05)
        run(["ip", "addr", "add", f"{self.host_address}/{self.prefix}", "dev", self.veth])
        run(["ip", "link", "set", self.veth, "up"])

    def _start_git_daemon(self):
        with open(self.state / "gitd.log", "wb") as log:
            proc = subprocess.Popen(
                [_git_daemon(), "--reuseaddr", "--export-all", "--informative-errors",
                 f"--listen={self.host_address}", f"--base-path={self.upstream_dir}",
                 str(self.upstream_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        _write_pidfile(self.state / "gitd.pid", proc.pid)

    def _write_connection_files(self):
        key = rootfs.ssh_key()
        self.known_hosts.write_text(f"{self.address} {rootfs.host_key()}\n")
        self.ssh_config.write_text(
            f"Host {self.address}\n"
            f"  User root\n"
            f"  IdentityFile {key}\n"
            f"  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {self.known_hosts}\n"
            f"  StrictHostKeyChecking yes\n"
            f"  BatchMode yes\n"
            f"  ControlMaster auto\n"
            f"  ControlPath {self.state}/ssh-%C\n"
            f"  ControlPersist 60\n")
        self.info_file.write_text(json.dumps({
            "name": self.name,
            "address": self.address,
            "host_address": self.host_address,
            "ssh_key": str(key),
            "known_hosts": str(self.known_hosts),
            "ssh_config": str(self.ssh_config),
            "upstream_url": self.upstream_url,
            "upstream_repo": str(self.upstream_repo),
            "layout": self.layout,
        }, indent=2))

    def _stop_ssh_masters(self):
        """Connection-sharing ssh masters started through this sandbox's ssh_config."""
        for socket in self.state.glob("ssh-*") if self.state.exists() else []:
            subprocess.run(["ssh", "-F", str(self.ssh_config), "-O", "exit", self.address],
                           capture_output=True, stdin=subprocess.DEVNULL)
            socket.unlink(missing_ok=True)

    def _stop_pidfile(self, name: str, expect: str, grace: float):
        pidfile = self.state / name
        if _alive(pidfile, expect):
            _kill(int(pidfile.read_text().split()[0]), grace)
        pidfile.unlink(missing_ok=True)


def _start_time(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def _write_pidfile(path: Path, pid: int):
    """PID and start time: a recycled PID never matches, so teardown stops only what it started."""
    path.write_text(f"{pid} {_start_time(pid)}\n")


def _git_daemon() -> str:
    """The daemon itself, not the `git daemon` wrapper, so its PID is the one to stop."""
    return str(Path(sh("git --exec-path").strip()) / "git-daemon")


def _alive(pidfile: Path, expect: str) -> bool:
    """True when the PID in the file still runs the program we started (not a recycled PID)."""
    try:
        pid, started = pidfile.read_text().split()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        return expect.encode() in cmdline and _start_time(int(pid)) == started
    except (OSError, ValueError):
        return False


def _kill(pid: int, grace: float):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if _gone(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    for _ in range(40):
        if _gone(pid):
            return
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    """Exited, or a zombie: PID 1 on this kind of machine may never reap what it inherits."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return True
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path) + "/"
    found = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = line.split()[1].encode().decode("unicode_escape")
        if target.startswith(prefix):
            found.append(target)
    return found
