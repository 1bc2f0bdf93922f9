"""What the settings must satisfy, and what the dev environment may never overlap: pure functions of the
settings (and of production as tasks/production_view.py learnt it), no host and no pyinfra, so tests/unit
proves every refusal in milliseconds. Each problem is one line: the setting, what is wrong, the fix.
"""
from __future__ import annotations

import ipaddress
import re
import sys
from datetime import datetime
from pathlib import Path, PurePosixPath

from tasks import REPO, nginx_text
from tasks.production_view import Production, inside, relation, within

HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
BRANCH = re.compile(r"^(?!/|.*//|.*\.\.|.*@\{|.*\.lock$|.*/$|.*\.$)[A-Za-z0-9._/-]+$")
RESERVED_ENVIRONMENT = {"SSE_PORT": "dev_port", "SSE_HOST": "dev_listen_address", "HOST": "dev_listen_address",
                        "NODE_ENV": "dev_node_env"}
ENVIRONMENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# What would end or change a unit's Environment="NAME=value" line: its quoting, an escape, a specifier, a line.
UNIT_UNSAFE = re.compile(r"[\"'\\%\n\r]")
# A token holder's name: a word nginx's map and a file's line take as it is.
HOLDER = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
# How a setting is unset: pyinfra's --data reads None as the text "None", and JSON's null as None.
UNSET = "None (null with --data)"
DEV_PATHS = ("dev_checkout", "dev_data_dir", "dev_env_file", "dev_backups_dir")
RESTIC_SCHEMES = ("local", "sftp", "rest", "s3", "b2", "azure", "gs", "swift", "rclone")
RETENTION_PERIODS = ("last", "hourly", "daily", "weekly", "monthly", "yearly")
SFTP_SHORT = re.compile(r"^sftp:(?P<login>[^/:]+):(?P<path>/.*)$")
SFTP_URL = re.compile(r"^sftp://(?P<login>[^/:]+)(:(?P<port>\d+))?/(?P<path>.+)$")


class Refused(SystemExit):
    """A run stopped before anything on the host changed."""


def refuse(host_name: str, problems: list[str], what: str = "preflight") -> None:
    """Stop the run with one line per problem, when there are any."""
    if not problems:
        return
    lines = "\n".join(f"  {problem}" for problem in problems)
    print(f"{what} on {host_name}: {len(problems)} problem(s); nothing on the host was changed:\n{lines}",
          file=sys.stderr, flush=True)
    raise Refused(2)


def unit_name(name: str) -> str:
    return name if name.endswith(".service") else f"{name}.service"


# --- repositories ----------------------------------------------------------------------------

def sftp_target(repository: str) -> dict | None:
    """user@host and port of an sftp repository (restic's two spellings), else None."""
    found = SFTP_SHORT.match(repository) or SFTP_URL.match(repository)
    if not found:
        return None
    path = found["path"] if found.re is SFTP_SHORT else "/" + found["path"]
    return {"login": found["login"], "port": found.groupdict().get("port"), "path": path,
            "user": found["login"].split("@")[0] if "@" in found["login"] else None}


def local_repository(repository: str) -> str | None:
    """The path of a repository on the host itself (it does not survive the droplet), else None."""
    if repository.startswith("local:"):
        return repository[len("local:"):]
    return repository if repository.startswith("/") else None


def off_host(repository: str) -> bool:
    return local_repository(repository) is None


def is_snapshot_id(value) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{8,64}", str(value)))


def snapshot_time(text: str) -> float:
    """restic's time of a snapshot (nanoseconds, an offset or Z) as a Unix timestamp."""
    return datetime.fromisoformat(re.sub(r"\.\d+", "", text).replace("Z", "+00:00")).timestamp()


def restore_is_snapshot(source) -> bool:
    return source == "latest" or is_snapshot_id(snapshot_text(source))


def whole_number(value) -> bool:
    """An int as a setting means one (True is an int to Python, not to an operator)."""
    return isinstance(value, int) and not isinstance(value, bool)


def snapshot_text(value):
    """A snapshot setting as restic reads it. pyinfra's --data turns an id of digits alone into an int (and
    one like 1234e567 into a float): an int as long as restic's ids (8, or 64) is that id as typed; any other
    number lost what was typed (a leading 0, an exponent) and stays a number, for snapshot_problems."""
    if whole_number(value) and len(str(value)) in (8, 64):
        return str(value)
    return value


def snapshot_problems(d) -> list[str]:
    """Snapshot settings that pyinfra read as a number it cannot give back as typed."""
    return [f"{key}={value}: pyinfra's --data read this snapshot id as a number and may have changed it (a leading "
            f"0, an e); quote it as JSON: --data '{key}=\"ID\"', ID as backup.py lists it"
            for key in ("restore_from", "production_restore_from")
            if isinstance(value := snapshot_text(getattr(d, key)), (int, float)) and not isinstance(value, bool)]


