"""Which fact commands the host's interpreters answer themselves (batchssh/hostfacts.py), made from pyinfra's own.

The templates are pyinfra's commands for its File and file hash facts, around a placeholder path, wrapped as
batchssh runs a fact (the host's `sh -c`): the host answers a command itself only when it is one of them exactly.
Each must be, unwrapped, the command hostfacts.py was written for (KNOWN): a pyinfra that asks otherwise leaves
the kind to the shell, and tests/unit says so.
"""
from __future__ import annotations

import base64
import json

from pyinfra.api import StringCommand
from pyinfra.connectors.util import make_unix_command_for_host
from pyinfra.facts import files, systemd

PLACEHOLDER = "/batchssh/native/path"
UNIT_PLACEHOLDER = "batchssh-native-unit.service"

FACTS = {"stat": files.File, "sha1": files.Sha1File, "sha256": files.Sha256File, "md5": files.Md5File,
         "sha384": files.Sha384File}

_STAT = ("! (test -e {0} || test -L {0} ) || ( stat -c 'user=%U group=%G mode=%A atime=%X mtime=%Y ctime=%Z "
         "size=%s %N' {0} 2> /dev/null || stat -f 'user=%Su group=%Sg mode=%Sp atime=%a mtime=%m ctime=%c size=%z "
         "%N%SY' {0} || ls -ld {0} )")
KNOWN = {
    "stat": _STAT,
    "sha1": "test -e {0} && ( sha1sum {0} 2> /dev/null || shasum {0} 2> /dev/null || sha1 {0} 2> /dev/null ) || true",
    "sha256": "test -e {0} && ( sha256sum {0} 2> /dev/null || shasum -a 256 {0} 2> /dev/null || "
              "sha256 {0} 2> /dev/null ) || true",
    "md5": "test -e {0} && ( md5sum {0} 2> /dev/null || md5 {0} 2> /dev/null ) || true",
    "sha384": "test -e {0} && ( sha384sum {0} 2> /dev/null || shasum -a 384 {0} 2> /dev/null || "
              "sha384 {0} 2> /dev/null ) || true",
}


# pyinfra's systemd facts for one unit, as its fact loader runs them (in a test for systemctl), per property read.
SHOWN = {"SubState": systemd.SystemdStatus, "UnitFileState": systemd.SystemdEnabled}
KNOWN_SHOWN = ("if command -v systemctl >/dev/null 2>&1; then ( systemctl show --all --property Id --property {1} {0} ); "
               "else echo '##PYINFRA_NOCMD##'; fi")


def _as_loaded(fact, command: StringCommand) -> StringCommand:
    """The command as pyinfra's fact loader wraps a fact that requires a command (pyinfra.api.facts._get_fact)."""
    required = fact.requires_command()
    return StringCommand("if", "command", "-v", required, ">/dev/null", "2>&1;", "then", "(", command, ");", "else",
                         "echo", "'##PYINFRA_NOCMD##';", "fi")


def templates(state, host) -> dict[str, list[str]]:
    """Per kind, the parts of its fact command (as batchssh runs it on this host) around the path; a kind whose
    command pyinfra makes otherwise than KNOWN is left out."""
    made = {}
    for kind, fact in FACTS.items():
        command = fact().command(PLACEHOLDER)
        if command.get_raw_value() == KNOWN[kind].format(PLACEHOLDER):
            made[kind] = make_unix_command_for_host(state, host, command).get_raw_value().split(PLACEHOLDER)
    for prop, fact in SHOWN.items():
        command = _as_loaded(fact(), fact().command(services=UNIT_PLACEHOLDER))
        if command.get_raw_value() == KNOWN_SHOWN.format(UNIT_PLACEHOLDER, prop):
            made[f"show:{prop}"] = make_unix_command_for_host(state, host, command).get_raw_value().split(UNIT_PLACEHOLDER)
    return made


def argument(made: dict[str, list[str]]) -> str:
    """The templates as the interpreters' argument (pipe.PRELUDE reads it): a word the login shell passes as it is."""
    return base64.b64encode(json.dumps(made).encode()).decode()
