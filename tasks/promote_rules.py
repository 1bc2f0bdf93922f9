"""What promote.py decides, offline: whether the commit asked for may go to production, and the one line that
says why not (naming the verdict, the setting or the fix). Its input is tasks/facts.py's PromoteFacts."""
from __future__ import annotations

import re

from tasks.rules import whole_number

TARGET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
UNFINISHED = {"started", "moved"}  # a promotion killed in these phases is finished or undone by the next run


def target_problems(target) -> list[str]:
    if target is None or target == "":
        return ["promote: name the commit production moves to: --data promote=SHA, or promote=main for the commit "
                "the dev environment serves"]
    if not isinstance(target, str) or not TARGET.match(target):
        return [f"promote={target!r}: give a commit SHA or a branch name (letters, digits, . _ / -), e.g. promote=main"]
    return []


def timeout_problems(d) -> list[str]:
    return [f"{key}={getattr(d, key)!r}: give a whole number of seconds, at least 1"
            for key in ("promote_health_timeout_seconds", "promote_fetch_timeout_seconds")
            if not whole_number(getattr(d, key)) or getattr(d, key) < 1]


def refusals(facts: dict, target: str, production_branch: str) -> list[str]:
    """Why the commit may not go to production now; [] when it may. A promotion left unfinished is no refusal:
    the run finishes it first (unfinished())."""
    if facts.get("production_checkout_missing"):
        return ["production has no git checkout where the host shows it: promote.py moves a checkout only"]
    commit = facts.get("target_commit", "")
    source = facts.get("target_source", "")
    if not commit:
        what = "serves nothing yet" if source in ("dev",) or source.startswith("preview") else "is no commit this host knows"
        return [f"promote={target}: {what}; push it and let the dev environment judge it, or give a SHA it served"]
    short = commit[:12]
    problems = []
    changes = facts.get("production_changes", "")
    if changes:
        problems.append(f"production's checkout has local changes ({changes}): commit or remove them by hand; "
                        f"promote.py never stashes or resets production")
    touched = facts.get("runtime_changes_touched", "")
    if touched:
        problems.append(f"production's server has changed {touched}, which {short} changes too: the fast-forward "
                        f"would overwrite what it wrote; copy it aside and check the file out by hand, then promote")
    if facts.get("production_ahead", "0") not in ("", "0"):
        problems.append(f"production's checkout has {facts['production_ahead']} commit(s) no remote has: push them, "
                        f"or take them out by hand")
    if facts.get("production_on") and facts["production_on"] != production_branch:
        problems.append(f"production's checkout is on {facts['production_on']}, not production_branch="
                        f"{production_branch}: switch it by hand, or set production_branch")
    if facts.get("snapshot_unready"):
        problems.append(f"the pre-promote snapshot cannot be taken: {facts['snapshot_unready']}; fix the backup "
                        f"repository (./bastion status, docs/backups.md) first: production moves only with a snapshot")
    verdict = facts.get("verdict_verdict")
    if verdict is None:
        problems.append(f"{short}: no verdict on this host (the dev environment or a preview never served it): push it "
                        f"to {production_branch} and wait for its verdict")
    elif verdict != "passed":
        problems.append(f"{short}: its verdict is {verdict}: {facts.get('verdict_reason') or 'no reason recorded'}; "
                        f"push a fix and promote that")
    if facts.get("on_branch") == "no":
        problems.append(f"{short} is not on {production_branch}: merge it there first (production follows "
                        f"{production_branch})")
    elif "on_branch" not in facts:
        tip = facts.get("branch_tip", "")
        problems.append(f"{short}: cannot tell whether it is on {production_branch} "
                        + (f"(origin's tip {tip[:12]} was never fetched here): push it and let the dev environment "
                           f"or a preview of {production_branch} judge it" if tip else
                           f"(origin has no {production_branch}, or does not answer): check production_branch and "
                           f"the dev checkout's origin"))
    if facts.get("descends") == "no":
        problems.append(f"{short} does not descend from production's {facts.get('production_head', '')[:12]}: "
                        f"production's checkout cannot fast-forward to it")
    elif "descends" not in facts and facts.get("production_head") and facts["production_head"] != commit:
        problems.append(f"production's {facts['production_head'][:12]} is not in the dev checkout: is production on "
                        f"another repository? (promote.py moves production along {production_branch} only)")
    return problems


def unfinished(facts: dict) -> bool:
    return facts.get("last_phase") in UNFINISHED
