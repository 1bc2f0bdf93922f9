"""The facts' shell commands, run by this machine's bash on directories made here: what a deploy reads."""
import os
import shutil
import subprocess

import pytest

from tasks.facts import CarriedData, PathState, reported


def facts_of(fact, **arguments) -> dict:
    output = subprocess.run(["bash", "-c", fact.command(**arguments)], capture_output=True, text=True, check=True)
    assert output.stderr == ""
    return fact.process(output.stdout.splitlines())


def test_a_report_leaves_out_the_questions_that_printed_nothing():
    command = reported("true", said="echo yes", silent="false", failed="ls /nonexistent 2>/dev/null")
    assert subprocess.run(["bash", "-c", command], capture_output=True, text=True).stdout == "said=yes\n"
    assert subprocess.run(["bash", "-c", reported("exit 0", said="echo yes")], capture_output=True, text=True).stdout == ""


def test_path_state_tells_a_missing_an_empty_a_checkout_and_a_marked_directory(tmp_path):
    owner = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    assert facts_of(PathState(), path=str(tmp_path / "missing")) == {}
    assert facts_of(PathState(), path=str(tmp_path)) == {"exists": "yes", "empty": "yes", "owner": owner}
    (tmp_path / ".git").mkdir()
    assert facts_of(PathState(), path=str(tmp_path)) == {"exists": "yes", "git": "yes", "owner": owner}
    (tmp_path / ".bastion").touch()
    assert facts_of(PathState(), path=str(tmp_path))["marked"] == "yes"


def test_carried_data_counts_the_entries_present_and_nothing_else(tmp_path):
    entries = ["instances", "roles", "projects"]
    (tmp_path / "unrelated.log").write_text("x" * 8192)
    assert facts_of(CarriedData(), root=str(tmp_path), entries=entries) == {}
    for entry in ("instances", "roles"):
        os.makedirs(tmp_path / entry / "a")
        (tmp_path / entry / "a" / "one.json").write_text("{}")
    carried = facts_of(CarriedData(), root=str(tmp_path), entries=entries)
    assert carried["entries"] == "instances roles" and carried["files"] == "2" and int(carried["kib"]) > 0
    assert facts_of(CarriedData(), root=str(tmp_path / "missing"), entries=entries) == {}


def test_the_checkouts_git_is_read_as_its_owner_with_origins_tip(tmp_path):
    from tasks.facts import CheckoutGit, LocalCommits
    origin, checkout = tmp_path / "origin.git", tmp_path / "checkout"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    subprocess.run([*git, "clone", "-q", str(origin), str(checkout)], check=True, capture_output=True)
    subprocess.run([*git, "-C", str(checkout), "commit", "-q", "--allow-empty", "-m", "one"], check=True)
    assert facts_of(CheckoutGit(), checkout=str(tmp_path / "missing"), branch="main") == {}
    state = facts_of(CheckoutGit(), checkout=str(checkout), branch="main")
    assert state["branch"] == "main" and len(state["head"]) == 40 and "origin" not in state
    assert facts_of(LocalCommits(), path=str(checkout)) == 1
    subprocess.run([*git, "-C", str(checkout), "push", "-q", "origin", "main"], check=True)
    assert facts_of(CheckoutGit(), checkout=str(checkout), branch="main")["origin"] == state["head"]


def test_directories_of_their_own_are_told_from_links_files_and_missing_ones(tmp_path):
    from tasks.facts import MissingPaths, NotOwnDirectories
    (tmp_path / "logs").mkdir()
    (tmp_path / "data").symlink_to(tmp_path / "logs")
    (tmp_path / "config").write_text("")
    paths = [str(tmp_path / name) for name in ("logs", "data", "config", "node_modules")]
    assert facts_of(NotOwnDirectories(), paths=paths) == [paths[1], paths[2]]
    assert facts_of(MissingPaths(), paths=paths) == [paths[3]]


def test_the_long_commands_run_as_one_program_with_their_values_quoted(tmp_path):
    """The commands kept in tasks/commands/: run here, each section there, a hostile value only a value."""
    from tasks.facts import PortListeners, ProductionReport
    report = subprocess.run(["bash", "-c", ProductionReport().command(unit="x; touch pwned; .service", port=1,
                                                                     checkout=str(tmp_path))],
                            capture_output=True, text=True, cwd=tmp_path)
    assert [line for line in report.stdout.splitlines() if line.startswith("@@")] == \
        ["@@ unit", "@@ listeners", "@@ addresses", "@@ git", "@@ nginx", "@@ enabled"]
    assert not (tmp_path / "pwned").exists()
    assert PortListeners().process(["1\troot\t/\tnode s.js\tx.service\t/data"]) == [
        {"pid": "1", "user": "root", "cwd": "/", "cmdline": "node s.js", "unit": "x.service", "data_root": "/data",
         "sse_host": ""}]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze on this machine")
def test_calendars_are_read_by_systemd_analyze_each_in_turn_and_a_value_stays_a_value(tmp_path):
    from tasks.facts import CalendarsReadable
    hostile = f"daily; touch {tmp_path}/pwned"
    assert facts_of(CalendarsReadable(), specs=["*:0/15", "every tuesday", hostile, "hourly"]) == [True, False, False, True]
    assert not (tmp_path / "pwned").exists()
