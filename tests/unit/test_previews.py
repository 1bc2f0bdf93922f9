"""Which branches get a preview, under which name, and what the reconcile does (files/usr/local/sbin/hacs-previews),
offline; the effects are proven on the sandbox (tests/test_previews.py)."""
import importlib.machinery
import importlib.util
import sys
import tarfile

import pytest

from tasks import REPO
from tasks.previews import catalog_archive

loader = importlib.machinery.SourceFileLoader("previews", str(REPO / "files/usr/local/sbin/hacs-previews"))
spec = importlib.util.spec_from_loader("previews", loader)
previews = importlib.util.module_from_spec(spec)
sys.modules["previews"] = previews  # its dataclasses look their module up
loader.exec_module(previews)
Preview, Action, plan = previews.Preview, previews.Action, previews.plan

TEAM = ["v2-*"]
DAY = 86400.0
A, B, C = "a" * 40, "b" * 40, "c" * 40


@pytest.mark.parametrize("branch, expected", [
    ("v2-foundation-dev", "v2-foundation-dev"),
    ("v2-UI_dev", "v2-ui-dev"),
    ("v2-feature/../../etc", "v2-feature-etc"),  # nothing of a path or a unit name survives
    ("v2-a b;rm -rf /", "v2-a-b-rm-rf"),
    ("v2-" + "x" * 60, "v2-" + "x" * 37),
    ("---", ""),
])
def test_a_slug_is_safe_in_a_path_and_a_unit_name(branch, expected):
    name = previews.slug(branch)
    assert name == expected
    assert len(name) <= previews.SLUG_MAX and not name.startswith("-") and not name.endswith("-")


def test_only_matching_branches_get_a_preview_and_never_the_dev_branch():
    remote = {"main": A, "v2-foundation-dev": B, "feature-x": C, "v2-ui-dev": C}
    actions = plan(remote, {}, [*TEAM, "main"], "main", 0, 14)
    assert [(a.kind, a.slug, a.commit) for a in actions] == [("create", "v2-foundation-dev", B),
                                                             ("create", "v2-ui-dev", C)]


def test_two_branches_with_one_slug_are_named_and_the_later_refused():
    actions = plan({"v2-UI": A, "v2-ui": B}, {}, TEAM, "main", 0, 14)
    assert [a.kind for a in actions] == ["refuse", "create"]
    assert actions[0].why == "v2-ui: its preview would be v2-ui, which is v2-UI's; rename one"
    assert actions[1].branch == "v2-UI"


def test_a_branch_whose_slug_another_preview_serves_is_refused():
    have = {"v2-ui": Preview("v2-UI", A, 0)}
    actions = plan({"v2-ui": B}, have, TEAM, "main", 0, 14)
    assert actions[0].kind == "refuse"
    assert actions[0].why == "v2-ui: its preview would be v2-ui, which serves v2-UI; rename one"
    assert actions[1].kind == "retire" and actions[1].why == "v2-UI was deleted"


def test_a_moved_branch_is_updated_and_an_unmoved_one_left_alone():
    have = {"v2-a": Preview("v2-a", A, 0), "v2-b": Preview("v2-b", B, 0)}
    actions = plan({"v2-a": A, "v2-b": C}, have, TEAM, "main", DAY, 14)
    assert actions == [Action("update", "v2-b", "v2-b", C, f"v2-b moved to {C[:12]}")]


def test_a_deleted_branch_and_an_idle_one_are_retired_each_with_its_reason():
    have = {"v2-gone": Preview("v2-gone", A, 0), "v2-old": Preview("v2-old", B, 0), "v2-new": Preview("v2-new", C, 10 * DAY)}
    actions = plan({"v2-old": B, "v2-new": C}, have, TEAM, "main", 15 * DAY, 14)
    assert [(a.kind, a.slug, a.why) for a in actions] == [
        ("retire", "v2-gone", "v2-gone was deleted"),
        ("retire", "v2-old", "v2-old: no push for 15 days (preview_ttl_days=14)")]


def test_a_branch_retired_for_its_age_comes_back_with_its_next_push_only():
    retired = {"v2-old": B}
    assert plan({"v2-old": B}, {}, TEAM, "main", 20 * DAY, 14, retired) == []
    [again] = plan({"v2-old": C}, {}, TEAM, "main", 20 * DAY, 14, retired)
    assert (again.kind, again.commit) == ("create", C)


def test_a_branch_that_no_longer_matches_is_retired():
    [action] = plan({"v2-a": A}, {"v2-a": Preview("v2-a", A, 0)}, ["v3-*"], "main", 0, 14)
    assert (action.kind, action.why) == ("retire", "v2-a no longer matches preview_branches")


def test_preview_max_admits_up_to_the_limit_and_names_it_beyond():
    assert previews.admitted(1, 2) == (True, "")
    assert previews.admitted(2, 2) == (False, "2 previews run, preview_max=2: try again when one idles out")


def test_the_catalog_a_preview_starts_with_is_the_same_bytes_for_the_same_files(tmp_path):
    """One upload, and none when nothing changed: the archive depends on the files alone (not their times)."""
    (tmp_path / "roles" / "Designer").mkdir(parents=True)
    (tmp_path / "roles" / "Designer" / "role.json").write_text('{"name": "Designer"}')
    (tmp_path / "README.md").write_text("not part of it")
    first = catalog_archive(tmp_path).getvalue()
    (tmp_path / "roles" / "Designer" / "role.json").touch()
    assert catalog_archive(tmp_path).getvalue() == first
    with tarfile.open(fileobj=catalog_archive(tmp_path)) as tar:
        assert tar.getnames() == ["roles/Designer/role.json"]
