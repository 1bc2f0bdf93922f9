"""What the settings alone must satisfy (ports, paths, names, the unit's environment, CPUs, tokens, TLS), and how
a run is refused: pure functions, no host and no pyinfra, so tests/unit proves every refusal in milliseconds. Each
problem is one line: the setting, what is wrong, the fix. The backup settings: tasks/backup_rules.py; the settings
against production as the host showed it: tasks/production_rules.py.
"""
from __future__ import annotations

import ipaddress
import re
import sys
from pathlib import PurePosixPath

from tasks import REPO
from tasks.production_view import within

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
# A preview glob is matched by the webhook's shell `case` and by Python's fnmatch: only what both read alike.
PREVIEW_GLOB = re.compile(r"^[A-Za-z0-9._/*?-]+$")


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


def whole_number(value) -> bool:
    """An int as a setting means one (True is an int to Python, not to an operator)."""
    return isinstance(value, int) and not isinstance(value, bool)


def as_typed(key: str, value, argv: list[str]):
    """A setting as the operator typed it. pyinfra's --data reads a value that parses as a number as one: a SHA
    prefix of digits becomes an int (leading zeros gone), one such as 6528e76928 a float (infinity); the text is
    read back from the command line then (`--data KEY=VALUE`, the last one given)."""
    if value is None or isinstance(value, str):
        return value
    for given in reversed(argv):
        given = given.removeprefix("--data=")
        if given.startswith(f"{key}="):
            return given.split("=", 1)[1]
    return value


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
    return problems + preview_settings_problems(d)


def preview_settings_problems(d) -> list[str]:
    problems = []
    globs = d.preview_branches
    if not isinstance(globs, list | tuple) or not all(isinstance(g, str) and PREVIEW_GLOB.match(g) for g in globs):
        problems.append(f"preview_branches={globs!r}: give a list of branch globs of letters, digits, . _ / - * ? "
                        f"(e.g. [\"v2-*\"]), or [] for no previews")
    path = str(d.preview_url_path)
    if not re.fullmatch(r"(/[A-Za-z0-9._-]+)+", path):
        problems.append(f"preview_url_path={d.preview_url_path!r}: give a path like /mcp/preview (leading /, no trailing /)")
    elif within(path, str(d.dev_url_path)) or within(str(d.dev_url_path), path):
        problems.append(f"preview_url_path={path}: inside or around dev_url_path ({d.dev_url_path}); give one of its own, "
                        f"e.g. /mcp/preview")
    if not str(d.preview_root).startswith("/") or within(str(d.preview_root), d.dev_home):
        problems.append(f"preview_root={d.preview_root}: give an absolute path outside dev_home ({d.dev_home}), "
                        f"e.g. /srv/hacs-previews")
    for key, least in (("preview_max", 0), ("preview_idle_seconds", 1)):
        value = getattr(d, key)
        if not whole_number(value) or value < least:
            problems.append(f"{key}={value!r}: give a whole number, at least {least}")
    check = d.preview_check_command
    if check is not None and (not isinstance(check, str) or not check.strip() or UNIT_UNSAFE.search(check)):
        problems.append(f"preview_check_command={check!r}: give one command line without quotes, backslashes, % "
                        f"or line breaks (a longer one as a script of the branch, e.g. sh tests/api/run.sh), or {UNSET}")
    if not whole_number(d.preview_check_timeout_seconds) or d.preview_check_timeout_seconds < 1:
        problems.append(f"preview_check_timeout_seconds={d.preview_check_timeout_seconds!r}: give a whole number, at least 1")
    ttl = d.preview_ttl_days
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
        problems.append(f"preview_ttl_days={ttl!r}: give a number of days above 0, e.g. 14")
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


