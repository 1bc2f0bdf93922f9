"""python -m sandbox {up|down|reset|status|ssh} [--blank]: the disposable droplet.

Name and subnet come from BASTION_SANDBOX (default bastion) and BASTION_SANDBOX_SUBNET
(default 10.213.7.0/24), so two sandboxes can run side by side. BASTION_SANDBOX_LAYOUT picks the
droplet it looks like: 2026 (default, the droplet today) or 2025 (the diary's). The v2 branch its
upstream serves is the real HACS app when ../shared/fixtures/hacs-v2 is there, or what BASTION_APP
names (a directory, a git URL, or "standin").
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from sandbox import baseline, layouts, upstream
from sandbox.machine import Sandbox


def from_environment() -> Sandbox:
    return Sandbox(os.environ.get("BASTION_SANDBOX", "bastion"),
                   os.environ.get("BASTION_SANDBOX_SUBNET", "10.213.7.0/24"), upstream.chosen_app(),
                   layouts.named(os.environ.get("BASTION_SANDBOX_LAYOUT")).name)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["up", "down", "reset", "status", "ssh"])
    parser.add_argument("--blank", action="store_true",
                        help="no production baseline: a brand-new droplet")
    parser.add_argument("command", nargs="*", help="with ssh: the command to run")
    args = parser.parse_args(argv)
    sandbox = from_environment()
    started = time.monotonic()
    if args.action in ("up", "reset"):
        sandbox.up() if args.blank else baseline.up(sandbox)
        info = sandbox.connection()
        print(f"sandbox {sandbox.name}: up at {info['address']} in {time.monotonic() - started:.1f} s "
              f"(ssh -F {info['ssh_config']} {info['address']})")
    elif args.action == "down":
        sandbox.down()
    elif args.action == "status":
        print(f"sandbox {sandbox.name}: {'running at ' + sandbox.address if sandbox.running() else 'not running'}")
        return 0 if sandbox.running() else 3
    elif args.action == "ssh":
        os.execvp("ssh", ["ssh", "-F", str(sandbox.ssh_config), sandbox.address, *args.command])
    return 0


if __name__ == "__main__":
    sys.exit(main())
