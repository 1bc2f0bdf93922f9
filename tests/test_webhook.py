"""Push and see it live in seconds (GitHub's push webhook), and see why a push is not live without SSH
(the status page): on both droplets, deliveries shaped as GitHub sends them, through nginx over TLS."""
import json
import statistics
import time

import pytest

from sandbox import baseline, upstream
from sandbox.machine import Sandbox
from tests import harness
from tests.settings import REPO

CANARY = "canary-secret-9f1c4a7e"


@pytest.fixture(scope="module", params=["2025", "2026"])
def receiving(request, scratch, settings):
    """A droplet of that layout, deployed, the follow timer at its default minute (the fallback); one for the
    module's tests of the layout, each of which leaves it receiving and serving a commit of the branch."""
    sb = harness.with_layout(Sandbox(scratch.name, scratch.subnet, layout=request.param))
    baseline.up(sb)
    harness.deployed(sb, follow=("--data", f"dev_follow_interval={settings.dev_follow_interval}"))
    sb.secret = (REPO / settings.dev_webhook_secret_file).read_text().strip()
    return sb


def state(sb) -> str:
    return sb.ssh(f"cat {sb.settings.bastion_state_dir}/follow.state", check=False).stdout


def follow_journal(sb) -> str:
    """What the follow path did lately: the receiver, the path unit that starts a look, the looks."""
    s = sb.settings
    return sb.ssh(f"journalctl -q --no-pager -o short-precise -n 60 -u {s.dev_webhook_unit} -u {s.dev_follow_unit}.path "
                  f"-u {s.dev_follow_unit}.service -u {s.dev_follow_unit}.timer; ls -l --time-style=full-iso "
                  f"/run/{s.dev_webhook_unit}", check=False).stdout


def status_page(sb, how: str = "") -> str:
    s = sb.settings
    return sb.ssh(f"curl -sk {harness.door(sb)} {how} --resolve {s.server_name}:443:127.0.0.1 "
                  f"'https://{s.server_name}{s.dev_url_path}/_deploy/status'").stdout


def test_a_signed_push_is_served_in_seconds_and_bad_deliveries_change_nothing(receiving, figures):
    sb, s = receiving, receiving.settings
    latencies = []
    for n in range(3):
        new = upstream.push_commit(sb.upstream_repo, s.dev_branch, {"NEWS.md": f"webhook push {n}\n"}, f"Push {n}")
        pushed = time.monotonic()
        code, reply = harness.deliver(sb, "push", harness.push_payload(s.dev_branch, new), sb.secret)
        assert (code, reply.split(":")[0]) == (200, "accepted"), reply
        harness.wait_until(lambda new=new: harness.served_commit(sb) == new, 30, f"push {n} served",
                           lambda: state(sb) + follow_journal(sb))
        latencies.append(time.monotonic() - pushed)
        # The follow run records its outcome just after the server came up on the new commit.
        harness.wait_until(lambda new=new: f"deployed={new}" in state(sb), 30)
    figures[f"push to served through nginx, by webhook ({sb.layout}, median of 3, 1 min timer in place)"] = \
        f"{statistics.median(latencies):.1f} s (max {max(latencies):.1f} s)"
    assert statistics.median(latencies) < 10

    # What the receiver hands the follow path (its path unit starts a look when it changes): the evidence that
    # a delivery was taken. The minute timer may look meanwhile (and serve `other`, as the fallback should).
    def delivered():
        return sb.ssh(f"cat /run/{s.dev_webhook_unit}/push").stdout

    before = delivered()
    production_run = harness.invocation(sb, s.production_unit)
    other = upstream.push_commit(sb.upstream_repo, s.dev_branch, {"NEWS.md": "not delivered\n"}, "Not delivered")
    wrong_secret = harness.deliver(sb, "push", harness.push_payload(s.dev_branch, other), "not-the-secret")
    unsigned = harness.deliver(sb, "push", harness.push_payload(s.dev_branch, other), None)
    branch = harness.deliver(sb, "push", harness.push_payload("feature-messaging", other), sb.secret)
    ping = harness.deliver(sb, "ping", {"zen": "Keep it logically awesome.", "hook_id": 412345}, sb.secret)
    big = harness.deliver(sb, "push", harness.push_payload(s.dev_branch, other), sb.secret, padding=2 << 20)
    assert wrong_secret[0] == unsigned[0] == 403
    assert branch[0] == 200 and branch[1].startswith("ignored: a push to refs/heads/feature-messaging")
    assert ping[0] == 200 and ping[1].startswith("ignored: a ping event")
    assert big[0] == 413
    # The flood comes from an address of its own (the sandbox's): nginx limits each client apart, so it is
    # refused and a delivery from anyone else (GitHub, the next test) is still taken.
    flood = sb.ssh(f"for i in $(seq 60); do curl -sk -o /dev/null -w '%{{http_code}} ' --resolve "
                   f"{s.server_name}:443:{sb.address} -d x https://{s.server_name}{s.dev_url_path}/_deploy/push; done").stdout
    assert "429" in flood.split(), flood
    assert harness.deliver(sb, "ping", {"zen": "Design for failure.", "hook_id": 412345}, sb.secret)[0] == 200
    assert delivered() == before, "no bad delivery reached the follow path"
    assert harness.invocation(sb, s.production_unit) == production_run, "production never restarted"


