"""Benchmark: how long bastion takes on a real sandbox, and how much a no-op run asks the host.

    ./bastion bench [--runs N] [--rtts 0,50,150] [--pushes N] [--only round-trips|rebuild]

Boots its own sandbox (BASTION_BENCH_SANDBOX, default bst-bench on 10.213.30.0/24), prints
figures, stops it. It measures; it asserts nothing. The droplet is 50-150 ms away: each RTT of
--rtts is simulated by a forwarder on the sandbox's own veth (sandbox/wan.py) that holds every chunk
for RTT/2 each way; round trips = (time over the link - time direct) / RTT, medians of --runs, for a
no-op deploy.py, status.py and the verify suite; the previews (push to served, verdict, cold start, memory);
then production's /health through nginx, p50 and p99,
with the dev server idle and with a hostile commit served (tests/probes/hostile.js: busy loops,
a memory balloon, a process flood, a disk filler); last, the whole-droplet drill (tests/test_recovery.py) through
a 100 ms link: a blank host to production with valid TLS, then to the whole droplet, both data sets restored.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandbox import baseline, rootfs, upstream
from sandbox.machine import Sandbox
from sandbox.wan import DelayedLink
from tests.harness import SERVER, deliver, push_payload, served_commit, status_page
from tests.settings import REPO, load

PROBES = REPO / "tests" / "probes"
ELAPSED = "awk -v s=$s -v e=$e 'BEGIN { print e - s }'"  # seconds between the shell's $s and $e

PYINFRA = os.path.join(os.path.dirname(sys.executable), "pyinfra")


def timed(argv, env) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return time.monotonic() - started, done


def counted(argv, env) -> tuple[float, subprocess.CompletedProcess, dict]:
    """A timed run, and what batchssh counted of it (remote commands, facts from the batch)."""
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as counts:
        seconds, done = timed(argv, {**env, "BASTION_SSH_COUNTS": counts.name})
        lines = [json.loads(line) for line in Path(counts.name).read_text().splitlines()]
    return seconds, done, (lines[-1] if lines else {})


def through_link(sandbox: Sandbox, link: DelayedLink, env: dict, work: Path) -> tuple[dict, list[str]]:
    """The environment and the verify suite's arguments that reach the sandbox through the link."""
    known_hosts = work / f"known_hosts-{link.port}"
    known_hosts.write_text(f"[{sandbox.host_address}]:{link.port} {rootfs.host_key()}\n")
    ssh_config = work / f"ssh_config-{link.port}"
    ssh_config.write_text(
        f"Host {sandbox.host_address}\n  Port {link.port}\n  User root\n  IdentityFile {rootfs.ssh_key()}\n"
        f"  IdentitiesOnly yes\n  UserKnownHostsFile {known_hosts}\n  StrictHostKeyChecking yes\n  BatchMode yes\n"
        f"  ControlMaster auto\n  ControlPath {work}/ssh-%C\n  ControlPersist 60\n")
    link_env = {**env, "BASTION_SSH_HOSTNAME": sandbox.host_address, "BASTION_SSH_PORT": str(link.port),
                "BASTION_SSH_KNOWN_HOSTS": str(known_hosts)}
    verify = [sys.executable, "-m", "pytest", "tests/verify", "-q", "-p", "no:cacheprovider",
              f"--hosts=ssh://root@{sandbox.host_address}", f"--ssh-config={ssh_config}"]
    return link_env, verify


