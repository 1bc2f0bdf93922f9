"""Commands on this machine (the sandbox's host), and the packages the sandbox needs on it."""
from __future__ import annotations

import os
import shutil
import subprocess

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
        done = subprocess.run(argv, capture_output=True, text=True, input=input,
                              stdin=None if input is not None else subprocess.DEVNULL)
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


def ensure_prerequisites():
    """A fresh machine needs nothing done by hand: apt-get what is missing, without a prompt."""
    if os.geteuid() != 0:
        raise SystemExit("the sandbox needs root (mounts, veth, nftables): run as root")
    ensure_packages(HOST_PREREQUISITES)


def ensure_packages(binaries: dict[str, str]):
    """Install, with apt, the Debian package of each binary (binary -> package) that is missing."""
    missing = sorted({pkg for binary, pkg in binaries.items()
                      if not shutil.which(binary) and not os.path.exists(f"/usr/sbin/{binary}")})
    if not missing:
        return
    print(f"installing host packages: {' '.join(missing)}", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]):
        done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr.strip()[-2000:]}")
