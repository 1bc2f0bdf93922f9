"""The follow path's decisions (files/usr/local/sbin/hacs-dev-follow), offline: each outcome with its reason,
on a host that is a few dictionaries. The sandbox tests (tests/test_follow.py, test_webhook.py,
test_today_contained.py) prove the same program against systemd, git and the real app."""
import importlib.machinery
import importlib.util
import os
import sys

import pytest

from tasks import REPO

loader = importlib.machinery.SourceFileLoader("follow", str(REPO / "files/usr/local/sbin/hacs-dev-follow"))
spec = importlib.util.spec_from_loader("follow", loader)
follow = importlib.util.module_from_spec(spec)
sys.modules["follow"] = follow  # its dataclasses look their module up
loader.exec_module(follow)
State, Restart = follow.State, follow.Restart

GOOD, NEW, NEWER, OLDER = "a" * 40, "b" * 40, "c" * 40, "d" * 40
UP = Restart("up")
CRASH = (Restart("down"), ["/srv/app/server.js:3", "throw new Error('broken on purpose')", "",
                           "Error: broken on purpose", "    at Object.<anonymous> (/srv/app/server.js:3:7)"])


class Host:
    """The droplet as the follow path sees it: the checkout's HEAD, origin's branch, how each commit starts."""
    branch = "main"

    def __init__(self, head=GOOD, origin=GOOD, starts=None, prior=None, active=True,
                 bound="", fetch_error="", update_error="", pushes_during_restart=(), verdicts=None):
        self.head_, self.origin, self.starts = head, origin, starts or {}
        self.prior = prior or State("unchanged", GOOD)
        self.active, self.bound, self.fetch_error, self.update_error = active, bound, fetch_error, update_error
        self.pushes = list(pushes_during_restart)  # origin moves to each of these during a restart, one per restart
        self.clock, self.delivered_at = 0.0, -1.0
        self.said, self.pings, self.restarts, self.errors, self.recorded, self.pages = [], [], [], None, [], 0
        self.output = []
        self.verdicts = verdicts or {}  # commit -> the reason its verdict fails; passed when not named
        self.judged = {}

    # what the program asks
    def say(self, line):
        self.said.append(line)

    def now(self):
        self.clock += 1
        return self.clock

    def head(self):
        return self.head_

    def fetch(self):
        return (False, self.fetch_error) if self.fetch_error else (True, self.origin)

    def update(self):
        if self.update_error:
            return False, f"hacs-dev-update: something\n{self.update_error}\n"
        self.head_ = self.origin
        return True, ""

    def restart(self):
        self.restarts.append(self.head_)
        if self.pushes:
            self.origin = self.pushes.pop(0)
            self.delivered_at = self.now()
        started, self.output = self.starts.get(self.head_, (UP, []))
        return started

    def verdict(self, commit):
        reason = self.verdicts.get(commit, "")
        self.judged[commit] = "failed" if reason else "passed"
        return not reason, reason

    def verdict_of(self, commit):
        return self.judged.get(commit)

    def reset(self, commit):
        self.head_ = commit

    def server_active(self):
        return self.active

    def bound_reason(self, commit):
        return self.bound if commit == self.head_ else ""

    def app_output(self, since):
        return self.output

    def error_lines(self, lines):
        self.errors = lines

    def ping(self, path, text):
        self.pings.append((path, text))

    def state(self):
        return self.recorded[-1] if self.recorded else self.prior

    def record(self, state):
        self.recorded.append(state)

    def status_page(self):
        self.pages += 1

    def delivery(self):
        return self.delivered_at


def test_a_new_commit_that_comes_up_is_deployed():
    host = Host(origin=NEW)
    assert follow.follow(host) == 0
    assert host.recorded == [State("deployed", NEW, NEW, "", "", GOOD)]
    assert host.restarts == [NEW] and host.errors == [] and host.pings == [("", f"deployed {NEW[:12]}")]
    assert host.said == [f"origin/main moved: {GOOD[:12]} -> {NEW[:12]}", f"deployed {NEW[:12]} (was {GOOD[:12]})"]
    assert host.pages == 1


