"""Benchmark: how long bastion takes on a real sandbox, and how much a no-op run asks the host.

    ./bastion bench [--runs N]

Boots its own sandbox (BASTION_BENCH_SANDBOX, default bst-bench on 10.213.30.0/24), prints
figures, stops it. It measures; it asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time

from sandbox import baseline, upstream
from sandbox.machine import Sandbox
from tests.harness import served_commit
from tests.settings import REPO

PYINFRA = os.path.join(os.path.dirname(sys.executable), "pyinfra")


def timed(argv, env) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return time.monotonic() - started, done


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="no-op runs to time")
    parser.add_argument("--pushes", type=int, default=3,
                        help="pushes to time from push to served through nginx (default interval: minutes)")
    args = parser.parse_args()
    sandbox = Sandbox(os.environ.get("BASTION_BENCH_SANDBOX", "bst-bench"),
                      os.environ.get("BASTION_BENCH_SUBNET", "10.213.30.0/24"))
    env = dict(os.environ, BASTION_TARGET="sandbox", BASTION_SANDBOX=sandbox.name)
    deploy = [PYINFRA, "-y", "inventory.py", "deploy.py"]
    rows = []
    try:
        baseline.up(sandbox)  # warms the caches: rootfs and baseline layer
        started = time.monotonic()
        baseline.up(sandbox)
        rows.append(("reset to pristine (production baseline)", f"{time.monotonic() - started:.1f} s"))

        ssh_round, _ = timed(["ssh", "-F", str(sandbox.ssh_config), "-o", "ControlMaster=no",
                              sandbox.address, "true"], env)
        rows.append(("one SSH connection + command", f"{ssh_round:.2f} s"))
        fact_round, _ = timed([PYINFRA, "inventory.py", "fact", "server.Hostname"], env)
        rows.append(("pyinfra: connect + one fact (the floor)", f"{fact_round:.2f} s"))

        cold, done = timed(deploy, env)
        if done.returncode != 0:
            raise SystemExit(f"cold converge failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        rows.append(("cold converge: pristine to healthy", f"{cold:.1f} s"))

        noop = []
        for _ in range(args.runs):
            seconds, done = timed(deploy, env)
            noop.append(seconds)
        rows.append((f"no-op run, median of {args.runs}", f"{statistics.median(noop):.2f} s "
                                                           f"(min {min(noop):.2f}, max {max(noop):.2f})"))
        _, debug = timed([*deploy, "--debug"], env)
        commands = debug.stderr.count("Command exit status") + debug.stdout.count("Command exit status")
        uploads = (debug.stderr + debug.stdout).count("Attempting upload")
        rows.append(("commands a no-op run sends", f"{commands} (uploads: {uploads})"))

        latencies = []
        for n in range(args.pushes):
            time.sleep(random.uniform(0, 60))  # uniform over the default interval: any phase of the timer
            new = upstream.push_commit(sandbox.upstream_repo, "v2", {"BENCH.md": f"push {n}\n"}, f"Bench push {n}")
            pushed = time.monotonic()
            while served_commit(sandbox) != new:
                if time.monotonic() - pushed > 180:
                    raise SystemExit(f"push {n} not served within 180 s")
                time.sleep(0.25)
            latencies.append(time.monotonic() - pushed)
        if latencies:
            rows.append((f"push to served through nginx, median of {len(latencies)}",
                         f"{statistics.median(latencies):.1f} s (min {min(latencies):.1f}, max {max(latencies):.1f};"
                         f" follow interval: the default)"))
    finally:
        sandbox.down(quiet=True)

    width = max(len(label) for label, _ in rows)
    print(f"bastion benchmark on sandbox {sandbox.name} ({time.strftime('%Y-%m-%d')})")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


if __name__ == "__main__":
    main()
