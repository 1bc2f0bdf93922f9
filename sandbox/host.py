"""Commands on this machine (the sandbox's host), and the packages the sandbox needs on it."""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

CACHE = Path(os.environ.get("BASTION_SANDBOX_CACHE", "/var/cache/bastion-sandbox"))

# Binary -> Debian package that brings it.
HOST_PREREQUISITES = {
    "systemd-nspawn": "systemd-container",
    "debootstrap": "debootstrap",
    "nft": "nftables",
    "ssh": "openssh-client",
    "openssl": "openssl",
    "git": "git",
}


def run(argv, check=True, input=None) -> subprocess.CompletedProcess:
    try:
        stdin = {} if input is not None else {"stdin": subprocess.DEVNULL}
        done = subprocess.run(argv, capture_output=True, text=True, input=input, **stdin)
    except FileNotFoundError:
        if check:
            raise SystemExit(f"{argv[0]}: not installed on this machine") from None
        # Cleaning up with a tool that is not installed: there is nothing of its kind to clean.
        return subprocess.CompletedProcess(argv, 127, "", f"{argv[0]}: not installed")
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))}: exit {done.returncode}\n{done.stderr.strip()}")
    return done


def sh(command: str) -> str:
    return run(["sh", "-c", command]).stdout


_held = 0


@contextmanager
def machine_lock():
    """One process at a time builds what this machine shares (packages, the rootfs, the baseline layers):
    the suite's shards run side by side. Re-entrant within a process."""
    global _held
    if _held:
        _held += 1
        try:
            yield
        finally:
            _held -= 1
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _held = 1
        try:
            yield
        finally:
            _held = 0


def ensure_prerequisites():
    """A fresh machine needs nothing done by hand: apt-get what is missing, without a prompt."""
    if os.geteuid() != 0:
        raise SystemExit("the sandbox needs root (mounts, veth, nftables): run as root")
    ensure_packages(HOST_PREREQUISITES)


def ensure_packages(binaries: dict[str, str]):
    """Install, with apt, the Debian package of each binary (binary -> package) that is missing."""
    def missing_packages():
        return sorted({pkg for binary, pkg in binaries.items()
                       if not shutil.which(binary) and not os.path.exists(f"/usr/sbin/{binary}")})
    if not missing_packages():
        return
    with machine_lock():
        _install(missing_packages())


def _install(missing: list[str]):
    if not missing:
        return
    print(f"installing host packages: {' '.join(missing)}", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]):
        done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr.strip()[-2000:]}")