def test_nothing_moved_nothing_restarts():
    host = Host(prior=State("rolled-back", GOOD, NEW, NEW, "Error: x", OLDER))
    assert follow.follow(host) == 0
    assert host.recorded == [State("unchanged", GOOD, GOOD, NEW, "", OLDER)] and host.restarts == []


def test_a_commit_that_crashes_at_start_is_rolled_back_with_the_apps_own_error():
    host = Host(origin=NEW, starts={NEW: CRASH})
    assert follow.follow(host) == 1
    assert host.recorded == [State("rolled-back", GOOD, NEW, NEW, "Error: broken on purpose", "")]
    assert host.head_ == GOOD and host.restarts == [NEW, GOOD]
    assert host.errors == ["throw new Error('broken on purpose')", "Error: broken on purpose"]
    assert host.pings == [("/fail", f"rolled back {NEW[:12]}: Error: broken on purpose")]


def test_killed_for_a_bound_at_start_is_rolled_back_with_the_bound():
    memory = "memory limit: killed above MemoryMax=1G (dev_server_memory_max)"
    host = Host(origin=NEW, starts={NEW: (Restart("down", memory), ["Error: late"])})
    follow.follow(host)
    assert host.recorded[-1].outcome == "rolled-back" and host.recorded[-1].reason == memory


def test_not_started_for_a_bound_names_it():
    floor = "disk floor: 1.2G free on /srv, below dev_disk_floor=2G"
    host = Host(origin=NEW, starts={NEW: (Restart("not-started", floor), [])})
    follow.follow(host)
    assert host.recorded == [State("rolled-back", GOOD, NEW, NEW, floor, "")]


def test_a_commit_whose_install_fails_is_npm_failed():
    host = Host(origin=NEW, starts={NEW: (Restart("npm-failed", "node_modules/x: not a tarball of the registry"), [])})
    assert follow.follow(host) == 1
    assert host.recorded == [State("npm-failed", GOOD, NEW, NEW,
                                   "npm ci failed: node_modules/x: not a tarball of the registry", "")]


def test_a_commit_stopped_for_a_bound_after_it_came_up_goes_back_to_the_one_before():
    floor = "disk floor: 900M free on /srv, below dev_disk_floor=2G"
    host = Host(head=NEW, origin=NEW, active=False, bound=floor, prior=State("deployed", NEW, NEW, "", "", GOOD))
    assert follow.follow(host) == 1
    assert host.recorded == [State("rolled-back", GOOD, "", NEW, floor, GOOD)] and host.restarts == [GOOD]


def test_stopped_for_a_bound_with_nothing_before_it_stays_down_and_says_so():
    host = Host(head=NEW, origin=NEW, active=False, bound="disk floor: x", prior=State("deployed", NEW, NEW))
    assert follow.follow(host) == 1
    assert host.recorded == [State("bounded", NEW, "", NEW, "disk floor: x", "")] and host.restarts == []


def test_a_server_down_for_no_bound_is_not_rolled_back_by_the_look():
    host = Host(active=False)
    assert follow.follow(host) == 0 and host.recorded[-1].outcome == "unchanged"


def test_the_failed_commit_is_not_retried_until_a_newer_push():
    prior = State("rolled-back", GOOD, NEW, NEW, "Error: broken on purpose", "")
    host = Host(origin=NEW, prior=prior)
    assert follow.follow(host) == 0
    assert host.recorded == [State("waiting", GOOD, NEW, NEW, "Error: broken on purpose", "")] and host.restarts == []
    host.origin = NEWER
    follow.follow(host)
    assert host.recorded[-1] == State("deployed", NEWER, NEWER, "", "", GOOD)


def test_the_newest_of_a_burst_is_served():
    """Two pushes land while the first commit starts: one more look takes the newest, not each in turn."""
    host = Host(origin=NEW, pushes_during_restart=[NEWER])
    assert follow.follow(host) == 0
    assert [s.outcome for s in host.recorded] == ["deployed", "deployed"]
    assert host.head_ == NEWER and host.restarts == [NEW, NEWER] and host.pages == 2


def test_a_rollback_that_does_not_come_up_either_is_its_own_outcome():
    host = Host(origin=NEW, starts={NEW: CRASH, GOOD: (Restart("down"), [])})
    assert follow.follow(host) == 1
    assert host.recorded[-1].outcome == "rollback-failed" and host.recorded[-1].failed_commit == NEW


