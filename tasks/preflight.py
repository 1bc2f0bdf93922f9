"""Preflight: check the settings and the host before anything on the host changes.

Runs while pyinfra prepares the deploy (facts only, no operation has run yet). Any problem stops
the run with one line per problem naming the setting, what is wrong and the fix.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

from pyinfra import host, logger
from pyinfra.api import FactBase, deploy
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import Directory, FileContents, Sha256File
from pyinfra.operations import server

from tasks import REPO

HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
BRANCH = re.compile(r"^(?!/|.*//|.*\.\.|.*@\{|.*\.lock$|.*/$|.*\.$)[A-Za-z0-9._/-]+$")
RESERVED_ENVIRONMENT = {"SSE_PORT": "dev_port", "SSE_HOST": "dev_listen_address", "HOST": "dev_listen_address",
                        "NODE_ENV": "dev_node_env"}


class PreflightFailed(SystemExit):
    pass


# --- facts ---------------------------------------------------------------------------------

class PortListeners(FactBase):
    """Processes listening on a TCP port: pid, user, working directory, command line, systemd unit,
    and the two settings of the app's environment that adoption needs (never a secret)."""

    default = list
    keys = ("pid", "user", "cwd", "cmdline", "unit", "data_root", "sse_host")

    def command(self, port):
        return (
            f"command -v ss >/dev/null || exit 0; "
            f"for pid in $(ss -Htlnp 'sport = :{port}' | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do "
            f"env=$(tr '\\0' '\\n' < /proc/$pid/environ); "
            f"printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' \"$pid\" \"$(ps -o user= -p $pid)\" "
            f"\"$(readlink /proc/$pid/cwd)\" \"$(tr '\\0' ' ' < /proc/$pid/cmdline)\" "
            f"\"$(grep -o '[^/]*\\.service' /proc/$pid/cgroup | tail -n 1)\" "
            f"\"$(echo \"$env\" | sed -n 's/^V2_DATA_ROOT=//p')\" \"$(echo \"$env\" | sed -n 's/^SSE_HOST=//p')\"; done")

    def process(self, output):
        width = len(self.keys)
        return [dict(zip(self.keys, (line.split("\t") + [""] * width)[:width], strict=True))
                for line in output if line.strip()]


class UpstreamBranch(FactBase):
    """Whether url has branch: "present", "missing", "unreachable: ...", or None without git."""

    def command(self, url, branch):
        return (f"command -v git >/dev/null || exit 0; "
                f"out=$(timeout 20 git ls-remote --exit-code {url} refs/heads/{branch} 2>&1); rc=$?; "
                f"case $rc in 0) echo present;; 2) echo missing;; *) echo \"unreachable: $(echo \"$out\" | tail -n 1)\";; esac")

    def process(self, output):
        return output[0] if output else None


class NginxConfigTest(FactBase):
    """None without nginx; otherwise (passes, nginx's message)."""

    def command(self):
        return "command -v nginx >/dev/null || exit 0; out=$(nginx -t 2>&1); echo \"exit=$?\"; echo \"$out\""

    def process(self, output):
        if not output:
            return None
        return output[0] == "exit=0", " ".join(line.strip() for line in output[1:] if "test is successful" not in line)


class PackageCandidates(FactBase):
    """Installable version of each package apt knows; None when the host has no apt lists yet."""

    default = dict

    def command(self, packages):
        return (f"ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || {{ echo no-lists; exit 0; }}; "
                f"apt-cache policy {' '.join(packages)} 2>/dev/null")

    def process(self, output):
        if output and output[0] == "no-lists":
            return None
        found, current = {}, None
        for line in output:
            if not line.startswith(" "):
                current = line.rstrip(":")
            elif line.strip().startswith("Candidate:") and current:
                found[current] = line.split(":", 1)[1].strip()
        return found


# --- checks --------------------------------------------------------------------------------

def _inside(path: str, other: str) -> bool:
    a, b = PurePosixPath(path), PurePosixPath(other)
    return a == b or b in a.parents or a in b.parents


