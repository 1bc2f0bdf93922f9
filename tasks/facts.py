"""Every fact bastion reads from a host beyond pyinfra's own: one home, imported by the concerns and by
preflight, importing none of them. A fact only reads; what follows from it is in the pure modules
(tasks/production_view.py, tasks/rules.py, tasks/nginx_text.py)."""
from __future__ import annotations

import shlex
from pathlib import Path

from pyinfra import host
from pyinfra.api import FactBase

from tasks import production_view
from tasks.rules import unit_name

COMMANDS = Path(__file__).resolve().parent / "commands"
# `owner_git DIR ARGS...`: git as the checkout's owner, with nothing of its configuration that runs a program.
OWNER_GIT = (COMMANDS / "owner-git.sh").read_text()
# `port_listeners PORT`: the processes that hold a listening socket on PORT, a line each (production_view.LISTENER).
PORT_LISTENERS = (COMMANDS / "port-listeners.sh").read_text()


def with_values(script: str, **values) -> str:
    """A command file of tasks/commands/, its variables set first (quoted), as one shell program."""
    return "".join(f"{name}={shlex.quote(str(value))}\n" for name, value in values.items()) + script


def _quote_all(paths) -> str:
    return " ".join(shlex.quote(str(p)) for p in paths)


def reported(guard: str, **values: str) -> str:
    """A command printing key=value for each shell command whose output is not empty, once guard passes
    (guard may `exit 0` to report nothing): the shape of every KeyValues fact that asks several questions."""
    asked = "; ".join(f'v=$({command}); [ -n "$v" ] && echo "{key}=$v"' for key, command in values.items())
    return f"{guard}; {asked}; true"


class KeyValues(FactBase):
    """A fact whose command prints key=value lines: a dict of them ({} when it prints none)."""

    default = dict

    def process(self, output):
        return dict(line.split("=", 1) for line in output if "=" in line)


class Lines(FactBase):
    """A fact whose command prints one item a line: the non-empty lines."""

    default = list

    def process(self, output):
        return [line for line in output if line]


class PortListeners(FactBase):
    """Processes listening on a TCP port: pid, user, working directory, command line, systemd unit,
    and the two settings of the app's environment that adoption needs (never a secret)."""

    default = list

    def command(self, port):
        return f"{PORT_LISTENERS}port_listeners {shlex.quote(str(port))}\n"

    def process(self, output):
        return production_view.listeners(output)


class ProductionReport(FactBase):
    """What production is on this host, in one command: its unit (systemctl show), the process on its
    port (cwd, and V2_DATA_ROOT from /proc/PID/environ: it may listen on [::1] only), the git branch and
    remote of the checkouts those name, and nginx as it loads itself (nginx -T, the enabled sites' targets).
    Parsed by tasks/production_view.py."""

    default = dict

    def command(self, unit, port, checkout):
        return with_values(OWNER_GIT + PORT_LISTENERS + (COMMANDS / "production-report.sh").read_text(),
                           UNIT=unit, PORT=port, CHECKOUT=checkout)

    def process(self, output):
        return production_view.parse_report(list(output))


class PresentPaths(Lines):
    """Which of the given paths exist on the host."""

    def command(self, paths):
        return f"for p in {_quote_all(paths)}; do [ -e \"$p\" ] && echo \"$p\"; done; true"


class NginxHasLoaded(FactBase):
    """Whether the files bastion's last nginx reload took in are still as they were then (their SHA-256 in
    the stamp): not after a run that changed one and was stopped before its reload, which the next run
    then does, though it changes nothing itself."""

    def command(self, stamp):
        return f"sha256sum --check --status {shlex.quote(stamp)} 2>/dev/null && echo yes || echo no"

    def process(self, output):
        return output == ["yes"]


