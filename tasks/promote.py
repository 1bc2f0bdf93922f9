"""Promote (promote.py): production moves to a commit this host proved, with a snapshot first and a rollback of
its own. What may go is decided offline (tasks/promote_rules.py) from what the host shows (PromoteFacts); the
move itself is one program on the host (templates/deploy-run/bastion-promote.j2), so a lost connection leaves
nothing half done that the next run does not finish."""
import getpass
import socket
import sys

from pyinfra import host, logger
from pyinfra.api import deploy, operation

from tasks.deploy_run import run_script
from tasks.facts import PromoteFacts, production
from tasks.promote_rules import refusals, target_problems, timeout_problems, unfinished
from tasks.rules import as_typed, refuse


def promote_facts(d, target: str) -> dict:
    return host.get_fact(PromoteFacts, production_checkout=production(d).checkout, production_branch=d.production_branch,
                         dev_checkout=d.dev_checkout, dev_branch=d.dev_branch, dev_commit_file=f"{d.dev_runtime_dir}/commit",
                         state_dir=d.bastion_state_dir, preview_state_dir=d.preview_state_dir,
                         promote_state=f"{d.promote_state_dir}/promote.state", target=target,
                         app_writes=d.dev_app_writes, backup_script=d.production_backup_script,
                         restic=d.backup_restic_command)


@operation()
def run_promotion(commit: str, by: str, prod):
    yield from run_script("bastion-promote", [commit, by], production=prod)


@operation()
def finish_killed_promotion(prod):
    yield from run_script("bastion-promote", ["--resume"], production=prod)


@deploy("Promote")
def promote_production():
    d = host.data
    target = as_typed("promote", d.promote, sys.argv)
    refuse(host.name, target_problems(target) + timeout_problems(d), "promote")
    prod = production(d)
    if not prod.found:
        refuse(host.name, [f"no production on this host (no {prod.unit}, nothing on production_port="
                           f"{d.production_port}): production.py builds it; promote.py moves it"], "promote")
    facts = promote_facts(d, target)
    if unfinished(facts):
        logger.warning(f"{host.print_prefix}a promotion was killed halfway ({facts.get('last_from', '')[:12]} -> "
                       f"{facts.get('last_to', '')[:12]}): finished or undone first; run again for promote={target}")
        finish_killed_promotion(name="The promotion a killed run left, finished or undone", prod=prod)
        return
    commit = facts.get("target_commit", "")
    if commit and facts.get("production_head") == commit:
        logger.warning(f"{host.print_prefix}production already runs {commit[:12]}: nothing to promote")
        return
    refuse(host.name, refusals(facts, target, d.production_branch), "promote")
    run_promotion(name=f"Production to {commit[:12]} ({facts.get('target_source')}, verdict passed)", commit=commit,
                  by=f"{getpass.getuser()}@{socket.gethostname()}", prod=prod)
