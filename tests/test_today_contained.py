"""Today's app, contained (on today's droplet, the real main as the dev server): it sees only its own
data, reaches none of production's services, and cannot starve production, whatever the code does."""
import json
import re
import shlex
import time
from pathlib import Path

import pytest

from sandbox import baseline, upstream
from sandbox.machine import Sandbox
from tests import harness, production

VOLUME = "/mnt/coordinaton_mcp_data"
# Production's loopback services on the 2026 sandbox: the app, Qdrant's stand-in, the webhook service,
# an instance channel; and the metadata address.
PRODUCTION_PORTS = {3444: "https", 6333: "http", 9000: "http", 21000: "http"}
PROBE = Path(__file__).parent / "probes" / "health_latency.py"
PREVIEW = "v2-hostile-dev"


@pytest.fixture(scope="module")
def sb(deployed_2026):
    return deployed_2026


def in_the_dev_server(sb, command: str):
    """A command in the dev server's own mount and network namespaces (as root, to see all it could)."""
    pid = sb.ssh(f"systemctl show -p MainPID --value {sb.settings.dev_unit}").stdout.strip()
    return sb.ssh(f"nsenter -t {pid} -m -n sh -c {shlex.quote(command)}", check=False)


def listener_requests(sb) -> str:
    """What the stand-ins of production's loopback services logged (every request they answered)."""
    return sb.ssh("journalctl -o cat --no-pager -u qdrant.service -u hacs-channel-21000.service -u webhook.service "
                  "| grep -E 'HTTP/1|incoming HTTP' || true").stdout


def test_the_app_of_today_works_on_its_own_data(sb):
    s = sb.settings
    roles = harness.call_tool(sb, "list_roles")["roles"]
    assert "Builds HACS (production catalog)" not in json.dumps(roles), "production's roles are not dev's"
    assert {"Developer", "Tester", "Designer"} <= {role["roleId"] for role in roles}
    instance = harness.bootstrap(sb, "Contained")
    assert sb.ssh(f"test -f {s.dev_data_dir}/instances/{instance}/preferences.json").returncode == 0
    assert sb.ssh(f"test -e {VOLUME}/instances/{instance}", check=False).returncode != 0
    koan = harness.call_tool(sb, "add_koan", {"text": "What does a contained server dream of?"})
    assert koan.get("success"), koan
    assert "contained server" in sb.ssh(f"cat {s.dev_data_dir}/vacation/koans.json").stdout
    assert "contained server" not in sb.ssh(f"cat {VOLUME}/vacation/koans.json").stdout
    taken = harness.call_tool(sb, "take_on_role", {"instanceId": instance, "role": "Developer"})
    assert taken.get("success"), taken


def test_a_tool_that_calls_out_fails_cleanly_and_the_server_runs_on(sb):
    """remember asks Qdrant on localhost:6333, which does not exist in the dev server's network."""
    instance = harness.bootstrap(sb, "Rememberer")
    before = harness.invocation(sb, sb.settings.dev_unit)
    answer = harness.call_tool(sb, "remember", {"instanceId": instance, "query": "the cutover"})
    assert answer.get("success") is not True, answer
    assert harness.call_tool(sb, "get_server_status")["status"] == "operational"
    assert harness.invocation(sb, sb.settings.dev_unit) == before, "no crash, no restart"


def test_productions_files_do_not_exist_for_the_dev_server(sb):
    seen = in_the_dev_server(sb, f"ls -A /mnt; ls -A {VOLUME}; cat {VOLUME}/.hub-secret; ls /mnt/.secrets").stdout
    assert seen.splitlines()[0] == "coordinaton_mcp_data"
    for name in ("Human-Adjacent-Coordination", "production-data", "v2-dev", "shared-config", "qdrant-storage"):
        assert name not in seen, name
    assert "production-hub-secret" not in seen
    assert in_the_dev_server(sb, f"test -r {sb.settings.tls_certificate_key}").returncode != 0