def _within(path: str, root: str) -> bool:
    return PurePosixPath(root) == PurePosixPath(path) or PurePosixPath(root) in PurePosixPath(path).parents


def _unit(name: str) -> str:
    return name if name.endswith(".service") else f"{name}.service"


def settings_problems(d) -> list[str]:
    """Problems with the settings alone; no host needed."""
    problems = []
    for key in ("dev_port", "production_port"):
        value = getattr(d, key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
            problems.append(f"{key}={value!r}: not a TCP port; give a whole number from 1 to 65535")
    if not problems and d.dev_port == d.production_port:
        problems.append(f"dev_port={d.dev_port}: that is production's port (production_port); "
                        f"choose another, e.g. 3446")
    production = {k: getattr(d, k) for k in ("production_checkout", "production_data_dir",
                                              "production_backups_dir", "production_old_checkout")}
    dev = {k: getattr(d, k) for k in ("dev_checkout", "dev_data_dir", "dev_env_file", "dev_backups_dir")
           if getattr(d, k, None) is not None}
    for key, path in dev.items():
        if not str(path).startswith("/"):
            problems.append(f"{key}={path}: a relative path; give an absolute one")
            continue
        overlaps = []
        for prod_key, prod_path in production.items():
            if _inside(path, prod_path):
                relation = "is" if PurePosixPath(path) == PurePosixPath(prod_path) else (
                    "lies inside" if PurePosixPath(prod_path) in PurePosixPath(path).parents else "contains")
                overlaps.append(f"{relation} production's {prod_key} ({prod_path})")
        if overlaps:
            problems.append(f"{key}={path}: {', '.join(overlaps)}; choose a path outside production, "
                            f"e.g. /mnt/coordinaton_mcp_data/v2-dev-*")
    keys = list(dev)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            if PurePosixPath(dev[a]) == PurePosixPath(dev[b]):
                problems.append(f"{b}={dev[b]}: the same path as {a}; give each its own")
    if _unit(d.dev_unit) == _unit(d.production_unit):
        problems.append(f"dev_unit={d.dev_unit}: that is production's unit; choose another name, "
                        f"e.g. mcp-coordination-dev.service")
    if d.dev_user == "root":
        problems.append("dev_user=root: the dev server must not run as root; use an unprivileged user, e.g. hacs-dev")
    for name, value in d.dev_extra_environment.items():
        if name == "V2_DATA_ROOT" and not _within(str(value), d.dev_data_dir):
            problems.append(f"dev_extra_environment V2_DATA_ROOT={value}: outside dev_data_dir "
                            f"({d.dev_data_dir}); remove it, the unit sets V2_DATA_ROOT from dev_data_dir")
        elif name in RESERVED_ENVIRONMENT:
            problems.append(f"dev_extra_environment {name}={value}: set by {RESERVED_ENVIRONMENT[name]}; "
                            f"remove it from dev_extra_environment")
    try:
        loopback = ipaddress.ip_address(d.dev_listen_address).is_loopback
    except ValueError:
        loopback = None
    if loopback is None:
        problems.append(f"dev_listen_address={d.dev_listen_address}: not an IP address; use 127.0.0.1")
    elif not loopback:
        problems.append(f"dev_listen_address={d.dev_listen_address}: exposes the unauthenticated dev server; "
                        f"use 127.0.0.1 (nginx is its only door)")
    if not isinstance(d.server_name, str) or not HOSTNAME.match(d.server_name):
        problems.append(f"server_name={d.server_name!r}: not a host name; give one like smoothcurves.nexus")
    if not re.fullmatch(r"(/[A-Za-z0-9._-]+)+", str(d.dev_url_path)):
        problems.append(f"dev_url_path={d.dev_url_path!r}: give a path like /mcp/dev (leading /, no trailing /)")
    if not BRANCH.match(str(d.dev_branch)):
        problems.append(f"dev_branch={d.dev_branch!r}: not a valid branch name; e.g. v2")
    problems += backup_settings_problems(d)
    if not re.fullmatch(r"/run/[A-Za-z0-9._-]+", str(d.dev_runtime_dir)):
        problems.append(f"dev_runtime_dir={d.dev_runtime_dir!r}: give /run/NAME (systemd makes it for the unit)")
    source = d.dev_catalog_source
    if source and not (str(source).startswith("host:/") or (REPO / str(source)).is_dir()):
        problems.append(f"dev_catalog_source={source}: no such folder in this project; give one (e.g. files/catalog), "
                        f"host:/path for a data root on the host, or None")
    if d.dev_local_changes not in ("stash", "fail"):
        problems.append(f"dev_local_changes={d.dev_local_changes!r}: use stash or fail")
    return problems


RESTIC_SCHEMES = ("local", "sftp", "rest", "s3", "b2", "azure", "gs", "swift", "rclone")
RETENTION_PERIODS = ("last", "hourly", "daily", "weekly", "monthly", "yearly")


def backup_settings_problems(d) -> list[str]:
    from tasks.backups import is_snapshot_id, local_repository

    problems = []
    repository = str(d.backup_repository or "")
    scheme = repository.split(":", 1)[0] if ":" in repository else "local"
    path = local_repository(repository)
    if not repository or scheme not in RESTIC_SCHEMES or (scheme == "local" and not path):
        problems.append(f"backup_repository={d.backup_repository!r}: not a restic repository; give an off-host URL "
                        f"such as sftp:user@backup-host:/srv/restic/droplet, or an absolute path on the host")
    elif path:
        # Inside the data it backs up, or mixed with production's: either is one disk failure from gone.
        for key in ("dev_data_dir", "production_data_dir", "production_checkout"):
            if _inside(path, getattr(d, key)) if key.startswith("production") else _within(path, getattr(d, key)):
                problems.append(f"backup_repository={repository}: overlaps {key} ({getattr(d, key)}); "
                                f"give a path of its own, or better an off-host URL")
    for key in ("backup_ssh_key", "backup_ssh_known_hosts", "backup_credentials_file"):
        value = getattr(d, key)
        if value and not (REPO / value).is_file():
            problems.append(f"{key}={value}: no such file on this machine; give the file's path, or None")
    if not isinstance(d.dev_backup_retention, dict) or not d.dev_backup_retention or any(
            period not in RETENTION_PERIODS or not isinstance(count, int) or count < 1
            for period, count in d.dev_backup_retention.items()):
        problems.append(f"dev_backup_retention={d.dev_backup_retention!r}: give counts for restic forget, "
                        f"e.g. {{\"hourly\": 48, \"daily\": 14, \"weekly\": 8}} (periods: {', '.join(RETENTION_PERIODS)})")
    if not re.fullmatch(r"(100|[1-9][0-9]?)(\.[0-9]+)?%|[1-9][0-9]*/[1-9][0-9]*", str(d.dev_backup_check_read_data)):
        problems.append(f"dev_backup_check_read_data={d.dev_backup_check_read_data!r}: give a share restic check "
                        f"reads, e.g. 10% or 1/7")
    source = d.restore_from
    if source and source != "latest" and not is_snapshot_id(source) and not str(source).startswith("host:") \
            and not Path(source).is_file():
        problems.append(f"restore_from={source}: not a snapshot and no such file on this machine; give latest or a "
                        f"snapshot id (backup.py lists them), or a tar archive of before restic")
    return problems


def backup_host_problems(d) -> list[str]:
    """The password on the host opens its repository: a different one here would lock the host out."""
    from tasks.backups import local_file, local_repository

    config = d.backup_config_dir
    on_host = host.get_fact(Sha256File, path=f"{config}/password")
    here = local_file("backup_password_file")
    problems = []
    if on_host and not here.is_file():
        problems.append(f"backup_password_file={d.backup_password_file}: missing on this machine, while the host has "
                        f"{config}/password; fetch it with `pyinfra inventory.py backup.py` (keeps it 0600) and deploy again")
    elif on_host and hashlib.sha256(here.read_bytes()).hexdigest() != on_host:
        problems.append(f"backup_password_file={d.backup_password_file}: differs from the host's {config}/password, "
                        f"which opens its repository; put the host's in that file (backup.py fetches it when missing)")
    path = local_repository(str(d.backup_repository))
    snapshot = d.restore_from and not str(d.restore_from).startswith("host:") and not Path(d.restore_from).is_file()
    if snapshot and path and not host.get_fact(Directory, path=path):
        problems.append(f"restore_from={d.restore_from}: backup_repository={d.backup_repository} is on the host and there "
                        f"is none here; give the off-host repository the snapshots are in")
    return problems


def orphans(d) -> list[dict]:
    """Processes on the dev port that are not the dev unit (the diary found one running 11 days)."""
    return [p for p in host.get_fact(PortListeners, port=d.dev_port) if p["unit"] != _unit(d.dev_unit)]


def host_problems(d) -> list[str]:
    from tasks.adoption import hand_made_servers, interrupted_adoption

    problems = []
    production_pids = {p["pid"] for p in host.get_fact(PortListeners, port=d.production_port)}
    hand_made = [p["pid"] for p in hand_made_servers(d)]
    for p in orphans(d):
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
    if d.adopt and hand_made:
        problems += adoption_problems(d)
    if not d.adopt and interrupted_adoption(d):
        problems.append(f"adopt: an adoption was interrupted after the hand-made server stopped "
                        f"({d.bastion_state_dir}/adoption-in-progress); rerun with --data adopt=True to finish it")
    branch = host.get_fact(UpstreamBranch, url=d.dev_repo_url, branch=d.dev_branch)
    if branch is None:  # no git on the host yet (a blank droplet): ask from here instead
        branch = _local_upstream_branch(d.dev_repo_url, d.dev_branch)
    if branch == "missing":
        problems.append(f"dev_branch={d.dev_branch}: {d.dev_repo_url} has no such branch; "
                        f"push it first or set dev_branch to an existing branch")
    elif branch.startswith("unreachable"):
        problems.append(f"dev_repo_url={d.dev_repo_url}: cannot be reached from the host "
                        f"({branch.split(':', 1)[1].strip()}); check the URL and the host's network")
    if host.get_fact(ForeignDirectory, path=d.dev_checkout):
        problems.append(f"dev_checkout={d.dev_checkout}: exists, is not empty and is not a git checkout; "
                        f"move it away or choose another dev_checkout")
    problems += backup_host_problems(d)
    problems += site_problems(d, host.get_fact(FileContents, path=d.production_nginx_site) or [])
    nginx = host.get_fact(NginxConfigTest)
    if nginx is not None and not nginx[0]:
        problems.append(f"production_nginx_site: nginx -t already fails before this deploy touched anything "
                        f"({nginx[1]}); fix production's nginx configuration first, bastion changes nothing in nginx until then")
    installed = host.get_fact(DebPackages)
    missing = [name for name in d.dev_packages if name not in installed]
    if missing:
        candidates = host.get_fact(PackageCandidates, packages=missing)
        lost = [name for name in missing
                if candidates is not None and candidates.get(name, "(none)") == "(none)"]
        if lost:
            problems.append(f"dev_packages: apt finds no {', '.join(lost)}; enable the distribution's "
                            f"main/universe sources or remove them from dev_packages")
    return problems


def site_problems(d, site: list[str]) -> list[str]:
    """A location for dev_url_path written by hand into production's site: adoption replaces it when it
    is the simple proxy the diary wrote; anything else is for a human."""
    from tasks.nginx import dev_locations, not_a_simple_proxy

    blocks = dev_locations(site, d.dev_url_path)
    where = f"production_nginx_site: {d.production_nginx_site} already has a location for {d.dev_url_path}"
    if len(blocks) > 1:
        return [f"{where} at lines {', '.join(str(first) for first, _ in blocks)}, made by hand; "
                f"keep at most one (bastion's snippet {d.dev_nginx_snippet} replaces it) and deploy again"]
    if not blocks:
        return []
    (first, last), = blocks
    why = not_a_simple_proxy(site, (first, last), d.dev_port)
    if why:
        return [f"{where} (lines {first}-{last}) that is not the simple hand-made proxy: {why}; adapt it by hand "
                f"(bastion's snippet {d.dev_nginx_snippet} replaces it) and deploy again"]
    if not d.adopt:
        return [f"{where} (line {first}), made by hand; rerun with --data adopt=True to have it replaced by "
                f"bastion's snippet (add --dry to see the plan first), or remove that block yourself"]
    return []


class LocalCommits(FactBase):
    """How many commits HEAD has that no remote-tracking branch has (0 when path is no checkout)."""

    def command(self, path):
        return f"git -C {path} rev-list --count HEAD --not --remotes 2>/dev/null || echo 0"

    def process(self, output):
        return int(output[0]) if output and output[0].isdigit() else 0


def adoption_problems(d) -> list[str]:
    """adopt=True and a hand-made dev server runs: anything but the expected setup stops the run."""
    from tasks.adoption import data_root, hand_made_servers

    problems = []
    listeners = orphans(d)
    if len(listeners) > 1:
        problems.append(f"dev_port={d.dev_port}: {len(listeners)} processes listen there (PIDs "
                        f"{', '.join(p['pid'] for p in listeners)}); adoption takes over one hand-made server: "
                        f"stop the others yourself, then adopt")
        return problems
    [server] = hand_made_servers(d)
    root = data_root(server)
    for key in ("production_data_dir", "production_checkout", "production_old_checkout", "production_backups_dir"):
        if _within(root, getattr(d, key)):
            problems.append(f"adopt: the hand-made server's V2_DATA_ROOT={root} is inside production's {key} "
                            f"({getattr(d, key)}); bastion never carries production's data: move the dev data by hand")
    ahead = host.get_fact(LocalCommits, path=d.dev_checkout)
    if ahead:
        problems.append(f"dev_checkout={d.dev_checkout}: has {ahead} commit(s) that origin does not; push them "
                        f"(or move the checkout away), then adopt")
    return problems


class ForeignDirectory(FactBase):
    """True when path is a non-empty directory that is not a git checkout."""

    default = bool

    def command(self, path):
        return f"test -d {path} && ! test -e {path}/.git && test -n \"$(ls -A {path})\" && echo yes || true"

    def process(self, output):
        return bool(output) and output[0] == "yes"


def _local_upstream_branch(url: str, branch: str) -> str:
    try:
        done = subprocess.run(["git", "ls-remote", "--exit-code", url, f"refs/heads/{branch}"],
                              capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unreachable: {error}"
    return {0: "present", 2: "missing"}.get(done.returncode, f"unreachable: {done.stderr.strip()[-200:]}")


@deploy("Preflight")
def check_settings_and_host():
    d = host.data
    problems = settings_problems(d)
    if not problems:
        problems = host_problems(d)
    if problems:
        lines = "\n".join(f"  {problem}" for problem in problems)
        print(f"preflight on {host.name}: {len(problems)} problem(s); nothing on the host was changed:\n{lines}",
              file=sys.stderr, flush=True)
        raise PreflightFailed(2)
    from tasks.adoption import hand_made_servers

    adopted = [p["pid"] for p in hand_made_servers(d)] if d.adopt else []
    for p in (p for p in orphans(d) if p["pid"] not in adopted):
        logger.warning(f"{host.print_prefix}stopping PID {p['pid']} on dev_port {d.dev_port} "
                       f"(cwd {p['cwd']}, command: {p['cmdline'].strip()}): dev_stop_orphans=True")
        server.shell(name=f"Stop orphan PID {p['pid']} on port {d.dev_port}",
                     commands=[f"kill {p['pid']}; for i in $(seq 50); do kill -0 {p['pid']} 2>/dev/null || exit 0; "
                               f"sleep 0.1; done; kill -9 {p['pid']}"])