@pytest.mark.parametrize("kind, host, outcome, reason", [
    ("fetch", Host(origin=NEW, fetch_error="fatal: unable to access\nCould not resolve host: github.com"),
     "fetch-failed", "Could not resolve host: github.com"),
    ("update", Host(origin=NEW, update_error="hacs-dev-update: local changes block the update"),
     "update-failed", "hacs-dev-update: local changes block the update"),
])
def test_a_fetch_or_an_update_that_fails_changes_nothing_and_says_why(kind, host, outcome, reason):
    assert follow.follow(host) == 1
    assert host.recorded == [State(outcome, GOOD, "" if kind == "fetch" else NEW, "", reason, "")]
    assert host.restarts == [] and host.head_ == GOOD


def test_follow_state_round_trips_and_reads_what_the_shell_version_wrote(tmp_path):
    on_host = follow.OnTheHost({"state_dir": str(tmp_path)})
    (tmp_path / "follow.state").write_text("checked_at=2026-12-01T00:00:00Z\noutcome=waiting\ndeployed=a\nupstream=b\n"
                                           "failed_commit=b\nreason=Error: x=y\nserved_before=c\n")
    assert on_host.state() == State("waiting", "a", "b", "b", "Error: x=y", "c")
    on_host.record(State("rolled-back", GOOD, NEW, NEW, "Error: two\nlines", OLDER))
    assert on_host.state() == State("rolled-back", GOOD, NEW, NEW, "Error: two lines", OLDER)
    assert (tmp_path / "follow.state").read_text().startswith("checked_at=")


def test_a_delivery_during_a_look_is_seen_whatever_the_clocks_say(tmp_path):
    """The webhook's mark, compared before and after a look: a push at the same instant as the last (the file's
    mtime is the kernel's coarse clock) still counts, and no delivery at all is no change."""
    delivered = tmp_path / "delivered"
    on_host = follow.OnTheHost({"state_dir": str(tmp_path), "delivered": str(delivered)})
    assert on_host.delivery() is None and on_host.delivery() == on_host.delivery()
    delivered.write_text("")
    before = on_host.delivery()
    assert on_host.delivery() == before
    stamp = delivered.stat().st_mtime_ns
    delivered.write_text("")  # a second push, its mtime set back to the first's
    os.utime(delivered, ns=(stamp, stamp))
    assert on_host.delivery() != before


def test_no_state_yet_is_an_empty_one(tmp_path):
    assert follow.OnTheHost({"state_dir": str(tmp_path / "none")}).state() == State("", "")


def test_a_commit_that_comes_up_but_fails_its_verdict_is_rolled_back_with_it():
    """The 2026-03-07 outage, replayed: the server starts, its tools would have made every instance's API call fail."""
    why = "tool send_message: property key '[provider]' is not one the model APIs take"
    host = Host(origin=NEW, verdicts={NEW: why})
    assert follow.follow(host) == 1
    assert host.recorded == [State("rolled-back", GOOD, NEW, NEW, f"verdict: {why}", "")]
    assert host.restarts == [NEW, GOOD] and host.judged == {NEW: "failed"}
    assert host.pings == [("/fail", f"rolled back {NEW[:12]}: verdict: {why}")]


def test_a_commit_a_deploy_served_is_judged_once_and_kept():
    host = Host()
    follow.follow(host)
    follow.follow(host)
    assert host.judged == {GOOD: "passed"} and host.restarts == []


@pytest.mark.parametrize("lines, reason", [
    (["file:///srv/app/server.js:3", "Error: broken on purpose", "    at x"], "Error: broken on purpose"),
    (["node:internal/errors:496", "    ErrorCaptureStackTrace(err);", "Error [ERR_MODULE_NOT_FOUND]: Cannot find module "
      "'/srv/app/src/memory.js' imported from /srv/app/src/server.js"],
     "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/srv/app/src/memory.js' imported from /srv/app/src/server.js"),
    (["TypeError: x is not a function"], "TypeError: x is not a function"),
])
def test_a_crash_is_named_by_its_first_error_line_node_codes_included(lines, reason):
    """2026-03-17: a module not committed crashed production; its reason names the file, as node says it."""
    assert follow.first_error(lines) == reason