def test_productions_services_are_not_reachable_from_the_dev_server_nor_the_metadata_address(sb):
    """A network namespace of its own (prove which mechanism is in force: its namespace is not the host's)."""
    s = sb.settings
    assert sb.ssh(f"systemctl show -p PrivateNetwork --value {s.dev_unit}").stdout.strip() == "yes"
    pid = sb.ssh(f"systemctl show -p MainPID --value {s.dev_unit}").stdout.strip()
    assert sb.ssh(f"readlink /proc/{pid}/ns/net").stdout != sb.ssh("readlink /proc/1/ns/net").stdout
    before = listener_requests(sb)
    for port, scheme in PRODUCTION_PORTS.items():
        tried = in_the_dev_server(sb, f"curl -sk -m 3 -o /dev/null {scheme}://127.0.0.1:{port}/; echo \" $?\"")
        assert tried.stdout.strip().split()[-1] == "7", f"port {port}: not refused ({tried.stdout})"
    assert in_the_dev_server(sb, "curl -s -m 3 http://169.254.169.254/").returncode != 0
    # From the host, the same ports answer: the listeners are there to be reached.
    assert sb.ssh("curl -s -m 3 -o /dev/null -w '%{http_code}' http://127.0.0.1:6333/").stdout == "404"
    assert listener_requests(sb).count("\n") == before.count("\n") + 1, "only the host's own request"


def test_productions_data_copied_into_dev_reaches_none_of_productions_services(sb):
    """dev_data_from_production.py puts production's instances (Crossing-a1b2 has its channel on 127.0.0.1:21000) into dev;
    the dev server loads them, and not one request reaches production's listeners."""
    s = sb.settings
    before = listener_requests(sb)
    since = sb.ssh("date -u '+%F %T'").stdout.strip()
    run = harness.deploy(sb, deploy_file="dev_data_from_production.py")
    assert run.returncode == 0, run.output[-3000:]
    assert sb.ssh(f"test -f {s.dev_data_dir}/instances/Crossing-a1b2/preferences.json").returncode == 0
    journal = f"journalctl -o cat --no-pager -u {s.dev_unit} --since '{since}'"
    deadline = time.monotonic() + 60
    while "[EventHub] initialized" not in sb.ssh(journal).stdout:
        assert time.monotonic() < deadline, "the dev server never loaded the copied data"
        time.sleep(0.5)
    harness.call_tool(sb, "get_server_status")
    assert listener_requests(sb) == before


def test_no_secret_of_productions_crosses_into_dev_with_the_copy(sb):
    """Production's instance homes hold a credential of each kind the app keeps (the baseline marks each value
    PRODSECRET, transcripts and mail PRODPERSONAL): after the copy none is in the dev tree nor in dev's next
    snapshot; the report names what was scrubbed; the tools work on the copy."""
    s = sb.settings
    run = harness.deploy(sb, deploy_file="dev_data_from_production.py")
    assert run.returncode == 0, run.output[-3000:]
    for line in ("scrub: scrubbed=.claude/.credentials.json:1", "scrub: scrubbed=zeroclaw/bearer-token.txt:1",
                 "scrub: scrubbed=openfang/.env:1", "scrub: left_out=.claude/projects:1", "scrub: left_out=mail:1"):
        assert line in run.output, line
    assert "PRODSECRET" not in run.output
    found = sb.ssh(f"grep -rlE 'PRODSECRET|PRODPERSONAL|production-hub-secret|production-claude' {s.dev_data_dir} "
                   f"{s.dev_checkout}/data {s.dev_env_file}", check=False)
    assert found.stdout == "" and found.returncode == 1, found.stdout
    for entry in ("auth-keys", "permissions", "shared-config", "projects", "wake-logs", ".hub-secret"):
        assert sb.ssh(f"test -e {s.dev_data_dir}/{entry}", check=False).returncode != 0, entry
    placeholder = json.loads(sb.ssh(f"cat {s.dev_data_dir}/instances/Lupo-f63b/.claude/.credentials.json").stdout)
    assert set(placeholder["claudeAiOauth"]) == {"accessToken", "refreshToken", "expiresAt", "scopes"}
    assert "Lupo-f63b" in harness.instances(sb), "the tools work on the copy"
    sb.ssh(s.dev_backup_script)
    restored = sb.ssh(f"rm -rf /tmp/dev-snapshot && {s.backup_restic_command} restore latest --host {s.backup_snapshot_host} "
                      f"--tag hacs-dev --target /tmp/dev-snapshot >/dev/null && "
                      f"find /tmp/dev-snapshot -path '*Lupo-f63b/.claude/.credentials.json' | grep -c . ; "
                      f"grep -rlE 'PRODSECRET|PRODPERSONAL' /tmp/dev-snapshot; rm -rf /tmp/dev-snapshot", check=False).stdout
    assert restored.split() == ["1"], restored


