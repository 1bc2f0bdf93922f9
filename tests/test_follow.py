"""Push to deploy: the follow timer serves new pushes by itself, rolls back a commit that does not
start, and says where it stands (status.py); the team's skill names the endpoint nginx serves."""
import json
import re
import statistics

import pytest

from sandbox import baseline, upstream
from tests import harness

INTERVAL = 8  # seconds; the default is one minute, the tests use a shorter one to stay quick
WAIT = INTERVAL + 15  # a look of the timer and the deploy it makes, on a loaded machine


FOLLOW = ("--data", f"dev_follow_interval={INTERVAL}s")


@pytest.fixture(scope="module")
def following(scratch):
    """One droplet deployed for the tests of this file: each starts from the state the others leave (following,
    serving the branch's head), so one deployment serves them all; the report and the skill first, as the
    first deploy left them."""
    baseline.up(scratch)
    harness.deployed(scratch, follow=FOLLOW)
    return scratch


wait_until = harness.wait_until

status = harness.status


def test_status_report_for_people_and_scripts(following, settings):
    report = status(following)
    assert report["up_to_date"] is True
    assert report["service"]["state"] == "active (running)"
    assert report["health_through_nginx"]["healthy"] is True
    assert report["backup"]["newest_snapshot"]["age_seconds"] < 120, "the first deploy takes a backup"
    assert report["backup"]["last_run"]["outcome"] == "ok"
    text = status(following, "text")
    assert "(up to date)" in text and ": healthy (version 2.0.0)" in text and "old" in text
    assert f"started on {report['deployed_commit'][:12]}" in text
    assert report["service"]["running_commit"] == report["deployed_commit"]
    assert "commit" not in report["health_through_nginx"], "the app's /health names no commit"
    assert harness.deploy(following, follow=FOLLOW).changed == [], "status changed nothing"


def test_the_skill_names_the_endpoint_nginx_serves(following, settings):
    run = harness.deploy(following, deploy_file="skill.py")
    assert run.returncode == 0, run.output[-3000:]
    skill = (harness.REPO / "skills" / "sandbox" / "hacs-coordination-dev" / "SKILL.md").read_text()
    assert skill.startswith("---\nname: hacs-coordination-dev\n")
    endpoint = re.search(r"\*\*Endpoint\*\* \(JSON-RPC 2\.0 over HTTP POST\): `(\S+)`", skill).group(1)
    host, path = re.fullmatch(r"https://([^/]+)(/\S*)", endpoint).groups()
    snippet = following.ssh(f"cat {settings.dev_nginx_snippet}").stdout
    assert f"location = {path} {{" in snippet
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize"})
    reply = following.ssh(f"curl -sk -X POST -H 'Content-Type: application/json' {harness.door(following)} "
                         f"--resolve {host}:443:127.0.0.1 "
                         f"{endpoint} -d '{body}'").stdout
    assert json.loads(reply)["result"]["serverInfo"]
    status_url = re.search(r"\*\*Deploy status\*\* \(no SSH needed, your token needed\): `(\S+)`", skill).group(1)
    assert "MCP_ACCESS_TOKEN" in skill and "./bastion token issue" in skill
    page = json.loads(following.ssh(f"curl -sk {harness.door(following)} --resolve {host}:443:127.0.0.1 {status_url}").stdout)
    assert page["endpoint"] == endpoint and page["branch"] == settings.dev_branch


def test_pushes_are_served_within_the_interval_with_no_command_on_the_host(following, settings, figures):
    latencies = []
    for n in range(3):
        new = upstream.push_commit(following.upstream_repo, settings.dev_branch, {"NEWS.md": f"push {n}\n"}, f"Push {n}")
        latencies.append(wait_until(lambda new=new: harness.served_commit(following) == new, WAIT))
    figures[f"push-to-live latency, {INTERVAL} s interval (median of {len(latencies)})"] = (
        f"{statistics.median(latencies):.1f} s (max {max(latencies):.1f} s)")
    def journal():
        return following.ssh(f"journalctl --no-pager -o cat -u {settings.dev_follow_unit}").stdout
    wait_until(lambda: f"hacs-dev-follow: deployed {new[:12]}" in journal(), 10)
    assert re.search(rf"origin/{settings.dev_branch} moved: [0-9a-f]{{12}} -> {new[:12]}", journal())


def checked_at(sandbox, settings) -> str:
    """When the follow timer last looked (follow.state): evidence that it ran."""
    return sandbox.ssh(f"sed -n 's/^checked_at=//p' {settings.bastion_state_dir}/follow.state", check=False).stdout


def wait_for_two_looks(sandbox, settings):
    """Until the timer has looked twice more (its checked_at moved twice; each look is a second apart at least)."""
    for _ in range(2):
        last = checked_at(sandbox, settings)
        wait_until(lambda last=last: checked_at(sandbox, settings) not in ("", last), WAIT)


def test_nothing_restarts_when_nothing_moved(following, settings):
    before = harness.invocation(following, settings.dev_unit)
    wait_until(lambda: "outcome=unchanged" in following.ssh(
        f"cat {settings.bastion_state_dir}/follow.state", check=False).stdout, WAIT)
    wait_for_two_looks(following, settings)
    assert "outcome=unchanged" in following.ssh(f"cat {settings.bastion_state_dir}/follow.state").stdout
    assert harness.invocation(following, settings.dev_unit) == before


def test_a_commit_that_exits_at_start_is_rolled_back_and_reported(following, settings):
    good = upstream.head(following.upstream_repo, settings.dev_branch)
    wait_until(lambda: harness.served_commit(following) == good, 5)
    bad, server = harness.push_server_that_throws(following, "A commit that exits at start")
    wait_until(lambda: f"failed_commit={bad}" in following.ssh(
        f"cat {settings.bastion_state_dir}/follow.state", check=False).stdout, WAIT + 20)
    assert harness.served_commit(following) == good
    report = status(following)
    assert report["last_sync"]["outcome"] in ("rolled-back", "waiting")
    assert report["last_sync"]["failed_commit"] == bad
    assert "broken on purpose" in report["last_sync"]["reason"]
    assert report["deployed_commit"] == good and report["upstream_commit"] == bad
    text = status(following, "text")
    assert f"failed     {bad[:12]}: Error: broken on purpose" in text
    # The failed commit is not retried; a later good one is picked up normally.
    before = harness.invocation(following, settings.dev_unit)
    wait_for_two_looks(following, settings)
    assert "outcome=waiting" in following.ssh(f"cat {settings.bastion_state_dir}/follow.state").stdout
    assert harness.invocation(following, settings.dev_unit) == before
    fixed = harness.push_server(following, server)
    wait_until(lambda: harness.served_commit(following) == fixed, WAIT)
    assert status(following)["last_sync"]["outcome"] == "deployed"
