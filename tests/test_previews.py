"""A preview per branch (issue 29), on today's droplet with the real main: branches of the team's shape are created
by pushes (a delivery, or the reconcile's git ls-remote for one GitHub never made), each served at its own path
behind the door, on its own data, seeing nothing of the other's, dev's or production's; an idle one stops and the
next request starts it; preview_max answers 503 naming itself; the incidents of 2026 replayed on a preview are
failed and rolled back; a deleted branch's preview is retired with its data kept in a labelled snapshot."""
import json
import time

import pytest

from sandbox import upstream
from tests import harness
from tests.settings import REPO

ALPHA, BETA = "v2-alpha-dev", "v2-beta-dev"
IDLE_SECONDS = 4
TOOLS = "src/mcp-tools-generated.js"
SERVER = "src/streamable-http-server.js"
INCIDENTS = {
    # 2026-03-07, efa185a: property keys in brackets; the Claude API answered 400 to every instance.
    "a property key in brackets": ({TOOLS: "mcpTools[0].inputSchema.properties['[provider]'] = { type: 'string' };"},
                                   "verdict: ", "property key '[provider]'"),
    # 2026-03-09, f115100: a tool listed twice.
    "a tool listed twice": ({TOOLS: "mcpTools.push({ ...mcpTools[0] });"}, "verdict: ", "listed twice"),
    # 2026-03-17, 5449ede: a module imported that was never committed.
    "an import of a file not committed": ({SERVER: "import './memory.js';"}, "", "memory.js"),
    # 2026-03-17, 5404958: a package imported that package.json does not name.
    "a dependency missing from package.json": ({SERVER: "import '@qdrant/not-in-package-json';"}, "",
                                               "@qdrant/not-in-package-json"),
}


@pytest.fixture(scope="module")
def sb(deployed_2026):
    """Today's droplet, its previews stopping after IDLE_SECONDS and at most one running at once (so the limit is
    reached by two); the settings and the branches as they were, after."""
    run = harness.deploy(deployed_2026, "--data", f"preview_idle_seconds={IDLE_SECONDS}", "--data", "preview_max=1")
    assert run.returncode == 0, run.output[-4000:]
    deployed_2026.secret = (REPO / deployed_2026.settings.dev_webhook_secret_file).read_text().strip()
    yield deployed_2026
    for branch in (ALPHA, BETA):
        if branch in upstream.branches(deployed_2026.upstream_repo):
            upstream.delete_branch(deployed_2026.upstream_repo, branch)
    deployed_2026.ssh(f"systemctl start {deployed_2026.settings.preview_reconcile_unit}.service", check=False)
    assert harness.deploy(deployed_2026).returncode == 0


def status(sb) -> dict:
    return {p["branch"]: p for p in harness.status_page(sb)["previews"]}


def state(sb, slug: str) -> dict:
    text = sb.ssh(f"cat {sb.settings.preview_state_dir}/{slug}/follow.state", check=False).stdout
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def url(sb, slug: str, rest: str = "") -> str:
    return f"https://{sb.settings.server_name}{sb.settings.preview_url_path}/{slug}{rest}"


def get(sb, slug: str, rest: str = "/health", token: bool = True) -> tuple[int, str]:
    out = sb.ssh(f"curl -sk --max-time 60 -w '\\n%{{http_code}}' {harness.door(sb) if token else ''} "
                 f"--resolve {sb.settings.server_name}:443:127.0.0.1 {url(sb, slug, rest)}").stdout
    body, _, code = out.rpartition("\n")
    return int(code), body


def active(sb, slug: str) -> bool:
    return sb.ssh(f"systemctl is-active --quiet {sb.settings.preview_unit}@{slug}.service", check=False).returncode == 0


def idle(sb, slug: str) -> bool:
    return not active(sb, slug)


def deliver(sb, branch: str, commit: str, deleted: bool = False) -> float:
    payload = harness.push_payload(branch, commit)
    payload["deleted"] = deleted
    code, reply = harness.deliver(sb, "push", payload, sb.secret)
    assert code == 200 and reply.startswith("accepted: "), reply
    return time.monotonic()


def journal(sb, since: str):
    """What the reconcile and the previews' units said since a moment (for a failure's message)."""
    s = sb.settings
    return lambda: sb.ssh(f"journalctl -q --no-pager -o short-precise --since '{since}' -u {s.preview_reconcile_unit} "
                          f"-u '{s.preview_unit}@*' -u '{s.preview_unit}-door@*' -u {s.dev_webhook_unit} -u "
                          f"{s.preview_reconcile_unit}.path | tail -n 80", check=False).stdout


