"""The facts' shell commands, run by this machine's bash on directories made here: what a deploy reads."""
import os
import subprocess

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