# --- the settings alone ------------------------------------------------------------------------

def settings_problems(d) -> list[str]:
    problems = []
    for key in ("dev_port", "production_port"):
        value = getattr(d, key)
        if not whole_number(value) or not 1 <= value <= 65535:
            problems.append(f"{key}={value!r}: not a TCP port; give a whole number from 1 to 65535")
    for key in ("dev_health_timeout_seconds", "dev_dependencies_lock_wait_seconds", "dev_install_timeout_seconds"):
        value = getattr(d, key)
        if not whole_number(value) or value < 1:
            problems.append(f"{key}={value!r}: give a whole number of seconds, at least 1")
    if not problems and d.dev_port == d.production_port:
        problems.append(f"dev_port={d.dev_port}: that is production's port (production_port); "
                        f"choose another, e.g. 3446")
    dev = {key: getattr(d, key) for key in DEV_PATHS if getattr(d, key, None) is not None}
    for key, path in dev.items():
        if not str(path).startswith("/"):
            problems.append(f"{key}={path}: a relative path; give an absolute one")
    keys = list(dev)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            if PurePosixPath(dev[a]) == PurePosixPath(dev[b]):
                problems.append(f"{b}={dev[b]}: the same path as {a}; give each its own")
    if unit_name(d.dev_unit) == unit_name(d.production_unit):
        problems.append(f"dev_unit={d.dev_unit}: that is production's unit; choose another name, "
                        f"e.g. mcp-coordination-dev.service")
    if d.dev_user == "root":
        problems.append("dev_user=root: the dev server must not run as root; use an unprivileged user, e.g. hacs-dev")
    for name, value in d.dev_extra_environment.items():
        if not ENVIRONMENT_NAME.match(str(name)) or not isinstance(value, str | int) or isinstance(value, bool) \
                or UNIT_UNSAFE.search(str(value)):
            problems.append(f"dev_extra_environment {name!r}={value!r}: not a plain NAME=value for the unit (a name of "
                            f"letters, digits and _; a value without quotes, backslashes, % or line breaks); fix or remove it")
        elif name == "V2_DATA_ROOT" and not within(str(value), d.dev_data_dir):
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
    if not isinstance(d.production_leftovers, list | tuple) or not all(
            str(path).startswith("/") for path in d.production_leftovers):
        problems.append(f"production_leftovers={d.production_leftovers!r}: give a list of absolute paths")
    problems += backup_settings_problems(d)
    if not re.fullmatch(r"/run/[A-Za-z0-9._-]+", str(d.dev_runtime_dir)):
        problems.append(f"dev_runtime_dir={d.dev_runtime_dir!r}: give /run/NAME (systemd makes it for the unit)")
    source = d.dev_catalog_source
    if source and not (str(source).startswith("host:/") or (REPO / str(source)).is_dir()):
        problems.append(f"dev_catalog_source={source}: no such folder in this project; give one (e.g. files/catalog), "
                        f"host:/path for a data root on the host, or {UNSET}")
    if d.dev_local_changes not in ("stash", "fail"):
        problems.append(f"dev_local_changes={d.dev_local_changes!r}: use stash or fail")
    if d.dev_cpus is not None and cpu_list(d.dev_cpus) is None:
        problems.append(f"dev_cpus={d.dev_cpus!r}: not a CPU list; give systemd's syntax (e.g. 1 or 2-3), or {UNSET}")
    return problems


def token_request_problems(d) -> list[str]:
    """tokens.py: one person named, to issue or to revoke, in a form the host's map takes as it is."""
    if bool(d.token_issue) == bool(d.token_revoke):
        return ["token_issue, token_revoke: name exactly one person, e.g. ./bastion token issue lupo "
                "(or ./bastion token revoke lupo)"]
    key = "token_issue" if d.token_issue else "token_revoke"
    name = getattr(d, key)
    if not isinstance(name, str) or not HOLDER.match(name) or name == "bastion":
        return [f"{key}={name!r}: give a name of lowercase letters, digits, '.', '_' or '-' (at most 32; "
                f"'bastion' is bastion's own token), e.g. lupo"]
    return []


def cpu_list(value) -> set[int] | None:
    """The CPUs of a CPUAffinity= value ("1", "0 2", "2-3,5"); None when it is not one."""
    cpus = set()
    for part in re.split(r"[\s,]+", str(value).strip()):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match or int(match[2] or match[1]) < int(match[1]):
            return None
        cpus.update(range(int(match[1]), int(match[2] or match[1]) + 1))
    return cpus