def now(sb) -> str:
    return sb.ssh("date '+%F %T'").stdout.strip()


def served(sb, branch: str, commit: str) -> bool:
    shown = status(sb).get(branch) or {}
    return shown.get("commit") == commit and shown.get("verdict") == "passed"


def test_two_branches_pushed_are_two_previews_each_on_its_own_data(sb, figures):
    s = sb.settings
    main = upstream.head(sb.upstream_repo, s.dev_branch)
    alpha = upstream.create_branch(sb.upstream_repo, ALPHA, s.dev_branch)
    delivered = deliver(sb, ALPHA, alpha)
    harness.wait_until(lambda: served(sb, ALPHA, alpha), 120, f"{ALPHA}'s preview served and judged")
    figures["push to preview served, first push (s)"] = round(time.monotonic() - delivered, 1)
    # A branch GitHub never announced: the reconcile (its timer's run) finds it with git ls-remote.
    beta = upstream.create_branch(sb.upstream_repo, BETA, s.dev_branch)
    sb.ssh(f"systemctl start {s.preview_reconcile_unit}.service")
    assert served(sb, BETA, beta), status(sb)
    assert alpha == beta == main
    # The door: nothing without the team's token, not even health.
    assert get(sb, "v2-alpha-dev", token=False)[0] == 401
    code, body = get(sb, "v2-alpha-dev")
    assert code in (200, 503), body  # 503: beta runs, preview_max=1 (the next test proves the limit)
    # Each on its own data: an instance made on alpha is on neither beta, nor dev.
    harness.wait_until(lambda: idle(sb, "v2-beta-dev") and idle(sb, "v2-alpha-dev"), 60, "both previews idle")
    made = harness.bootstrap_at(sb, f"{s.preview_url_path}/v2-alpha-dev", "PreviewOnly")
    assert made in harness.instances_at(sb, f"{s.preview_url_path}/v2-alpha-dev")
    assert made not in harness.instances(sb)
    harness.wait_until(lambda: idle(sb, "v2-alpha-dev"), 60, "alpha idle")
    assert made not in harness.instances_at(sb, f"{s.preview_url_path}/v2-beta-dev")
    # What a preview's code sees of the host: its own checkout and data, nothing of the other's, dev's or production's
    # (entered as root: an inaccessible directory is empty even then).
    pid = sb.ssh(f"systemctl show -p MainPID --value {s.preview_unit}@v2-beta-dev.service").stdout.strip()

    def seen(command: str) -> str:
        return sb.ssh(f"nsenter -t {pid} -m -n sh -c {command!r} 2>&1", check=False).stdout.strip()

    assert seen(f"ls {s.preview_root}") == "v2-beta-dev"
    assert made not in seen(f"ls {s.app_hardcoded_root}/instances")
    for elsewhere in (s.dev_data_dir, s.dev_checkout, s.production_checkout, "/etc/bastion", s.bastion_state_dir):
        assert seen(f"ls -A {elsewhere}") in ("", f"ls: cannot access '{elsewhere}': No such file or directory"), elsewhere
    addresses = seen("ip -o addr").splitlines()
    assert [line.split()[1] for line in addresses] == ["lo", "lo"], addresses

def test_an_idle_preview_stops_and_the_next_request_starts_it_within_preview_max(sb, figures):
    s = sb.settings
    harness.wait_until(lambda: idle(sb, "v2-alpha-dev") and idle(sb, "v2-beta-dev"), 60, "both previews idle")
    memory = sb.ssh(f"systemctl show -p MemoryCurrent --value {s.preview_unit}@v2-alpha-dev.service").stdout.strip()
    assert memory in ("[not set]", "0", ""), memory
    started = time.monotonic()
    code, body = get(sb, "v2-alpha-dev")
    figures["cold start of an idle preview, through the door (s)"] = round(time.monotonic() - started, 2)
    assert code == 200 and json.loads(body)["status"] == "healthy", body
    # preview_max=1: the second is refused in one line naming the limit, while the first runs.
    code, body = get(sb, "v2-beta-dev")
    assert code == 503 and "preview_max=1" in body, (code, body)
    assert active(sb, "v2-alpha-dev") and idle(sb, "v2-beta-dev")
    # Once the first idles out, the second starts.
    harness.wait_until(lambda: idle(sb, "v2-alpha-dev"), 60, "alpha idle")
    assert get(sb, "v2-beta-dev")[0] == 200


def with_line(source: str, line: str, at_end: bool) -> str:
    """The source with one more line: at its end, or first (after its shebang line: node reads it only there)."""
    if at_end:
        return source + "\n" + line + "\n"
    shebang, rest = source.split("\n", 1) if source.startswith("#!") else ("", source)
    return (f"{shebang}\n" if shebang else "") + line + "\n" + rest