def over_the_wan(sandbox: Sandbox, env: dict, rtts: list[int], runs: int) -> list[tuple[str, str]]:
    """No-op deploy, status.py and the verify suite through links of each RTT: time, round trips, commands."""
    plays = {"no-op deploy.py": [PYINFRA, "-y", "inventory.py", "deploy.py"],
             "status.py": [PYINFRA, "-y", "inventory.py", "status.py"]}
    direct: dict[str, float] = {}
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for rtt in rtts:
            with DelayedLink(sandbox.host_address, sandbox.address, rtt_ms=rtt, lifetime=1200) as link:
                link_env, verify = through_link(sandbox, link, env, Path(work))
                ssh_config = verify[-1].split("=", 1)[1]
                for name, argv in [*plays.items(), ("verify suite (tests/verify)", verify)]:
                    counted(argv, link_env)  # the first run by this route learns its batch
                    times, counts = [], {}
                    for _ in range(runs):
                        # Every run connects afresh, as an operator's does (no ssh master left over).
                        subprocess.run(["ssh", "-F", ssh_config, "-O", "exit", sandbox.host_address],
                                       capture_output=True, stdin=subprocess.DEVNULL)
                        seconds, done, counts = counted(argv, link_env)
                        if done.returncode != 0:
                            raise SystemExit(f"{name} failed over {rtt} ms:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
                        times.append(seconds)
                    median = statistics.median(times)
                    if rtt == 0:
                        direct[name] = median
                    trips = f", {(median - direct[name]) / (rtt / 1000):.1f} round trips" if rtt and name in direct else ""
                    rows.append((f"{name} at {rtt} ms RTT, median of {runs}",
                                 f"{median:.2f} s{trips}; {counts.get('remote_commands', '?')} remote commands, "
                                 f"{counts.get('answered_from_batch', '?')} answered from the batch"))
                subprocess.run(["ssh", "-F", ssh_config, "-O", "exit", sandbox.host_address],
                               capture_output=True, stdin=subprocess.DEVNULL)
    return rows


def lock_changed(sandbox: Sandbox, branch: str, n: int) -> dict[str, str]:
    """A commit whose package-lock.json changed (the project's own version, in both files): the full install runs."""
    package = json.loads(upstream.read_file(sandbox.upstream_repo, branch, "package.json"))
    lock = json.loads(upstream.read_file(sandbox.upstream_repo, branch, "package-lock.json"))
    package["version"] = lock["version"] = lock["packages"][""]["version"] = f"2.0.{n + 1}-bench"
    return {"package.json": json.dumps(package, indent=2) + "\n", "package-lock.json": json.dumps(lock, indent=2) + "\n"}


def push_by_webhook(sandbox: Sandbox, branch: str, pushes: int, lock: bool = False) -> list:
    """Push to served through nginx when GitHub's push delivery arrives (the default timer still in place);
    with lock, each commit changes package-lock.json, so the install (fetch, then the contained npm ci) runs."""
    secret = (REPO / load().dev_webhook_secret_file).read_text().strip()
    latencies = []
    for n in range(pushes):
        files = lock_changed(sandbox, branch, n) if lock else {"BENCH.md": f"webhook push {n}\n"}
        new = upstream.push_commit(sandbox.upstream_repo, branch, files, f"Bench webhook {n}")
        pushed = time.monotonic()
        code, reply = deliver(sandbox, "push", push_payload(branch, new), secret)
        if code != 200:
            raise SystemExit(f"the delivery was refused: {code} {reply}")
        while served_commit(sandbox) != new:
            if time.monotonic() - pushed > 90:
                raise SystemExit(f"webhook push {n} not served within 90 s")
            time.sleep(0.1)
        latencies.append(time.monotonic() - pushed)
    if not latencies:
        return []
    what = " (package-lock.json changed)" if lock else ""
    return [(f"push to served through nginx by GitHub's webhook{what}, median of {len(latencies)}",
             f"{statistics.median(latencies):.1f} s (min {min(latencies):.1f}, max {max(latencies):.1f})")]


def previews(sandbox: Sandbox, env: dict, deploy: list, pushes: int = 5, count: int = 3) -> list:
    """Previews (issue 29): push to a preview served (a create, then updates), the verdict's own time, the cold
    start of an idle one through its door, and the memory of `count` of them running idle, then idled out."""
    s = load()
    idle = 3
    done = subprocess.run([*deploy, "--data", f"preview_idle_seconds={idle}"], cwd=REPO, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    if done.returncode:
        raise SystemExit(f"deploy for the previews failed:\n{done.stdout[-3000:]}")
    secret = (REPO / s.dev_webhook_secret_file).read_text().strip()
    door = f"-H @{s.dev_door_bastion_header} --resolve {s.server_name}:443:127.0.0.1"

    def shown(branch: str) -> dict:
        return next((p for p in status_page(sandbox)["previews"] if p["branch"] == branch), {})

    def served(branch: str, commit: str, within: float = 120):
        started = time.monotonic()
        while not (shown(branch).get("commit") == commit and shown(branch).get("verdict") == "passed"):
            if time.monotonic() - started > within:
                raise SystemExit(f"preview of {branch} not serving {commit[:12]} within {within} s: {shown(branch)}")
            time.sleep(0.1)

    def active(slugs: list[str]) -> list[bool]:
        out = sandbox.ssh(" ".join(f"systemctl is-active --quiet {s.preview_unit}@{slug}.service && echo up || echo down;"
                                   for slug in slugs)).stdout
        return [word == "up" for word in out.split()]

    branches = [f"v2-bench{n}-dev" for n in range(count)]
    latencies = []
    for n in range(pushes):
        if n == 0:
            new = upstream.create_branch(sandbox.upstream_repo, branches[0], s.dev_branch)
        else:
            new = upstream.push_commit(sandbox.upstream_repo, branches[0], {"BENCH.md": f"preview push {n}\n"}, f"Bench {n}")
        pushed = time.monotonic()
        deliver(sandbox, "push", push_payload(branches[0], new), secret)
        served(branches[0], new)
        latencies.append(time.monotonic() - pushed)
    verdict = sandbox.ssh(f"s=$(date +%s.%N); {s.dev_verdict_script} {s.preview_state_dir}/{branches[0]}/verdict.json "
                          f">/dev/null; e=$(date +%s.%N); {ELAPSED}").stdout.strip()
    cold = []
    for _ in range(pushes):
        while any(active(branches[:1])):
            time.sleep(0.2)
        started = time.monotonic()
        sandbox.ssh(f"curl -skf {door} https://{s.server_name}{s.preview_url_path}/{branches[0]}/health >/dev/null")
        cold.append(time.monotonic() - started)
    for branch in branches[1:]:
        upstream.create_branch(sandbox.upstream_repo, branch, s.dev_branch)
    sandbox.ssh(f"systemctl start {s.preview_reconcile_unit}.service")
    sandbox.ssh(" & ".join(f"curl -skf {door} https://{s.server_name}{s.preview_url_path}/{b}/health >/dev/null"
                           for b in branches) + "; wait")
    memory = sandbox.ssh(" ; ".join(f"systemctl show -p MemoryCurrent --value {s.preview_unit}@{b}.service"
                                    for b in branches)).stdout.split()
    running = sum(int(m) for m in memory if m.isdigit()) / 2**20
    started = time.monotonic()
    while any(active(branches)):
        time.sleep(0.2)
    stopped = time.monotonic() - started
    memory = sandbox.ssh(" ; ".join(f"systemctl show -p MemoryCurrent --value {s.preview_unit}@{b}.service"
                                    for b in branches)).stdout.split()
    after = sum(int(m) for m in memory if m.isdigit()) / 2**20
    for branch in branches:
        upstream.delete_branch(sandbox.upstream_repo, branch)
    sandbox.ssh(f"systemctl start {s.preview_reconcile_unit}.service")
    return [(f"push to a preview served and judged (webhook), median of {len(latencies)}",
             f"{statistics.median(latencies):.1f} s (first, a create: {latencies[0]:.1f}; max {max(latencies):.1f})"),
            ("a preview's verdict (tools/list, schemas, one call; through nginx)", f"{float(verdict):.2f} s"),
            (f"cold start of an idle preview through its door, median of {len(cold)}",
             f"{statistics.median(cold):.2f} s (max {max(cold):.2f})"),
            (f"memory of {count} previews: running idle / after preview_idle_seconds={idle}",
             f"{running:.0f} MB / {after:.0f} MB (all stopped {stopped:.1f} s after the last request)")]


def cold_over_the_wan(sandbox: Sandbox, env: dict, rtts: list[int]) -> list[tuple[str, str]]:
    """A cold converge (pristine production baseline to healthy) through links of each RTT: its time, and its round
    trips as the extra time over the direct one divided by the RTT (issue 32's count)."""
    deploy = [PYINFRA, "-y", "inventory.py", "deploy.py"]
    rows, direct = [], None
    with tempfile.TemporaryDirectory() as work:
        for rtt in rtts:
            baseline.up(sandbox)
            with DelayedLink(sandbox.host_address, sandbox.address, rtt_ms=rtt, lifetime=1800) as link:
                link_env, _ = through_link(sandbox, link, env, Path(work))
                seconds, done, counts = counted(deploy, link_env)
                turns = link.round_trips
            if done.returncode != 0:
                raise SystemExit(f"cold converge failed over {rtt} ms:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
            if rtt == 0:
                direct = seconds
            trips = f", {(seconds - direct) / (rtt / 1000):.0f} round trips by the time" if rtt and direct is not None else ""
            rows.append((f"cold converge at {rtt} ms RTT", f"{seconds:.1f} s{trips}, {turns} by the link's count; "
                                                           f"{counts.get('remote_commands', '?')} remote commands, "
                                                           f"{counts.get('file_transfers', '?')} uploads"))
    return rows


def whole_droplet_rebuild() -> list[tuple[str, str]]:
    """The whole-droplet drill (tests/test_recovery.py), today's droplet rebuilt through a 100 ms link: a blank host to
    production with valid TLS, then to production and dev with both data sets restored, and each playbook's round
    trips. The drill boots its own sandboxes (the backup host, the ACME server, the dying droplet and the blank one)."""
    drill = "tests/test_recovery.py::test_drill_the_whole_droplet_is_rebuilt_from_the_backup_host[2026-100]"
    with tempfile.NamedTemporaryFile("r", suffix=".json") as figures:
        done = subprocess.run([sys.executable, "-m", "pytest", drill, "-q", "-p", "no:cacheprovider"], cwd=REPO,
                              env={**os.environ, "BASTION_FIGURES": figures.name}, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise SystemExit(f"the whole-droplet drill failed:\n{done.stdout[-3000:]}")
        measured = json.loads(Path(figures.name).read_text())
    return [(label, value) for label, value in measured.items() if label.startswith("RTO")]


def install_before_and_after(sandbox: Sandbox) -> list:
    """The dependency install alone, warm npm cache: as it ran before issue 28 (one npm ci as the service user,
    the host's network, scripts and all; here on a copy of package.json and the lockfile, never on a commit's
    scripts) and as it runs now (the fetch extracts the tree with no script run, the restart path moves it into the
    checkout, the contained unit runs npm rebuild and the project's own scripts)."""
    s = load()
    old = sandbox.ssh(f"d=/var/lib/{s.dev_user}/bench-install; rm -rf $d; install -d -o {s.dev_user} $d; "
                      f"cp {s.dev_checkout}/package.json {s.dev_checkout}/package-lock.json $d/; chown {s.dev_user} $d/*; "
                      f"cd $d; s=$(date +%s.%N); runuser -u {s.dev_user} -- env HOME=/var/lib/{s.dev_user} npm ci --omit=dev "
                      f"--no-audit --no-fund --loglevel=error >/dev/null; e=$(date +%s.%N); rm -rf $d; {ELAPSED}")
    new = sandbox.ssh(f"rm -f {s.dev_checkout}/node_modules/.bastion-lock.sha256; s=$(date +%s.%N); "
                      f"{s.dev_restart_script} --deps-only >/dev/null; e=$(date +%s.%N); {ELAPSED}")
    return [("dependency install, warm cache: one npm ci on the host (before issue 28) / fetch, then the contained "
             "scripts (now)",
             f"{float(old.stdout):.1f} s / {float(new.stdout):.1f} s")]


def production_snapshot_cost(sandbox: Sandbox, snapshots: int = 4) -> list:
    """One routine snapshot of production's data after a quarter hour's writes of a busy team (a message in each of
    ten instances' files): its time as its timer runs it (the unit: dev slice, dev_cpus, nice, idle I/O), its CPU
    (the script run once more outside the unit, where the kernel counts its children: this machine has no cgroup
    CPU accounting), and what the repository grows by over the snapshots, forget --prune by the policy included."""
    s = load()
    unit = f"{s.production_backup_unit}.service"
    size = f"du -sb {s.backup_repository} | cut -f1"
    write = (f"cd {s.production_data_dir} && for f in $(find instances -name '*.json' | head -n 10); do "
             "python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); "
             "d[\"bench_\" + sys.argv[2]] = \"x\" * 400; json.dump(d, open(p, \"w\"))' $f {n}; done")
    sandbox.ssh(f"systemctl start {unit}")  # the first after the deploy's: only what changes from here on
    before = int(sandbox.ssh(size).stdout)
    times = []
    for n in range(snapshots):
        sandbox.ssh(write.format(n=n))
        took = sandbox.ssh(f"s=$(date +%s.%N); systemctl start {unit}; e=$(date +%s.%N); {ELAPSED}").stdout
        times.append(float(took))
    grown = int(sandbox.ssh(size).stdout) - before
    sandbox.ssh(write.format(n=snapshots))
    rusage = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
              "r = resource.getrusage(resource.RUSAGE_CHILDREN); print(r.ru_utime + r.ru_stime)")
    cpu = sandbox.ssh(f"python3 -c '{rusage}' {s.production_backup_script}").stdout
    return [(f"production's routine snapshot after ten instances wrote (median of {snapshots})",
             f"{statistics.median(times):.1f} s, {float(cpu):.2f} s CPU; the repository grew {grown} bytes over "
             f"{snapshots} snapshots (the policy keeps one an hour: 24 a day, 96 taken)")]


def production_under_a_hostile_commit(sandbox: Sandbox, env: dict, deploy: list, branch: str) -> list:
    """Production's /health latency through nginx, dev idle and then a hostile commit served."""
    free = int(sandbox.ssh("df --output=avail -B1 /srv | tail -n 1").stdout)
    # A floor a GiB below what is free now: the filler is stopped after a GiB, not at 2G left on this disk.
    timed([*deploy, "--data", f"dev_disk_floor={free - (1 << 30)}", "--data", "dev_follow_interval=10s"], env)
    sandbox.ssh(f"cat > /root/latency.py <<'EOF'\n{(PROBES / 'health_latency.py').read_text()}EOF")
    measure = f"python3 /root/latency.py {load().server_name}"
    idle = json.loads(sandbox.ssh(measure).stdout)
    server = upstream.read_file(sandbox.upstream_repo, branch, SERVER)
    bad = upstream.push_commit(sandbox.upstream_repo, branch, {SERVER: server + "\n" + (PROBES / "hostile.js").read_text()},
                               "Bench: a hostile commit")
    deadline = time.monotonic() + 90
    while served_commit(sandbox) != bad:
        if time.monotonic() > deadline:
            raise SystemExit("the hostile commit was not served within 90 s")
        time.sleep(0.5)
    sandbox.ssh("touch /etc/bastion-test-fill")  # the filler's cue (tests/probes/hostile.js)
    time.sleep(5)  # its loops, balloon, flood and filler start 4 s after it is healthy
    busy = json.loads(sandbox.ssh(measure).stdout)
    processes = sandbox.ssh("pgrep -c -u hacs-dev || true").stdout.strip()
    return [("production /health through nginx, dev idle (p50 / p99, 700 requests)",
             f"{idle['p50_ms']:.1f} / {idle['p99_ms']:.1f} ms, {idle['failures']} failed"),
            ("production /health through nginx, hostile commit served (p50 / p99)",
             f"{busy['p50_ms']:.1f} / {busy['p99_ms']:.1f} ms, {busy['failures']} failed; {processes} dev processes")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs to time for each figure")
    parser.add_argument("--rtts", default="0,50,150", help="simulated round-trip times, in ms (0: direct)")
    parser.add_argument("--pushes", type=int, default=3,
                        help="pushes to time from push to served through nginx (default interval: minutes)")
    parser.add_argument("--only", choices=["all", "round-trips", "rebuild"], default="all",
                        help="round-trips: the floor, the no-op and cold runs direct and over each RTT, nothing else; "
                             "rebuild: the whole-droplet rebuild through a 100 ms link alone")
    args = parser.parse_args()
    if args.only == "rebuild":
        return print_rows("the drill's own", whole_droplet_rebuild())
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

        cold, done, counts = counted(deploy, env)
        if done.returncode != 0:
            raise SystemExit(f"cold converge failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        rows.append(("cold converge: pristine to healthy",
                     f"{cold:.1f} s; {counts.get('remote_commands')} remote commands, "
                     f"{counts.get('file_transfers')} uploads, {counts.get('answered_from_batch')} facts from the batch"))

        branch = load().dev_branch
        rtts = [int(rtt) for rtt in args.rtts.split(",") if rtt.strip()]
        rows += over_the_wan(sandbox, env, sorted(set([0, *rtts])), args.runs)

        if args.only == "round-trips":
            rows += cold_over_the_wan(sandbox, env, sorted(set([0, *rtts])))
            return print_rows(sandbox.name, rows)
        latencies = []
        for n in range(args.pushes):
            time.sleep(random.uniform(0, 60))  # uniform over the default interval: any phase of the timer
            new = upstream.push_commit(sandbox.upstream_repo, branch, {"BENCH.md": f"push {n}\n"}, f"Bench push {n}")
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
        rows += push_by_webhook(sandbox, branch, args.pushes)
        rows += push_by_webhook(sandbox, branch, args.pushes, lock=True)
        rows += install_before_and_after(sandbox)
        rows += previews(sandbox, env, deploy)
        rows += production_snapshot_cost(sandbox)
        rows += production_under_a_hostile_commit(sandbox, env, deploy, branch)
        rows += cold_over_the_wan(sandbox, env, sorted(set([0, *rtts])))
    finally:
        sandbox.down(quiet=True)
    rows += whole_droplet_rebuild()
    print_rows(sandbox.name, rows)


def print_rows(sandboxes: str, rows: list):
    width = max(len(label) for label, _ in rows)
    print(f"bastion benchmark on sandboxes {sandboxes} ({time.strftime('%Y-%m-%d')})")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


if __name__ == "__main__":
    main()