def cpu_problems(d, online: int) -> list[str]:
    """dev_cpus against the host's CPUs: each must exist, and one at least must stay dev's-free."""
    if d.dev_cpus is None or not online:
        return []
    wanted = cpu_list(d.dev_cpus) or set()
    fix = f"e.g. {online - 1}" if online > 1 else f"{UNSET} on a one-core host"
    if max(wanted) >= online:
        return [f"dev_cpus={d.dev_cpus}: the host has {online} CPU(s) (0-{online - 1}); name one it has ({fix})"]
    if len(wanted) >= online:
        return [f"dev_cpus={d.dev_cpus}: that is every CPU of the host, none left to production alone; "
                f"name fewer ({fix})"]
    return []


def backup_settings_problems(d) -> list[str]:
    problems = []
    repository = str(d.backup_repository or "")
    scheme = repository.split(":", 1)[0] if ":" in repository else "local"
    path = local_repository(repository)
    if not repository or scheme not in RESTIC_SCHEMES or (scheme == "local" and not path):
        problems.append(f"backup_repository={d.backup_repository!r}: not a restic repository; give an off-host URL "
                        f"such as sftp:user@backup-host:/srv/restic/droplet, or an absolute path on the host")
    elif path and within(path, d.dev_data_dir):
        problems.append(f"backup_repository={repository}: overlaps dev_data_dir ({d.dev_data_dir}); "
                        f"give a path of its own, or better an off-host URL")
    for key in ("backup_ssh_key", "backup_ssh_known_hosts", "backup_credentials_file"):
        value = getattr(d, key)
        if value and not (REPO / value).is_file():
            problems.append(f"{key}={value}: no such file on this machine; give the file's path, or {UNSET}")
    if not isinstance(d.dev_backup_retention, dict) or not d.dev_backup_retention or any(
            period not in RETENTION_PERIODS or not isinstance(count, int) or count < 1
            for period, count in d.dev_backup_retention.items()):
        problems.append(f"dev_backup_retention={d.dev_backup_retention!r}: give counts for restic forget, "
                        f"e.g. {{\"hourly\": 48, \"daily\": 14, \"weekly\": 8}} (periods: {', '.join(RETENTION_PERIODS)})")
    if not re.fullmatch(r"(100|[1-9][0-9]?)(\.[0-9]+)?%|[1-9][0-9]*/[1-9][0-9]*", str(d.dev_backup_check_read_data)):
        problems.append(f"dev_backup_check_read_data={d.dev_backup_check_read_data!r}: give a share restic check "
                        f"reads, e.g. 10% or 1/7")
    if d.backup_append_only and not (sftp_target(repository) and sftp_target(repository)["user"] and d.backup_ssh_key):
        problems.append("backup_append_only=True: needs an sftp backup_repository with its user "
                        "(sftp:USER@backup-host:/path, the host backup_host.py set up) and backup_ssh_key (the key it "
                        "forces); set both, or backup_append_only=False")
    numbers = snapshot_problems(d)
    problems += numbers
    source = d.restore_from
    if source and not numbers and not restore_is_snapshot(source) and not str(source).startswith("host:") \
            and not Path(source).is_file():
        problems.append(f"restore_from={source}: not a snapshot and no such file on this machine; give latest or a "
                        f"snapshot id (backup.py lists them), or a tar archive of before restic")
    restore = d.production_restore_from
    if restore and not numbers and not restore_is_snapshot(restore):
        problems.append(f"production_restore_from={restore}: give latest or a snapshot id "
                        f"(`bastion-restic snapshots --tag production` lists them)")
    return problems


def backup_host_settings_problems(d) -> list[str]:
    """backup_host.py: the repository it keeps and the key it forces, both named, before the host changes."""
    target = sftp_target(str(d.backup_repository or ""))
    if not (target and target["user"]):
        return [f"backup_repository={d.backup_repository!r}: backup_host.py keeps an sftp repository; give "
                f"sftp:USER@backup-host:/path (the user and path it sets up on this host)"]
    problems = []
    if not d.backup_ssh_key or not (REPO / d.backup_ssh_key).is_file():
        problems.append(f"backup_ssh_key={d.backup_ssh_key!r}: backup_host.py forces the droplet's key; give the "
                        f"private key file on this machine that deploy.py gives the droplet")
    if not re.fullmatch(r"/var/lib/[A-Za-z0-9._-]+", str(d.backup_host_state_dir)):
        problems.append(f"backup_host_state_dir={d.backup_host_state_dir!r}: give /var/lib/NAME (systemd makes it)")
    return problems