@pytest.mark.parametrize("incident", INCIDENTS)
def test_an_incident_pushed_to_a_preview_is_failed_and_rolled_back(sb, incident):
    changes, prefix, cause = INCIDENTS[incident]
    good = upstream.head(sb.upstream_repo, ALPHA)
    files = {path: upstream.read_file(sb.upstream_repo, ALPHA, path) for path in changes}
    broken = {path: with_line(files[path], line, at_end=path == TOOLS) for path, line in changes.items()}
    since = now(sb)
    bad = upstream.push_commit(sb.upstream_repo, ALPHA, broken, incident)
    deliver(sb, ALPHA, bad)
    harness.wait_until(lambda: (status(sb)[ALPHA]["failed"] or {}).get("commit") == bad, 120,
                       "the verdict on the commit, on the status page", journal(sb, since))
    look = state(sb, "v2-alpha-dev")
    assert look["outcome"] == "rolled-back" and look["deployed"] == good, look
    assert look["reason"].startswith(prefix) and cause in look["reason"], look
    shown = status(sb)[ALPHA]
    assert shown["commit"] == good and shown["failed"]["commit"] == bad and cause in shown["failed"]["reason"], shown
    fixed = upstream.push_commit(sb.upstream_repo, ALPHA, files, f"Fix: {incident}")
    deliver(sb, ALPHA, fixed)
    harness.wait_until(lambda: served(sb, ALPHA, fixed), 120, "the fix served and passed", journal(sb, since))


def test_the_teams_own_check_runs_contained_and_judges_the_commit(sb):
    """preview_check_command, in the preview's namespace: its server at API_URL answers; production's port does not
    exist there, so a check that calls it fails, naming the command's exit and its last line, and is rolled back."""
    settings = ["--data", f"preview_idle_seconds={IDLE_SECONDS}", "--data", "preview_max=1"]
    production = f"curl -fsS --max-time 3 http://127.0.0.1:{sb.settings.production_port}/health"
    harness.deployed(sb, *settings, "--data", f"preview_check_command={production}")
    good = upstream.head(sb.upstream_repo, BETA)
    bad = upstream.push_commit(sb.upstream_repo, BETA, {"CHECKED.md": "production?\n"}, "Checked against production")
    deliver(sb, BETA, bad)
    harness.wait_until(lambda: (status(sb)[BETA]["failed"] or {}).get("commit") == bad, 120, "the check's verdict")
    look = state(sb, "v2-beta-dev")
    assert look["deployed"] == good and "preview_check_command failed (exit 7): curl: (7)" in look["reason"], look
    harness.deployed(sb, *settings, "--data", "preview_check_command=curl -fsS --max-time 3 $API_URL/health")
    fixed = upstream.push_commit(sb.upstream_repo, BETA, {"CHECKED.md": "its own server\n"}, "Checked against itself")
    deliver(sb, BETA, fixed)
    harness.wait_until(lambda: served(sb, BETA, fixed), 120, "the commit the check passed")
    harness.deployed(sb, *settings)


def test_a_deleted_branch_retires_its_preview_and_keeps_its_data(sb):
    s = sb.settings
    harness.wait_until(lambda: idle(sb, "v2-alpha-dev") and idle(sb, "v2-beta-dev"), 60, "both idle (preview_max=1)")
    made = harness.bootstrap_at(sb, f"{s.preview_url_path}/v2-alpha-dev", "KeptAfterDeletion")
    upstream.delete_branch(sb.upstream_repo, ALPHA)
    deliver(sb, ALPHA, "0" * 40, deleted=True)
    harness.wait_until(lambda: ALPHA not in status(sb), 120, "the preview retired")
    assert get(sb, "v2-alpha-dev")[0] == 404
    left = sb.ssh(f"ls {s.preview_root}; systemctl is-enabled {s.preview_unit}-door@v2-alpha-dev.socket; "
                  f"runuser -u {s.dev_user} -- git -C {s.dev_checkout} worktree list", check=False).stdout
    assert "v2-alpha-dev" not in left.replace("disabled", ""), left
    snapshots = json.loads(sb.ssh(f"{s.backup_restic_command} snapshots --no-lock --json --tag preview-v2-alpha-dev").stdout)
    assert len(snapshots) == 1 and "kept" in snapshots[0]["tags"], snapshots
    listed = sb.ssh(f"{s.backup_restic_command} ls --no-lock {snapshots[0]['short_id']}").stdout
    assert made in listed, listed[-2000:]
    assert served(sb, BETA, upstream.head(sb.upstream_repo, BETA))  # the other one untouched