def test_a_burst_of_pushes_ends_on_the_newest(receiving):
    sb, s = receiving, receiving.settings
    pushed = []
    for n in range(4):
        pushed.append(upstream.push_commit(sb.upstream_repo, s.dev_branch, {"NEWS.md": f"burst {n}\n"}, f"Burst {n}"))
        assert harness.deliver(sb, "push", harness.push_payload(s.dev_branch, pushed[-1]), sb.secret)[0] == 200
    harness.wait_until(lambda: f"deployed={pushed[-1]}" in state(sb), 40)
    assert harness.served_commit(sb) == pushed[-1]
    for unit in (f"{s.dev_follow_unit}.path", f"{s.preview_reconcile_unit}.path"):  # no start limit hit on the way
        assert sb.ssh(f"systemctl is-active {unit}", check=False).stdout.strip() == "active", unit


def test_a_delivery_starts_its_look_however_many_came_just_before(receiving):
    """The path unit starts bastion-again@ once per delivery it sees: more than five in ten seconds, systemd's default
    start limit, failed it and then the path unit (unit-start-limit-hit, once in CI): no later push started a look."""
    sb, s = receiving, receiving.settings
    again = f"{s.again_unit}@{s.dev_follow_unit}.service"
    starts = sb.ssh(f"for _ in $(seq 7); do systemctl start {again} || exit 1; done", check=False)
    assert starts.returncode == 0, starts.stderr


def test_a_push_delivered_while_a_look_runs_gets_a_look_after_it(receiving):
    """systemd merges a start into a oneshot's run under way: a push delivered after a look's last comparison,
    before its unit stopped, started nothing and waited for the timer (in CI once: not served within 30 s). The
    path unit starts the look through bastion-again@, ordered after it: one more run once the run under way ends.
    Here a look is held (SIGSTOP) while the push is delivered."""
    sb, s = receiving, receiving.settings
    unit, again = f"{s.dev_follow_unit}.service", f"{s.again_unit}@{s.dev_follow_unit}.service"
    cursor = sb.ssh("journalctl -n 0 --show-cursor | sed -n 's/^-- cursor: //p'").stdout.strip()
    hold = (f"systemctl start --no-block {unit}; for _ in $(seq 100); do pid=$(systemctl show -p MainPID --value {unit}); "
            f"[ \"$pid\" != 0 ] && kill -STOP \"$pid\" 2>/dev/null && grep -q '^State:.*stopped' /proc/$pid/status "
            f"&& echo \"$pid\" && break; sleep 0.02; done")
    held = ""
    for _ in range(5):  # a look that ended before it was held is let be; the next one is held
        held = sb.ssh(hold).stdout.strip()
        if held:
            break
        harness.wait_until(lambda: sb.ssh(f"systemctl is-active {unit}", check=False).stdout.strip() == "inactive", 30)
    assert held, "no look could be held"
    try:
        new = upstream.push_commit(sb.upstream_repo, s.dev_branch, {"NEWS.md": "delivered during a look\n"},
                                   "Delivered during a look")
        assert harness.deliver(sb, "push", harness.push_payload(s.dev_branch, new), sb.secret)[0] == 200
        harness.wait_until(lambda: again in sb.ssh("systemctl list-jobs --no-legend").stdout, 10,
                           "the delivery's start, waiting for the look under way", lambda: follow_journal(sb))
    finally:
        sb.ssh(f"kill -CONT {held}", check=False)
    harness.wait_until(lambda: harness.served_commit(sb) == new, 30, "the delivered push served",
                       lambda: state(sb) + follow_journal(sb))

    def runs() -> int:
        return int(sb.ssh(f"journalctl -o cat --no-pager --after-cursor='{cursor}' -u {unit} | grep -c '^Finished' "
                          f"|| true").stdout)

    harness.wait_until(lambda: runs() >= 2, 30, "the held run and the one after it", lambda: follow_journal(sb))
    assert sb.ssh(f"systemctl is-active {s.dev_follow_unit}.path", check=False).stdout.strip() == "active"