def tls_settings_problems(d) -> list[str]:
    problems = []
    bundle = d.production_acme_ca_bundle
    if bundle and not (REPO / bundle).is_file():
        problems.append(f"production_acme_ca_bundle={bundle}: no such file on this machine; give the CA file, or {UNSET}")
    server = d.production_acme_server
    if server and not str(server).startswith("https://"):
        problems.append(f"production_acme_server={server!r}: give an ACME directory URL (https://.../directory), "
                        f"or {UNSET} for Let's Encrypt's")
    return problems


# --- the settings against production as the host showed it ------------------------------------

def production_overlaps(d, production: Production) -> list[str]:
    """A dev path (or an on-host repository) that is, contains or lies inside anything of production's: its
    checkout, data root (everything under it is production's, whatever its name), secrets, a leftover."""
    problems = []
    live = production.paths()
    expected = {key: getattr(d, key) for key in live if getattr(d, key, None)}
    repository = local_repository(str(d.backup_repository or ""))
    mine = {key: getattr(d, key) for key in DEV_PATHS if str(getattr(d, key, None) or "").startswith("/")}
    if repository:
        mine["backup_repository"] = repository
    for key, path in mine.items():
        overlaps = []
        for prod_key, prod_path in live.items():
            if inside(path, prod_path):
                overlaps.append(f"{relation(path, prod_path)} production's {prod_key} ({prod_path})")
        for prod_key, prod_path in expected.items():
            if prod_path != live.get(prod_key) and inside(path, prod_path):
                overlaps.append(f"{relation(path, prod_path)} {prod_key} ({prod_path})")
        for leftover in production.leftovers:
            if inside(path, leftover):
                overlaps.append(f"{relation(path, leftover)} the leftover {leftover} (production_leftovers: "
                                f"never bastion's)")
        if overlaps:
            problems.append(f"{key}={path}: {', '.join(overlaps)}; choose a path outside production, "
                            f"e.g. {safe_choice(d, key)}")
    return problems


def safe_choice(d, key: str) -> str:
    """A place of the dev environment's own, on the droplet's disk rather than production's volume."""
    return {"dev_checkout": f"{d.dev_home}/checkout", "dev_data_dir": f"{d.dev_home}/data",
            "dev_env_file": "/etc/hacs-dev/secrets.env", "dev_backups_dir": f"{d.dev_home}/backups",
            "backup_repository": "an off-host URL such as sftp:user@backup-host:/srv/restic/droplet"}[key]


def site_problems(d, site: str, lines: list[str]) -> list[str]:
    """A location for dev_url_path written by hand into production's site: adoption replaces it when it
    is the simple proxy the diary wrote; anything else is for a human."""
    blocks = nginx_text.dev_locations(lines, d.dev_url_path)
    where = f"production_nginx_site: {site} already has a location for {d.dev_url_path}"
    if len(blocks) > 1:
        return [f"{where} at lines {', '.join(str(first) for first, _ in blocks)}, made by hand; "
                f"keep at most one (bastion's snippet {d.dev_nginx_snippet} replaces it) and deploy again"]
    if not blocks:
        return []
    (first, last), = blocks
    why = nginx_text.not_a_simple_proxy(lines, (first, last), d.dev_port)
    if why:
        return [f"{where} (lines {first}-{last}) that is not the simple hand-made proxy: {why}; adapt it by hand "
                f"(bastion's snippet {d.dev_nginx_snippet} replaces it) and deploy again"]
    if not d.adopt:
        return [f"{where} (line {first}), made by hand; rerun with --data adopt=True to have it replaced by "
                f"bastion's snippet (add --dry to see the plan first), or remove that block yourself"]
    return []


def foreign_directory_problems(d, states: dict[str, dict]) -> list[str]:
    """dev_checkout or dev_data_dir that exist, hold something and are not bastion's: never taken over."""
    problems = []
    checkout, data = states.get("dev_checkout", {}), states.get("dev_data_dir", {})
    if checkout.get("exists") and not checkout.get("empty") and not checkout.get("git"):
        problems.append(f"dev_checkout={d.dev_checkout}: exists, holds files and is not a git checkout, so not "
                        f"bastion's; leave it be and choose a place of the dev environment's own, e.g. "
                        f"{safe_choice(d, 'dev_checkout')}")
    if data.get("exists") and not data.get("empty") and data.get("owner") != d.dev_user and not data.get("marked"):
        problems.append(f"dev_data_dir={d.dev_data_dir}: exists, holds files of {data.get('owner')} and is not "
                        f"bastion's ({d.dev_user}'s); leave it be and choose a place of the dev environment's own, e.g. "
                        f"{safe_choice(d, 'dev_data_dir')}")
    return problems
