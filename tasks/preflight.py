"""Preflight: the settings and the host checked before anything on the host changes. It only gathers: the
checks are pure (tasks/rules.py, backup_rules.py, production_rules.py), the readings are facts (tasks/facts.py);
any problem stops the run with one line per problem naming the setting, what is wrong and the fix. Where
production on the host differs from the production_* settings, it says so in one line each and goes by the host."""
from __future__ import annotations

import subprocess

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import File, FileContents, FindInFile
from pyinfra.facts.hardware import Cpus

from tasks import backup_rules, facts, production_rules, rules
from tasks.adoption import data_root
from tasks.backups import backup_host_problems
from tasks.nginx import loaded_stamp
from tasks.production_view import within


def local_upstream_branch(url: str, branch: str) -> str:
    """The upstream asked from this machine, for a host that has no git yet (a blank droplet)."""
    try:
        done = subprocess.run(["git", "ls-remote", "--exit-code", url, f"refs/heads/{branch}"],
                              capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unreachable: {error}"
    return {0: "present", 2: "missing"}.get(done.returncode, f"unreachable: {done.stderr.strip()[-200:]}")


def dev_port_problems(d) -> list[str]:
    problems = []
    production_pids = {p["pid"] for p in host.get_fact(facts.PortListeners, port=d.production_port)}
    hand_made = [p["pid"] for p in facts.hand_made_servers(d)]
    for p in facts.dev_port_strangers(d):
        where = f"PID {p['pid']} (user {p['user']}, cwd {p['cwd']}, command: {p['cmdline'].strip()})"
        if p["pid"] in production_pids:
            problems.append(f"dev_port={d.dev_port}: taken by {where}, which also serves production's port "
                            f"{d.production_port}; choose another dev_port (production is never stopped)")
        elif p["pid"] in hand_made and not d.adopt:
            problems.append(f"dev_port={d.dev_port}: the dev server started by hand runs there ({where}); adopt it "
                            f"with its data and secrets: rerun with --data adopt=True (add --dry to see the plan first)")
        elif p["pid"] not in hand_made and not d.dev_stop_orphans:
            problems.append(f"dev_port={d.dev_port}: taken by {where}, not by {d.dev_unit}; stop it yourself, "
                            f"rerun with --data dev_stop_orphans=True to have the deploy stop it, or choose another dev_port")
    return problems


def adoption_problems(d, production) -> list[str]:
    """adopt=True and a hand-made dev server runs: anything but the expected setup stops the run."""
    listeners = facts.dev_port_strangers(d)
    if len(listeners) > 1:
        return [f"dev_port={d.dev_port}: {len(listeners)} processes listen there (PIDs "
                f"{', '.join(p['pid'] for p in listeners)}); adoption takes over one hand-made server: "
                f"stop the others yourself, then adopt"]
    [server] = facts.hand_made_servers(d)
    root = data_root(server)
    problems = [f"adopt: the hand-made server's V2_DATA_ROOT={root} is inside production's {key} ({path}); "
                f"bastion never carries production's data: move the dev data by hand"
                for key, path in production.paths().items() if within(root, path)]
    ahead = host.get_fact(facts.LocalCommits, path=d.dev_checkout)
    if ahead:
        problems.append(f"dev_checkout={d.dev_checkout}: has {ahead} commit(s) that origin does not; push them "
                        f"(or move the checkout away), then adopt")
    return problems


def upstream_problems(d) -> list[str]:
    branch = host.get_fact(facts.UpstreamBranch, url=d.dev_repo_url, branch=d.dev_branch)
    if branch is None:
        branch = local_upstream_branch(d.dev_repo_url, d.dev_branch)
    if branch == "missing":
        return [f"dev_branch={d.dev_branch}: {d.dev_repo_url} has no such branch; "
                f"push it first or set dev_branch to an existing branch"]
    if branch.startswith("unreachable"):
        return [f"dev_repo_url={d.dev_repo_url}: cannot be reached from the host "
                f"({branch.split(':', 1)[1].strip()}); check the URL and the host's network"]
    return []


def package_problems(d) -> list[str]:
    installed = host.get_fact(DebPackages)
    missing = [name for name in d.dev_packages if name not in installed]
    if not missing:
        return []
    candidates = host.get_fact(facts.PackageCandidates, packages=missing)
    lost = [name for name in missing if candidates is not None and candidates.get(name, "(none)") == "(none)"]
    if not lost:
        return []
    return [f"dev_packages: apt finds no {', '.join(lost)}; enable the distribution's main/universe sources "
            f"or remove them from dev_packages"]


def interrupted_nginx_change(d) -> bool:
    """bastion's nginx files (interdependent) are there, not what nginx last loaded: a run stopped before its check."""
    ours = host.get_fact(facts.PresentPaths, paths=[d.dev_nginx_snippet, d.dev_nginx_http_conf])
    return bool(ours) and not host.get_fact(facts.NginxHasLoaded, stamp=loaded_stamp(d))


def host_problems(d) -> list[str]:
    production = facts.production(d)
    for difference in production.differences + production.unit_disagrees:
        logger.warning(f"{host.print_prefix}{difference}")
    problems = production_rules.production_overlaps(d, production) + dev_port_problems(d)
    if d.adopt and facts.hand_made_servers(d):
        problems += adoption_problems(d, production)
    if not d.adopt and facts.interrupted_adoption(d):
        problems.append(f"adopt: an adoption was interrupted after the hand-made server stopped "
                        f"({d.bastion_state_dir}/adoption-in-progress); rerun with --data adopt=True to finish it")
    problems += upstream_problems(d)
    problems += production_rules.foreign_directory_problems(d, {key: host.get_fact(facts.PathState, path=getattr(d, key))
                                                     for key in ("dev_checkout", "dev_data_dir")})
    problems += backup_host_problems(d)
    problems += backup_rules.schedule_problems(d, host.get_fact(facts.CalendarsReadable,
                                                                 specs=[getattr(d, key) for key in backup_rules.SCHEDULES]))
    problems += production_rules.site_problems(d, production.site, host.get_fact(FileContents, path=production.site) or [])
    nginx = host.get_fact(facts.NginxConfigTest)
    if nginx is not None and not nginx[0]:
        if interrupted_nginx_change(d):  # its nginx check still stands between these files and a reload
            logger.warning(f"{host.print_prefix}nginx -t fails ({nginx[1]}) with bastion's files of a run stopped "
                           f"before its nginx check: this run writes them again and checks")
        else:
            problems.append(f"production_nginx_site: nginx -t already fails before this deploy touched anything "
                            f"({nginx[1]}); fix production's nginx configuration first, bastion changes nothing in nginx "
                            f"until then")
    return problems + rules.cpu_problems(d, host.get_fact(Cpus)) + package_problems(d)


@deploy("Preflight")
def check_token_request():
    """tokens.py: the name, and a host whose door deploy.py made (a revoke names a token there)."""
    d = host.data
    problems = rules.token_request_problems(d)
    if not problems:
        if not host.get_fact(File, path=d.dev_door_tokens_file):
            problems = [f"dev_door_tokens_file={d.dev_door_tokens_file}: not on the host, so it has no door yet; "
                        f"run deploy.py first"]
        elif d.token_revoke and not host.get_fact(FindInFile, path=d.dev_door_tokens_file,
                                                   pattern=f" {d.token_revoke};$"):
            problems = [f"token_revoke={d.token_revoke}: has no token on this host; nothing to revoke "
                        f"(status.py lists the holders)"]
    rules.refuse(host.name, problems)


@deploy("Preflight")
def check_settings_and_host():
    d = host.data
    rules.refuse(host.name, (rules.settings_problems(d) + backup_rules.backup_settings_problems(d)) or host_problems(d))