class PathState(KeyValues):
    """exists, empty, git (a .git inside), owner, marked (bastion's) of a path; {} when it does not exist."""

    def command(self, path):
        quoted = shlex.quote(path)
        return reported(f"[ -e {quoted} ] || exit 0", exists="echo yes",
                        empty=f'[ -z "$(ls -A {quoted} 2>/dev/null)" ] && echo yes',
                        git=f"[ -e {quoted}/.git ] && echo yes", owner=f"stat -c %U {quoted}",
                        marked=f"[ -e {quoted}/.bastion ] && echo yes")


class Account(KeyValues):
    """A user's account as pyinfra's Users fact reads it (its /etc/passwd line, its primary group) and its home's type
    and owner: what server.user compares, for a fraction of Users' cost (every user's lastlog, shadow and groups)."""

    def command(self, user, home):
        return reported("true", passwd=f"grep -m1 ^{shlex.quote(user)}: /etc/passwd",
                        group=f"id -gn {shlex.quote(user)} 2>/dev/null",
                        home=f"stat -c '%F %U:%G' {shlex.quote(home)} 2>/dev/null")


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


class CalendarsReadable(FactBase):
    """For each OnCalendar= value, whether the host's systemd reads it (a timer with one it cannot read is
    refused at its start, after its unit was written); [] without systemd-analyze."""

    def command(self, specs):
        return (f"command -v systemd-analyze >/dev/null || exit 0; for spec in {_quote_all(specs)}; do "
                f"systemd-analyze calendar \"$spec\" >/dev/null 2>&1 && echo read || echo refused; done")

    def process(self, output):
        return [line == "read" for line in output if line]


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


class LocalCommits(FactBase):
    """How many commits HEAD has that no remote-tracking branch has (0 when path is no checkout)."""

    def command(self, path):
        return f"{OWNER_GIT}owner_git {shlex.quote(path)} rev-list --count HEAD --not --remotes 2>/dev/null || echo 0"

    def process(self, output):
        return int(output[0]) if output and output[0].isdigit() else 0


class CarriedData(KeyValues):
    """What adoption would carry from a data root: which V2 entries, how many files, how many KiB; {} when
    the root holds none of them."""

    def command(self, root, entries):
        # With no entry present, find and du would count the whole root: stop before them.
        return reported(f"cd {shlex.quote(root)} 2>/dev/null || exit 0; present=$(ls -d {' '.join(entries)} 2>/dev/null); "
                        f'[ -n "$present" ] || exit 0', entries="echo $present",
                        files="find $present -type f 2>/dev/null | wc -l",
                        kib="du -sk $present 2>/dev/null | awk '{s+=$1} END {print s}'")


class StateFile(KeyValues):
    """key=value lines of one of bastion's state files on the host ({} when there is none); the files are
    named in docs/state.md."""

    def command(self, path):
        return f"cat {path} 2>/dev/null || true"


class ReportedValues(KeyValues):
    """key=value lines a read-only command prints (status.py's questions)."""

    def command(self, script):
        return script


class InHostNetwork(FactBase):
    """True when the unit's main process runs in the host's network namespace (a server started from a unit
    of before it had one of its own, still running)."""

    default = bool

    def command(self, unit):
        return (f"pid=$(systemctl show -p MainPID --value {unit}); [ \"${{pid:-0}}\" != 0 ] && "
                f"[ \"$(readlink /proc/$pid/ns/net)\" = \"$(readlink /proc/1/ns/net)\" ] && echo yes || true")

    def process(self, output):
        return bool(output) and output[0] == "yes"


class UnitFailed(FactBase):
    def command(self, unit):
        return f"systemctl is-failed --quiet {unit} && echo failed || true"

    def process(self, output):
        return bool(output) and output[0] == "failed"


class CatalogFiles(FactBase):
    """Files of the catalog (roles/, personalities/, vacation/) under a data root, relative to it."""

    default = list
    folders = ("roles", "personalities", "vacation")

    def command(self, root):
        return f"cd {shlex.quote(root)} 2>/dev/null && find {' '.join(self.folders)} -type f 2>/dev/null || true"

    def process(self, output):
        return sorted(output)


