"""What promote.py decides (tasks/promote_rules.py), offline: the commit asked for goes to production only with a
passed verdict, on production's branch, as a fast-forward of a clean checkout; otherwise one line each, naming
the verdict, the setting or the fix. The sandbox proves the move itself (tests/test_promote.py)."""
from types import SimpleNamespace

import pytest

from tasks.promote_rules import refusals, target_problems, timeout_problems, unfinished
from tasks.rules import as_typed

OLD, NEW = "a" * 40, "b" * 40
GOOD = {"production_head": OLD, "production_on": "main", "production_ahead": "0", "target_commit": NEW,
        "target_source": "dev", "verdict_verdict": "passed", "on_branch": "yes", "descends": "yes"}


def test_a_proven_fast_forward_of_a_clean_checkout_may_go():
    assert refusals(GOOD, "main", "main") == []


@pytest.mark.parametrize("change, line", [
    ({"target_commit": ""}, "promote=main: serves nothing yet"),
    ({"verdict_verdict": None}, "bbbbbbbbbbbb: no verdict on this host"),
    ({"verdict_verdict": "failed", "verdict_reason": "Error [ERR_MODULE_NOT_FOUND]: Cannot find module 'memory.js'"},
     "bbbbbbbbbbbb: its verdict is failed: Error [ERR_MODULE_NOT_FOUND]: Cannot find module 'memory.js'; push a fix"),
    ({"on_branch": "no"}, "bbbbbbbbbbbb is not on main: merge it there first"),
    ({"descends": "no"}, "bbbbbbbbbbbb does not descend from production's aaaaaaaaaaaa"),
    ({"production_changes": "src/server.js"}, "production's checkout has local changes (src/server.js): commit or "
                                              "remove them by hand; promote.py never stashes or resets production"),
    ({"runtime_changes_touched": "data/server-state.json"},
     "production's server has changed data/server-state.json, which bbbbbbbbbbbb changes too"),
    ({"snapshot_unready": "Fatal: unable to open config file: Stat: stat /x/config: no such file or directory"},
     "the pre-promote snapshot cannot be taken: Fatal: unable to open config file"),
    ({"production_ahead": "2"}, "production's checkout has 2 commit(s) no remote has"),
    ({"production_on": "hotfix"}, "production's checkout is on hotfix, not production_branch=main"),
])
def test_anything_else_is_refused_in_one_line_naming_why(change, line):
    facts = {key: value for key, value in {**GOOD, **change}.items() if value is not None}
    problems = refusals(facts, "main", "main")
    assert len(problems) == 1 and problems[0].startswith(line), problems


def test_an_unknown_name_is_no_commit_and_a_bad_one_never_reaches_the_host():
    assert refusals({"production_head": OLD, "target_source": "commit"}, "deadbeef", "main")[0].startswith(
        "promote=deadbeef: is no commit this host knows")
    assert target_problems(None)[0].startswith("promote: name the commit production moves to")
    assert target_problems("--upload-pack=touch /tmp/x")[0].startswith("promote='--upload-pack=touch /tmp/x': give a")
    assert target_problems("main") == target_problems("5a1e0f3c") == []


# What pyinfra_cli.util.parse_cli_arg puts in host.data for each (int() first, then json.loads): importing
# pyinfra_cli here would monkey-patch the whole test session with gevent (tests/conftest.py refuses that).
@pytest.mark.parametrize("typed, read", [("6528e76928", float("inf")), ("00123456", 123456), ("1234567", 1234567)])
def test_a_sha_prefix_that_reads_as_a_number_is_taken_as_typed(typed, read):
    argv = ["pyinfra", "-y", "inventory.py", "promote.py", "--data", f"promote={typed}"]
    assert as_typed("promote", read, argv) == typed
    assert as_typed("promote", read, [*argv[:4], f"--data=promote={typed}"]) == typed
    assert as_typed("promote", "main", argv) == "main" and as_typed("promote", None, argv) is None


def test_a_timeout_that_is_no_whole_number_of_seconds_is_named():
    settings = SimpleNamespace(promote_health_timeout_seconds=60, promote_fetch_timeout_seconds=120)
    assert timeout_problems(settings) == []
    settings.promote_fetch_timeout_seconds = "2m"
    assert timeout_problems(settings) == ["promote_fetch_timeout_seconds='2m': give a whole number of seconds, at least 1"]


def test_a_promotion_killed_before_it_was_done_is_unfinished():
    assert unfinished({"last_phase": "moved"}) and unfinished({"last_phase": "started"})
    assert not unfinished({"last_phase": "done"}) and not unfinished({})


def test_what_production_s_server_wrote_under_its_own_directories_is_no_refusal():
    """The diary's app rewrites tracked files under data/: the fast-forward keeps them when the commit does not
    change them."""
    assert refusals({**GOOD, "production_runtime_changes": "data/server-state.json"}, "main", "main") == []
