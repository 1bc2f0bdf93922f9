"""The cached Debian 12 root filesystem every sandbox boots from (built once with debootstrap)."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from sandbox.host import CACHE, ensure_prerequisites, machine_lock, run

MIRROR = os.environ.get("BASTION_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Bump when the recipe below changes, so every machine rebuilds instead of booting a stale cache.
RECIPE = "bookworm-3"
PACKAGES = ("openssh-server,systemd-sysv,dbus,python3,sudo,ca-certificates,curl,iproute2,"
            "procps,less")


def path() -> Path:
    return CACHE / f"rootfs-{RECIPE}"


def ssh_key() -> Path:
    return CACHE / "ssh" / "id_ed25519"


def host_key() -> str:
    """The guest's ed25519 host key: every copy shares it, so it is pinned, never learnt."""
    return " ".join((path() / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2])


def ensure() -> Path:
    ensure_prerequisites()
    _ensure_ssh_key()
    target = path()
    if target.exists():
        return target
    with machine_lock():
        return target if target.exists() else _build(target)


def _build(target: Path) -> Path:
    build = CACHE / f"rootfs-{RECIPE}.building"
    if build.exists():
        shutil.rmtree(build)
    started = time.monotonic()
    print(f"building sandbox rootfs with debootstrap into {target} (once per machine)", flush=True)
    run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "bookworm", str(build), MIRROR])
    _configure(build)
    build.rename(target)
    print(f"rootfs built in {time.monotonic() - started:.1f} s", flush=True)
    return target


def _ensure_ssh_key():
    key = ssh_key()
    if key.exists():
        return
    key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bastion-sandbox", "-f", str(key)])


def _configure(root: Path):
    def chroot(*argv):
        run(["chroot", str(root), *argv])

    chroot("systemctl", "enable", "systemd-networkd")
    # Containers have no audit subsystem to hand: a required pam_loginuid refuses every SSH login.
    sshd_pam = root / "etc/pam.d/sshd"
    sshd_pam.write_text(sshd_pam.read_text().replace(
        "session    required     pam_loginuid.so", "session    optional     pam_loginuid.so"))
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(Path(f"{ssh_key()}.pub").read_text())
    (ssh_dir / "authorized_keys").chmod(0o600)
    # This machine reaches package registries through a proxy whose CA only the host trusts.
    extra = Path("/usr/local/share/ca-certificates")
    if extra.is_dir():
        for cert in extra.glob("*.crt"):
            shutil.copy(cert, root / "usr/local/share/ca-certificates" / cert.name)
        chroot("update-ca-certificates")
    (root / "etc/npmrc").write_text("cafile=/etc/ssl/certs/ca-certificates.crt\n")
    (root / "etc/apt/apt.conf.d/90bastion-sandbox").write_text(
        'APT::Install-Recommends "false";\nAcquire::Retries "3";\n')
    (root / "etc/machine-id").write_text("")
