"""A verdict for every commit (issue 29's check, on the dev environment): the incidents of 2026 replayed as
commits of the real main on today's droplet. Each comes up healthy, as it did in production; its verdict fails
naming the cause, it is rolled back and the status page says why; a good commit's verdict is passed. And the
install's own refusal, which reaches the follow path as an outcome of its own."""
import json

import pytest

from sandbox import upstream
from tests import harness

TOOLS = "src/mcp-tools-generated.js"
INCIDENTS = {
    # 2026-03-07, efa185a: the generator emitted property keys in brackets; the Claude API answered 400 to all.
    "a property key in brackets": ("mcpTools[0].inputSchema.properties['[provider]'] = { type: 'string' };",
                                   "property key '[provider]'"),
    # 2026-03-09/13, f115100: a tool listed twice; providers behind OpenRouter refuse a duplicate function.
    "a tool listed twice": ("mcpTools.push({ ...mcpTools[0] });", "listed twice"),
}


@pytest.fixture(scope="module")
def sb(deployed_2026):
    return deployed_2026


def verdict_of(sb, commit: str) -> dict:
    s = sb.settings
    text = sb.ssh(f"cat {s.bastion_state_dir}/verdicts/{commit}", check=False).stdout
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def journal(sb) -> str:
    """The follow path's last words, for a failure to show."""
    return sb.ssh(f"cat {sb.settings.bastion_state_dir}/follow.state; journalctl -q --no-pager -o short-precise -n 60 "
                  f"-u {sb.settings.dev_follow_unit}.service").stdout


@pytest.mark.parametrize("incident", INCIDENTS)
def test_an_incident_comes_up_but_its_verdict_rolls_it_back(sb, incident):
    s = sb.settings
    line, cause = INCIDENTS[incident]
    harness.look(sb)
    good = harness.served_commit(sb)
    assert good and verdict_of(sb, good).get("verdict") == "passed", verdict_of(sb, good)
    original = upstream.read_file(sb.upstream_repo, s.dev_branch, TOOLS)
    bad = upstream.push_commit(sb.upstream_repo, s.dev_branch, {TOOLS: original + "\n" + line + "\n"}, incident)
    harness.look(sb, bad)
    state = sb.ssh(f"cat {s.bastion_state_dir}/follow.state").stdout
    assert f"failed_commit={bad}" in state and "outcome=rolled-back" in state, state
    assert "reason=verdict: " in state and cause in state, state
    assert verdict_of(sb, bad)["verdict"] == "failed" and cause in verdict_of(sb, bad)["reason"]
    assert harness.served_commit(sb) == good
    page = sb.ssh(f"curl -sk {harness.door(sb)} --resolve {s.server_name}:443:127.0.0.1 "
                  f"'https://{s.server_name}{s.dev_url_path}/_deploy/status?format=text'").stdout
    assert f"failed      {bad[:12]}: verdict: " in page and cause in page, page
    # The fix: the tools as they were; served, judged passed.
    fixed = upstream.push_commit(sb.upstream_repo, s.dev_branch, {TOOLS: original}, f"Fix: {incident}")
    harness.look(sb, fixed)
    assert harness.served_commit(sb) == fixed and verdict_of(sb, fixed)["verdict"] == "passed", journal(sb)
    service = harness.status(sb)["service"]
    assert (service["running_commit"], service["verdict"]) == (fixed, "passed"), service


def test_a_lockfile_outside_the_registry_is_npm_failed_and_rolled_back(sb):
    """The install's refusal reaches the follow path as a key=value outcome (npm-failed), not a grepped line."""
    s = sb.settings
    harness.look(sb)
    good = harness.served_commit(sb)
    lock_text = upstream.read_file(sb.upstream_repo, s.dev_branch, "package-lock.json")
    lock = json.loads(lock_text)
    lock["packages"]["node_modules/planted"] = {"version": "1.0.0", "resolved": "git+https://example.invalid/p.git"}
    bad = upstream.push_commit(sb.upstream_repo, s.dev_branch, {"package-lock.json": json.dumps(lock, indent=2) + "\n"},
                               "A dependency from a git URL")
    harness.look(sb, bad)
    state = sb.ssh(f"cat {s.bastion_state_dir}/follow.state").stdout
    assert f"failed_commit={bad}" in state and "outcome=npm-failed" in state, journal(sb)
    assert "reason=npm ci failed: package-lock.json: node_modules/planted resolves to" in state, state
    assert harness.served_commit(sb) == good
    fixed = upstream.push_commit(sb.upstream_repo, s.dev_branch, {"package-lock.json": lock_text}, "Fix: the lockfile")
    harness.look(sb, fixed)
    assert harness.served_commit(sb) == fixed


def test_looks_in_quick_succession_are_each_taken(sb):
    """Pushes seconds apart each start a look, and none is refused: systemd's default start limit (five in ten
    seconds) once refused the sixth here, and the push it was for waited for the timer."""
    unit = f"{sb.settings.dev_follow_unit}.service"
    runs = sb.ssh(f"for i in $(seq 8); do systemctl start {unit}; systemctl show -p InvocationID --value {unit}; done",
                  check=False).stdout.split()
    assert len(set(runs)) == 8, journal(sb)