def test_the_dev_units_run_bounded_in_their_slice(sb):
    s = sb.settings
    shown = dict(line.split("=", 1) for line in sb.ssh(
        f"systemctl show -p Slice -p MemoryMax -p TasksMax -p LimitNPROC -p CPUWeight -p CPUQuotaPerSecUSec "
        f"-p Nice -p CPUSchedulingPolicy -p IOWeight -p OOMScoreAdjust {s.dev_unit}").stdout.splitlines())
    assert shown["Slice"] == s.dev_slice
    assert shown["MemoryMax"] == str(int(sb.ssh(f"numfmt --from=iec {s.dev_server_memory_max}").stdout))
    assert (shown["TasksMax"], shown["LimitNPROC"]) == (str(s.dev_tasks_max), str(s.dev_process_limit))
    assert (shown["Nice"], shown["OOMScoreAdjust"], shown["CPUWeight"]) == ("19", "1000", str(s.dev_cpu_weight))
    assert shown["CPUSchedulingPolicy"] == "5", "SCHED_IDLE"
    assert shown["CPUQuotaPerSecUSec"] == "1s"
    pid = sb.ssh(f"systemctl show -p MainPID --value {s.dev_unit}").stdout.strip()
    assert sb.ssh(f"cat /proc/{pid}/oom_score_adj").stdout.strip() == "1000"
    assert sb.ssh(f"ps -o cls= -p {pid}").stdout.strip() == "IDL", "the kernel schedules it SCHED_IDLE"
    assert sb.ssh(f"ionice -p {pid}").stdout.strip() == "idle"
    for unit in (s.dev_follow_unit, s.dev_backup_unit, s.dev_bounds_unit):
        assert sb.ssh(f"systemctl show -p Slice --value {unit}.service").stdout.strip() == s.dev_slice, unit
    for unit in (s.dev_fetch_unit, s.dev_install_unit):  # the commit's install: bounded, on dev_cpus
        shown = dict(line.split("=", 1) for line in sb.ssh(
            f"systemctl show -p Slice -p CPUAffinity -p PrivateNetwork -p User {unit}").stdout.split())
        assert shown == {"Slice": s.dev_slice, "CPUAffinity": s.dev_cpus, "User": s.dev_user,
                         "PrivateNetwork": "yes" if unit == s.dev_install_unit else "no"}, shown


def test_production_was_left_alone(sb):
    after = production.snapshot(harness.testinfra_host(sb), sb.settings)
    assert after["files"] == sb.production_before["files"]
    assert after["service"] == sb.production_before["service"]


# Appended to the server of a commit pushed to the dev branch (tests/probes/hostile.js).
HOSTILE = (Path(__file__).parent / "probes" / "hostile.js").read_text()
FILL_CUE = "/etc/bastion-test-fill"  # the file whose existence starts the hostile commit's disk filler


def cgroup_case(sandbox) -> str:
    """Whether this host enforces memory, pids and CPU limits (the unified hierarchy) or only holds them."""
    controllers = sandbox.ssh("cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null || true").stdout.split()
    return "enforced" if {"memory", "pids", "cpu"} <= set(controllers) else "held, not enforced"


