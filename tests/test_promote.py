"""Promote (issue 30), on today's droplet with the real main: production moves only to a commit the dev environment
proved, with a snapshot first, one restart and the gate; a commit that fails only in production is rolled back on
its own; a killed promotion is finished by the next run; every refusal comes before any change."""
import contextlib
import json
import re
import statistics
import types

import pytest

from sandbox import baseline, upstream
from sandbox.machine import Sandbox
from tests import harness, production

SERVER = harness.SERVER


@pytest.fixture(scope="module")
def sb(scratch):
    """Today's droplet, deployed, the follow path asked by hand (harness.look: until it has fetched the commit)."""
    sandbox = harness.with_layout(Sandbox(scratch.name, scratch.subnet, layout="2026"))
    baseline.up(sandbox)
    harness.deployed(sandbox)
    sandbox.outages = []
    return sandbox


def proven(sb, files: dict, message: str) -> str:
    """A commit pushed to main and judged by the dev environment; its SHA."""
    commit = upstream.push_commit(sb.upstream_repo, sb.settings.dev_branch, files, message)
    harness.look(sb, commit)
    return commit


def proven_release(sb, version: str, message: str) -> str:
    """A release: package.json and its lockfile at a new version (the install a promotion runs), proven in dev."""
    branch = sb.settings.dev_branch
    lock = json.loads(upstream.read_file(sb.upstream_repo, branch, "package-lock.json"))
    package = json.loads(upstream.read_file(sb.upstream_repo, branch, "package.json"))
    package["version"] = lock["version"] = lock["packages"][""]["version"] = version
    return proven(sb, {"package.json": json.dumps(package, indent=2) + "\n",
                       "package-lock.json": json.dumps(lock, indent=2) + "\n"}, message)


@contextlib.contextmanager
def clients(sb):
    """Production's /health asked through nginx ten times a second while the block runs, as the team's clients
    would; afterwards, .longest_failure: the longest run of failed answers, in seconds."""
    s, seen = sb.settings, types.SimpleNamespace(longest_failure=0.0)
    probe = (f"curl -sk --max-time 1 --resolve {s.server_name}:443:127.0.0.1 https://{s.server_name}/health "
             f"| grep -q healthy")
    pid = sb.ssh(f"nohup sh -c 'while :; do if {probe}; then echo \"$(date +%s.%N) up\"; else "
                 f"echo \"$(date +%s.%N) down\"; fi; sleep 0.1; done' > /root/clients.log 2>&1 & echo $!").stdout.strip()
    try:
        yield seen
    finally:
        sb.ssh(f"kill {pid}")
    since = None
    for line in sb.ssh("cat /root/clients.log").stdout.splitlines():
        at, answer = line.split()
        if answer == "down" and since is None:
            since = float(at)
        elif answer == "up" and since is not None:
            seen.longest_failure, since = max(seen.longest_failure, float(at) - since), None


def promote(sb, target: str, *args: str) -> harness.Run:
    return harness.deploy(sb, "--data", f"promote={target}", *args, deploy_file="promote.py")


def state(sb) -> dict:
    text = sb.ssh(f"cat {sb.settings.promote_state_dir}/promote.state", check=False).stdout
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def production_runs(sb) -> str:
    """The commit production's running process started in: its cwd's HEAD, while it answers healthy."""
    s = sb.settings
    pid = sb.ssh(f"systemctl show -p MainPID --value {s.production_unit}").stdout.strip()
    cwd = sb.ssh(f"readlink /proc/{pid}/cwd").stdout.strip()
    assert cwd == s.production_checkout, cwd
    health = sb.ssh(f"curl -sk --resolve {s.server_name}:443:127.0.0.1 https://{s.server_name}/health").stdout
    assert '"healthy"' in health, health
    return sb.ssh(f"git -c safe.directory='*' -C {cwd} rev-parse HEAD").stdout.strip()


def manifest(sb) -> dict:
    """Production but its code: its data, unit, sites, the team's hooks (the checkout's files and the service's
    start change with a promotion, by design)."""
    taken = production.snapshot(harness.testinfra_host(sb), sb.settings)
    checkout = sb.settings.production_checkout + "/"
    taken["files"] = "\n".join(line for line in taken["files"].splitlines() if checkout not in line)
    return {key: value for key, value in taken.items() if key not in ("git_head", "service")}