class DirectoryEntries(Lines):
    """The entries a directory holds (none when it is missing)."""

    def command(self, path):
        return f"ls -A {shlex.quote(path)} 2>/dev/null || true"


# --- readings that combine a fact with the settings -------------------------------------------

def production(d) -> production_view.Production:
    """Production as the host shows it (pyinfra asks the host once per run and host)."""
    report = host.get_fact(ProductionReport, unit=d.production_unit, port=d.production_port,
                           checkout=d.production_checkout)
    return production_view.learn(d, report or production_view.parse_report([]))


def dev_port_strangers(d) -> list[dict]:
    """Processes on the dev port that are not the dev unit or its door (the diary found one running 11
    days). systemd itself (PID 1) holds the door's socket."""
    ours = {unit_name(d.dev_unit), unit_name(d.dev_proxy_unit)}
    return [p for p in host.get_fact(PortListeners, port=d.dev_port) if p["unit"] not in ours and p["pid"] != "1"]


def hand_made_servers(d) -> list[dict]:
    """The app on the dev port, run from the dev checkout, but not by the dev unit: started by hand
    (its cgroup is that of whatever session started it, ssh.service or a session scope)."""
    return [p for p in dev_port_strangers(d) if p["cwd"] == d.dev_checkout and "streamable-http-server.js" in p["cmdline"]]


def interrupted_adoption(d) -> dict:
    """root= of an adoption that was killed after the hand-made server stopped ({} when none)."""
    return host.get_fact(StateFile, path=f"{d.bastion_state_dir}/adoption-in-progress")


class NotOwnDirectories(Lines):
    """Which of the given paths are not directories of their own: a link (even to a directory), or a file."""

    def command(self, paths):
        not_own = '[ -L "$p" ] || { [ -e "$p" ] && [ ! -d "$p" ]; }'
        return f"for p in {_quote_all(paths)}; do {not_own} && echo \"$p\"; done; true"


class MissingPaths(Lines):
    """Which of the given paths do not exist on the host."""

    def command(self, paths):
        return f"for p in {_quote_all(paths)}; do [ -e \"$p\" ] || [ -L \"$p\" ] || echo \"$p\"; done; true"


class CheckoutGit(KeyValues):
    """The dev checkout as its owner's git sees it: head, branch, and the tip of origin's branch (asked of
    origin); {} when it is no checkout."""

    def command(self, checkout, branch):
        quoted = shlex.quote(checkout)
        return reported(f"[ -d {quoted}/.git ] || exit 0\n{OWNER_GIT}true",
                        head=f"owner_git {quoted} rev-parse HEAD 2>/dev/null",
                        branch=f"owner_git {quoted} symbolic-ref --quiet --short HEAD 2>/dev/null",
                        url=f"owner_git {quoted} config --get remote.origin.url 2>/dev/null",
                        origin=f"owner_git {quoted} ls-remote origin refs/heads/{shlex.quote(branch)} 2>/dev/null "
                               "| cut -f1 | head -n 1")


class PromoteFacts(KeyValues):
    """What promote.py decides on (tasks/commands/promote-facts.sh says what): read as the checkouts' owners."""

    def command(self, production_checkout, production_branch, dev_checkout, dev_branch, dev_commit_file, state_dir,
                preview_state_dir, promote_state, target, app_writes, backup_script, restic):
        return OWNER_GIT + with_values(
            (COMMANDS / "promote-facts.sh").read_text(), production_checkout=production_checkout,
            production_branch=production_branch, dev_checkout=dev_checkout, dev_branch=dev_branch,
            dev_commit_file=dev_commit_file, state_dir=state_dir, preview_state_dir=preview_state_dir,
            promote_state=promote_state, target=target, app_writes=" ".join(app_writes), backup_script=backup_script,
            restic=restic)