@pytest.mark.quiet
def test_a_hostile_commit_cannot_starve_production_and_is_rolled_back(scratch, figures):
    sb = harness.with_layout(Sandbox(scratch.name, scratch.subnet, layout="2026"))
    baseline.up(sb)
    s = sb.settings
    free = int(sb.ssh("df --output=avail -B1 /srv | tail -n 1").stdout)
    floor = free - (1 << 29)  # the filler crosses it after writing 512 MiB, the balloon blown up
    harness.deployed(sb, "--data", f"dev_disk_floor={floor}", "--data", "dev_bounds_interval=2s",
                     follow=("--data", "dev_follow_interval=10s"))
    sb.ssh(f"cat > /root/latency.py <<'EOF'\n{PROBE.read_text()}EOF")
    # Three windows of 600 (1,800 of the 2,000 requests today's main answers a client in 15 minutes): idle,
    # hostile, idle again once it is rolled back; the noisier idle window is the machine's floor, so one
    # stray pause of this shared machine in the first window does not decide the ratio.
    measure = f"python3 /root/latency.py {s.server_name}"
    # A preview of a team branch beside the dev server, both to serve the hostile code (issue 29): what holds for
    # the one holds for all they are, they share the slice, dev_cpus and the disk floor.
    good = upstream.head(sb.upstream_repo, s.dev_branch)
    upstream.create_branch(sb.upstream_repo, PREVIEW, s.dev_branch)
    sb.ssh(f"systemctl start {s.preview_reconcile_unit}.service")

    def preview_state():
        return sb.ssh(f"cat {s.preview_state_dir}/{PREVIEW}/follow.state", check=False).stdout

    assert f"deployed={good}" in preview_state(), preview_state()
    idle_before = json.loads(sb.ssh(measure).stdout)
    server = upstream.read_file(sb.upstream_repo, s.dev_branch, harness.SERVER)
    bad = harness.push_server(sb, server + "\n" + HOSTILE, "A hostile commit")
    hostile_preview = upstream.push_commit(sb.upstream_repo, PREVIEW, {harness.SERVER: server + "\n" + HOSTILE},
                                           "A hostile preview")
    sb.ssh(f"systemctl start --no-block {s.preview_reconcile_unit}.service")
    production_before = harness.invocation(sb, s.production_unit)

    def state():
        return sb.ssh(f"cat {s.bastion_state_dir}/follow.state", check=False).stdout

    harness.wait_until(lambda: f"deployed={bad}" in state(), 60)
    loops = f"pgrep -c -u {s.dev_user} -f 'for \\(;;\\)' || true"
    harness.wait_until(lambda: int(sb.ssh(loops).stdout or 0) >= 8, 60, "the two commits' eight busy loops running",
                       lambda: state() + preview_state() + sb.ssh(f"pgrep -a -u {s.dev_user}; journalctl -q --no-pager "
                                                                  f"-n 40 -u {s.preview_reconcile_unit}").stdout)
    busy = json.loads(sb.ssh(measure).stdout)
    still = int(sb.ssh(loops).stdout or 0), state()
    assert still[0] >= 8 and f"failed_commit={bad}" not in still[1], f"the load ended within the window: {still}"
    case = cgroup_case(sb)
    if case == "enforced":  # read under the load: after the rollback it would hold whatever the limit
        memory = sb.ssh(f"systemctl show -p MemoryCurrent --value {s.dev_slice}").stdout.strip()
        limit = int(sb.ssh(f"numfmt --from=iec {s.dev_memory_max}").stdout)
        assert memory.isdigit() and int(memory) <= limit, f"{memory} bytes in {s.dev_slice}, above MemoryMax"
    assert busy["failures"] == 0 and idle_before["failures"] == 0
    # Every dev process runs on dev_cpus alone (sched_setaffinity holds on any hierarchy), so production
    # always has a core no dev process runs on; on it, and by SCHED_IDLE where they meet, its latency holds.
    allowed = sb.ssh(f"for p in $(pgrep -u {s.dev_user}); do grep -h Cpus_allowed_list /proc/$p/status; done "
                     f"2>/dev/null | sort | uniq -c").stdout
    assert allowed.split()[1:] == ["Cpus_allowed_list:", s.dev_cpus], allowed
    # The flood, held by RLIMIT_NPROC (threads count too), and the filler, cued now (tests/probes/hostile.js):
    # stopped at the floor, the commit rolled back with its reason.
    sb.ssh(f"touch {FILL_CUE}")
    counts = []

    def rolled_back():
        counts.append(int(sb.ssh(f"pgrep -c -u {s.dev_user} || true").stdout or 0))
        return f"failed_commit={bad}" in state()

    harness.wait_until(rolled_back, 120, "the rollback at the disk floor")
    # (Its outcome then reads "waiting" once a later reconcile finds the branch still at the failed commit.)
    harness.wait_until(lambda: f"failed_commit={hostile_preview}" in preview_state(), 60,
                       "the preview's rollback at the floor",
                       lambda: preview_state() + sb.ssh(f"journalctl -q --no-pager -o short-precise -n 40 -u "
                                                        f"{s.preview_reconcile_unit}").stdout)
    assert f"deployed={good}" in preview_state() and "reason=disk floor: " in preview_state(), preview_state()
    processes = max(counts)
    # Two floods, each held by its own unit's RLIMIT_NPROC (each unit a user namespace of its own).
    assert 50 < processes <= 2 * (s.dev_process_limit + 8), f"the floods reached {processes} processes"
    assert re.search(r"reason=disk floor: .* below", state()), state()
    assert "outcome=rolled-back" in state() and f"deployed={good}" in state()
    assert harness.served_commit(sb) == good
    assert harness.invocation(sb, s.production_unit) == production_before, "production never restarted"
    text = harness.status(sb, "text")
    assert f"failed     {bad[:12]}: disk floor" in text and "bounds     hacs-dev.slice" in text
    fixed = harness.push_server(sb, server, "The hostile code taken out")
    harness.wait_until(lambda: harness.served_commit(sb) == fixed, 60)
    upstream.delete_branch(sb.upstream_repo, PREVIEW)
    sb.ssh(f"systemctl start {s.preview_reconcile_unit}.service")
    idle_after = json.loads(sb.ssh(measure).stdout)
    assert idle_after["failures"] == 0
    idle = {q: max(idle_before[q], idle_after[q]) for q in ("p50_ms", "p99_ms")}
    figures["production /health p50/p99 through nginx, dev idle (before, after)"] = ", ".join(
        f"{window['p50_ms']:.1f} / {window['p99_ms']:.1f} ms" for window in (idle_before, idle_after))
    figures["production /health p50/p99 through nginx, hostile commit served"] = \
        f"{busy['p50_ms']:.1f} / {busy['p99_ms']:.1f} ms (on dev and a preview; {processes} dev processes; cgroup limits {case})"
    print(f"cgroup limits on this host: {case}; idle {idle_before} then {idle_after}, hostile {busy}")
    # Starved, production answers many times slower. Measured here with the commit's four loops (300 requests a
    # window): on any CPU at nice 0 the p50 went 8x and the p99 6x the idle one, on any CPU in the idle classes
    # 2.2x and 3.5x (they keep both vCPUs busy, and the tail lengthens below the guest's scheduler); pinned, as
    # deployed, at most 1.4x and 1.5x (and 1.8x, 2.2x in the noisiest CI run here, with no loop running).
    assert busy["p50_ms"] <= 2.5 * idle["p50_ms"] and busy["p99_ms"] <= 3 * idle["p99_ms"], \
        (idle_before, idle_after, busy)


def test_switching_an_existing_checkout_to_another_branch_does_what_a_user_expects(scratch):
    """A checkout of v2 (the diary's branch), with local changes, is switched to main (today's): the
    changes in a stash, the checkout on main, main served; no "cannot fast-forward" between branches."""
    sb = harness.with_layout(Sandbox(scratch.name, scratch.subnet, layout="2026"))
    baseline.up(sb)
    s = sb.settings
    harness.deployed(sb, "--data", "dev_branch=v2")
    tracked = sb.ssh(f"{harness.owner_git(s)} ls-files data | grep '\\.json$' | head -n 1").stdout.strip()
    sb.ssh(f"cd {s.dev_checkout} && echo '{{\"edited\": \"before the switch\"}}' > {tracked}")
    run = harness.deployed(sb)
    assert "hacs-dev-update: switched from v2 to main" in run.output, run.output[-3000:]
    assert sb.ssh(f"{harness.owner_git(s)} rev-parse --abbrev-ref HEAD").stdout.strip() == "main"
    assert "before the switch" in sb.ssh(f"{harness.owner_git(s)} stash show -p stash@{{0}}").stdout
    assert harness.served_commit(sb) == upstream.head(sb.upstream_repo, "main")
    assert harness.deploy(sb).changed == []