def test_a_commit_proven_in_dev_goes_to_production_with_its_install_a_snapshot_and_one_restart(sb, figures):
    s = sb.settings
    before, manifest_before = production_runs(sb), manifest(sb)
    new = proven_release(sb, "2.0.1-promoted", "A release with its lockfile changed")
    assert harness.served_commit(sb) == new
    with clients(sb) as seen:
        run = promote(sb, s.dev_branch)
    assert run.returncode == 0, run.output[-4000:]
    # As the team's clients see it: a request that fails while production restarts leaves nginx holding every
    # address of `localhost` failed for fail_timeout (10 s) unless promote gives it fresh workers.
    assert seen.longest_failure < 3.0, seen.longest_failure
    figures["promote: longest run of failed /health through nginx, clients asking at 10 Hz (s)"] = \
        round(seen.longest_failure, 2)
    assert production_runs(sb) == new
    done = state(sb)
    assert (done["outcome"], done["from"], done["to"], done["modules"]) == ("promoted", before, new, "installed"), done
    snapshots = json.loads(sb.ssh(f"{s.backup_restic_command} snapshots --no-lock --json --tag pre-promote").stdout)
    assert [snap["short_id"] for snap in snapshots] == [done["snapshot"]], snapshots
    assert f"snapshot={done['snapshot']}" in run.output and "outcome=promoted" in run.output
    installed = sb.ssh(f"cd {s.production_checkout} && node -p \"require('./node_modules/.package-lock.json').version\"")
    assert installed.stdout.strip() == "2.0.1-promoted"
    assert manifest(sb) == manifest_before
    sb.outages.append(int(done["outage_ms"]))
    again = promote(sb, s.dev_branch)
    assert again.returncode == 0 and again.changed == [] and "production already runs" in again.output


def test_every_refusal_comes_before_any_change_in_one_line(sb):
    """The 2026-03-17 incident replayed: a module not committed fails its verdict in dev, and promote.py refuses
    it naming the verdict; an unknown commit, a local change in production's checkout, likewise."""
    s = sb.settings
    runs, good = production_runs(sb), harness.served_commit(sb)
    source = upstream.read_file(sb.upstream_repo, s.dev_branch, SERVER)
    shebang, rest = source.split("\n", 1)
    bad = proven(sb, {SERVER: f"{shebang}\nimport './memory.js';\n{rest}"}, "Memory (memory.js not committed)")
    assert harness.served_commit(sb) == good
    refused = promote(sb, bad[:10])
    assert refused.returncode != 0 and "nothing on the host was changed" in refused.output
    assert f"{bad[:12]}: its verdict is failed: Error [ERR_MODULE_NOT_FOUND]: Cannot find module" in refused.output
    for typed in ("0123abcd", "6528e76928"):  # the second, as pyinfra's --data reads it, would be a float
        unknown = promote(sb, typed)
        assert f"promote={typed}: is no commit this host knows" in unknown.output, unknown.output[-2000:]
    # A repository that does not answer: no snapshot, no promotion (refused before the state file is touched).
    password = f"{s.backup_config_dir}/password"
    sb.ssh(f"mv {password} {password}.aside")
    try:
        blind = promote(sb, bad[:10])
    finally:
        sb.ssh(f"mv {password}.aside {password}")
    assert blind.returncode != 0 and "the pre-promote snapshot cannot be taken: " in blind.output, blind.output[-2000:]
    # A change by hand in production's checkout: named, never stashed or reset.
    readme = f"{s.production_checkout}/README.md"
    sb.ssh(f"echo 'edited in production' >> {readme}")
    fixed = proven(sb, {SERVER: source}, "Memory taken out again")
    refused = promote(sb, s.dev_branch)
    assert "production's checkout has local changes (README.md): commit or remove them by hand" in refused.output
    assert "edited in production" in sb.ssh(f"tail -n 1 {readme}").stdout
    sb.ssh(f"git -c safe.directory='*' -C {s.production_checkout} checkout -- README.md")
    assert production_runs(sb) == runs and state(sb)["to"] != fixed
    # A remote that takes the connection and never answers: the run fails within promote_fetch_timeout_seconds,
    # before production moves (a whole CI run once waited on such a fetch until its own timeout).
    origin = f"git -c safe.directory='*' -C {s.production_checkout} remote"
    url = sb.ssh(f"{origin} get-url origin").stdout.strip()
    sb.ssh("systemd-run --unit=silent-remote python3 -c 'import socket, time; server = socket.create_server("
           "(\"127.0.0.1\", 9419)); connection = server.accept(); time.sleep(3600)' && "
           "until ss -Htln 'sport = :9419' | grep -q .; do sleep 0.1; done")
    sb.ssh(f"{origin} set-url origin git://127.0.0.1:9419/hacs.git")
    try:
        silent = promote(sb, s.dev_branch, "--data", "promote_fetch_timeout_seconds=3")
    finally:
        sb.ssh(f"{origin} set-url origin {url}; systemctl stop silent-remote")
    assert silent.returncode != 0 and "git fetch origin: no answer within 3 s (promote_fetch_timeout_seconds)" \
        in silent.output, silent.output[-2000:]
    assert production_runs(sb) == runs and state(sb)["outcome"] == "failed"