def test_the_status_page_says_why_a_push_is_not_live_and_shows_no_secret(receiving):
    sb, s = receiving, receiving.settings
    sb.ssh(f"echo 'WAKE_API_KEY={CANARY}' > {s.dev_env_file}")
    good = harness.served_commit(sb)
    source = upstream.read_file(sb.upstream_repo, s.dev_branch, harness.SERVER)
    shebang, rest = source.split("\n", 1) if source.startswith("#!") else ("", source)
    broken = (f"{shebang}\n" if shebang else "") + \
        "throw new Error('broken on purpose, key ' + process.env.WAKE_API_KEY);\n" + rest
    bad = upstream.push_commit(sb.upstream_repo, s.dev_branch, {harness.SERVER: broken}, "A commit that cannot start")
    assert harness.deliver(sb, "push", harness.push_payload(s.dev_branch, bad), sb.secret)[0] == 200
    harness.wait_until(lambda: f"failed_commit={bad}" in state(sb), 60)
    # The page is written after the state, at the end of the look: wait for it to say so.
    harness.wait_until(lambda: f'"commit": "{bad}"' in status_page(sb) or f'"commit":"{bad}"' in status_page(sb), 10,
                       what="the status page naming the failed commit")
    report = json.loads(status_page(sb))
    # "waiting" once the follow timer's next look finds the branch still at the failed commit (once in CI).
    assert report["last_outcome"] in ("rolled-back", "waiting") and report["served"]["commit"] == good
    assert report["failed"]["commit"] == bad and "broken on purpose" in report["failed"]["reason"]
    assert any("broken on purpose" in line for line in report["failed"]["error_lines"])
    text = status_page(sb, "-H 'Accept: text/plain'")
    assert text == status_page(sb, "-G -d format=text") and f"failed      {bad[:12]}: Error: broken on purpose" in text
    for page in (json.dumps(report), text):
        assert CANARY not in page and "[redacted]" in page


def test_the_teams_own_hook_still_fires_on_its_own_delivery(receiving):
    sb = receiving
    if sb.ssh("test -f /etc/webhook.conf", check=False).returncode != 0:
        pytest.skip(f"the {sb.layout} droplet has no webhook of the team's")
    before = sb.ssh("wc -l < /var/log/paula-deploy.log 2>/dev/null || echo 0").stdout.strip()
    theirs = sb.ssh("sha256sum /etc/webhook.conf /lib/systemd/system/webhook.service").stdout
    code, _ = harness.deliver(sb, "push", {"ref": "refs/heads/paula-graduacion"}, "paula-webhook-secret-5e2d",
                      path="/webhooks/paula-deploy")
    assert code == 200
    harness.wait_until(lambda: sb.ssh("wc -l < /var/log/paula-deploy.log").stdout.strip() != before, 10)
    assert sb.ssh("sha256sum /etc/webhook.conf /lib/systemd/system/webhook.service").stdout == theirs
    assert sb.ssh("systemctl is-active webhook.service").stdout.strip() == "active"