def test_a_commit_that_fails_only_in_production_is_rolled_back_on_its_own(sb, figures):
    s = sb.settings
    runs = production_runs(sb)
    source = upstream.read_file(sb.upstream_repo, s.dev_branch, SERVER)
    shebang, rest = source.split("\n", 1)
    only_there = ("if (process.env.NODE_ENV === 'production') { throw new Error('a condition only production has'); }")
    new = proven(sb, {SERVER: f"{shebang}\n{only_there}\n{rest}"}, "Passes in dev, fails in production")
    assert harness.served_commit(sb) == new
    run = promote(sb, s.dev_branch)
    assert run.returncode != 0, run.output[-3000:]
    assert "outcome=rolled-back" in run.output and f"production is back on {runs[:12]}" in run.output, run.output[-3000:]
    assert production_runs(sb) == runs
    done = state(sb)
    assert done["outcome"] == "rolled-back" and done["reason"].startswith("not healthy through nginx"), done
    figures["promote: rollback of a commit that fails in production (s)"] = round(int(done["rollback_ms"]) / 1000, 1)
    proven(sb, {SERVER: source}, "The production-only failure taken out")


def test_a_promotion_killed_after_the_fast_forward_is_finished_by_the_next_run(sb, figures):
    s = sb.settings
    new = proven_release(sb, "2.0.2-killed", "A release, promoted twice")
    assert harness.served_commit(sb) == new
    # Killed on the host (as the connection's loss would not: the host program runs on) while npm ci installs,
    # between the fast-forward and the restart.
    sb.ssh(f"(timeout 120 sh -c 'until grep -qx modules=aside {s.promote_state_dir}/promote.state 2>/dev/null; do "
           f"sleep 0.05; done; pkill -9 -f \"python3 /.*/bastion-promote \"' &) >/dev/null 2>&1")
    killed = promote(sb, s.dev_branch)
    assert killed.returncode != 0 and state(sb)["phase"] == "moved", (state(sb), killed.output[-2000:])
    finished = promote(sb, s.dev_branch)
    assert finished.returncode == 0, finished.output[-3000:]
    assert state(sb)["outcome"] == "promoted" and production_runs(sb) == new
    sb.outages.append(int(state(sb)["outage_ms"]))
    last = promote(sb, s.dev_branch)
    assert "production already runs" in last.output
    figures["promote: outage, stop to healthy through nginx (ms)"] = (
        f"median {statistics.median(sb.outages)} of {len(sb.outages)} ({', '.join(map(str, sb.outages))})")
    assert statistics.median(sb.outages) < 3000, sb.outages


def test_status_shows_productions_commit_and_the_last_promotion(sb):
    report = harness.status(sb)
    promoted = report["production"]
    assert promoted["commit"] == production_runs(sb) and promoted["last_promotion"]["outcome"] == "promoted", promoted
    assert re.match(r"\d{4}-\d\d-\d\dT", promoted["since"]), promoted
    page = harness.status_page(sb)["production"]
    assert page["commit"] == promoted["commit"] and page["last_promotion"]["outcome"] == "promoted", page


def test_on_the_diarys_droplet_a_commit_a_preview_proved_is_promoted(scratch):
    """The diary's droplet: dev follows v2, production main; a preview of main (its verdict) proves the commit."""
    sb = harness.with_layout(Sandbox(scratch.name, scratch.subnet, layout="2025"))
    baseline.up(sb)
    s = sb.settings
    previews = ("--data", 'preview_branches=["v2-*", "main"]')
    harness.deployed(sb, *previews)
    runs = production_runs(sb)
    new = upstream.push_commit(sb.upstream_repo, s.production_branch, {"RELEASE.md": "promoted from a preview\n"},
                               "A release on main")
    reconciled = sb.ssh(f"systemctl start {s.preview_reconcile_unit}.service", check=False)
    assert reconciled.returncode == 0, sb.ssh(f"journalctl -q -o cat -n 30 -u {s.preview_reconcile_unit}").stdout
    same = promote(sb, runs[:12])
    assert same.returncode == 0 and f"production already runs {runs[:12]}" in same.output, same.output[-2000:]
    run = promote(sb, s.production_branch)
    assert run.returncode == 0, run.output[-4000:]
    assert production_runs(sb) == new and state(sb)["outcome"] == "promoted"
    assert "(preview main, verdict passed)" in run.output
