"""batchssh: pyinfra's SSH connector, with the facts of a run asked in one round.

Over the Internet every remote command costs round trips (a channel, the exec request, the output and
exit status): a no-op deploy.py reads ~105 facts, one command each, ~180 round trips. The facts a run
reads are the same from one run to the next. So this connector remembers which fact commands a run
asked (per host and per command line of the run, in a file on this machine), sends them all at once
right after it connects, and answers each fact from that batch, as long as nothing on the host can
have changed since: the first command that is not a fact (an operation's change, a python.call's
command, unless it is declared read-only with `read_only(host)`) or the first upload ends that, and
every later fact goes over SSH as before. A fact the batch did not hold goes over SSH too, and is
remembered for the next run. Facts are read-only commands, so one a run no longer asks costs nothing
but its time. A fact is told from other commands by a context variable set while pyinfra's fact loader
(pyinfra.api.facts._get_fact) runs: this module wraps that function once, at import. If the wrapper ever
stops being the one pyinfra calls, `fact_hook_fires()` says so and tests/unit fails loudly. Upstream, one
line would make it public: in _get_fact, `host.run_shell_command(command, ..., _is_fact=True, ...)` (a
connector argument the SSH connector ignores and a batching one reads).

After the batch, the run's commands and uploads go through one interpreter on the host, a line out and a
line back each over one channel (batchssh/pipe.py); an operation's commands and uploads go as one group, run
in order until the first that fails (batchssh/groups.py); the operations after it ride in the same request as a
chain, each foreseen from its facts' last readings and run on the host only if they read so there
(_run_planned); and an operation that runs after a change has the facts it read in earlier runs asked together
at its first fact (docs/round-trips.md: a cold converge).

The connector also owns its socket options: TCP_NODELAY, since paramiko leaves Nagle's algorithm on and,
with delayed ACKs, every command then waited ~40 ms for nothing (54 ms per command on the sandbox, 10 ms
without).

    inventory:  ("@batchssh/NAME", {...the usual ssh_* data...})   the host is still called NAME

BASTION_SSH_COUNTS=FILE appends a JSON line per host and run: remote commands, facts answered from
the batch, bytes the batch returned (the tests and the benchmark read it).
"""
from __future__ import annotations

import base64
import contextvars
import functools
import hashlib
import json
import os
import socket
import sys
import time
import zlib
from collections import deque
from contextlib import contextmanager
from pathlib import Path

from pyinfra import logger
from pyinfra.api import facts as pyinfra_facts
from pyinfra.api.command import FileUploadCommand, StringCommand
from pyinfra.api.state import StateStage
from pyinfra.api.util import get_file_io
from pyinfra.connectors.ssh import SSHConnector
from pyinfra.connectors.util import CommandOutput, make_unix_command_for_host

from batchssh import groups, natives, pipe, speedups
from batchssh.foresight import Foresight, _lines, _output

# Runs on the host, reading "INDEX START-BY BASE64-COMMAND" lines on stdin: each command as sshd would run it
# (the login shell's -c, stdin closed), side by side since facts only read, started in START-BY order (batch_input),
# those natives.py names answered by the interpreter itself (hostfacts.py); then, in INDEX order and as soon as
# they are read, INDEX EXIT-STATUS MS (how long it took) and its stdout and stderr in base64, the whole one gzip
# stream (a package list is most of it), flushed whenever the next answer is not ready: the run answers its first
# facts while the host reads the others (BatchReader). The commands end at an empty line; the python3 that answered
# them then serves the run's requests on the same channel (pipe.SERVE): a run that asks more of the host after its
# batch opens no second channel and starts no second interpreter (two round trips and ~30 ms).
# With the host's python3 (Ubuntu's and Debian's images have it), one process runs them all, each command
# one fork of the shell: the shell version below forks and execs about eight times per command (base64,
# cat, subshells), which for a no-op deploy's ~160 facts was most of the batch's time on a 2-core droplet.
# Commands read side by side: enough to keep a droplet's cores busy while one waits, few enough that the first
# ones asked are answered first.
BATCH_WORKERS = 4
PYTHON_BATCH = pipe.PRELUDE + (
    "import sys, zlib\n"
    "jobs = []\n"
    "for line in sys.stdin:\n"
    "    if not line.strip():\n"
    "        break\n"
    "    jobs.append(line.split(\" \", 2))\n"
    "stream, out = zlib.compressobj(1, zlib.DEFLATED, 31), sys.stdout.buffer\n"
    "def write(record, more):\n"
    "    out.write(stream.compress(record))\n"
    "    if not more:\n"
    "        out.write(stream.flush(zlib.Z_SYNC_FLUSH))\n"
    "        out.flush()\n"
    f"answer_batch(jobs, by_shell, {BATCH_WORKERS}, write)\n"
    "out.write(stream.flush())\n"
    "out.flush()\n"
) + pipe.SERVE
SHELL_BATCH = (
    'd=$(mktemp -d) || exit 1; trap \'rm -rf "$d"\' EXIT; n=0; '
    'while read -r i _ c && [ -n "$i" ]; do '
    '( printf %s "$c" | base64 -d > "$d/$i.c"; '
    '"${SHELL:-sh}" -c "$(cat "$d/$i.c")" < /dev/null > "$d/$i.o" 2> "$d/$i.e"; echo $? > "$d/$i.r" ) & '
    'n=$((n + 1)); done; wait; '
    'i=0; while [ $i -lt $n ]; do '
    'printf "%s %s\\n" $i "$(cat "$d/$i.r")"; base64 -w0 < "$d/$i.o"; echo; base64 -w0 < "$d/$i.e"; echo; '
    'i=$((i + 1)); done | gzip -1'
)
assert "'" not in PYTHON_BATCH


def batch_command(natives: str = "") -> str:
    """BATCH, its python3 answering the fact commands of natives (natives.argument) itself."""
    return f"command -v python3 > /dev/null 2>&1 && exec python3 -c '{PYTHON_BATCH}' {natives}; {SHELL_BATCH}"


BATCH = batch_command()


_loading_fact = contextvars.ContextVar("batchssh_loading_fact", default=False)


def _marking_facts(load):
    """pyinfra's fact loader, with the context variable set while it runs (and its command with it)."""
    if getattr(load, "_batchssh", False):
        return load

    @functools.wraps(load)
    def loading_fact(*args, **kwargs):
        token = _loading_fact.set(True)
        try:
            return load(*args, **kwargs)
        finally:
            _loading_fact.reset(token)

    loading_fact._batchssh = True
    return loading_fact


pyinfra_facts._get_fact = _marking_facts(pyinfra_facts._get_fact)
speedups.install()
groups.install()


def _asked_by_fact_loader() -> bool:
    return _loading_fact.get()


def fact_hook_fires() -> bool:
    """Whether the function pyinfra calls to load a fact is still the wrapped one."""
    return getattr(pyinfra_facts._get_fact, "_batchssh", False)


def no_delay(sock) -> None:
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@contextmanager
def read_only(host):
    """Commands run inside change nothing on the host, so the facts of the batch stay true after them
    (e.g. a health check that only reads)."""
    connector = host.connector
    before = getattr(connector, "_read_only", False)
    connector._read_only = True
    try:
        yield
    finally:
        connector._read_only = before


def batch_input(commands: list[str], timings: dict[str, list[int]] | None = None) -> str:
    """What BATCH reads on stdin: the commands, each with when to start it (ms after the batch is sent) to be read by
    the time the run asks it, from last run's timings ([ms it took, ms after the batch was sent that it was asked]):
    the first facts asked, and the slowest (pyinfra's Users reads ~30 accounts, eight processes each), first."""
    timings = timings or {}

    def start_by(command: str) -> int:
        took, asked = (list(timings.get(command) or []) + [0, 0])[:2]
        return int(asked) - int(took)

    return "".join(f"{i} {start_by(c)} {base64.b64encode(c.encode()).decode()}\n" for i, c in enumerate(commands)) + "\n"


class BatchReader:
    """BATCH's output as it comes: each command's exit status, stdout and stderr once its answer is complete. Output
    that is not BATCH's (no python3 and no shell batch either, a login script that prints) answers nothing: those
    commands then go over SSH as they would without the batch."""

    def __init__(self, commands: list[str]):
        self.commands = commands
        self.answers: dict[str, tuple[int, bytes, bytes]] = {}
        self.costs: dict[str, int] = {}  # how many ms each took on the host
        self._inflate = zlib.decompressobj(31)
        self._lines: list[bytes] = []
        self._tail = b""
        self._broken = False

    @property
    def done(self) -> bool:
        """Whether the whole stream came (what follows it on the channel is the interpreter's: pipe.SERVE)."""
        return self._inflate.eof

    @property
    def broken(self) -> bool:
        """Whether what came is not BATCH's answer (a login script that prints): nothing more is read of it."""
        return self._broken

    @property
    def after(self) -> bytes:
        return self._inflate.unused_data

    def feed(self, chunk: bytes) -> list[str]:
        """The commands whose answers the chunk completed."""
        if self._broken:
            return []
        try:
            lines = (self._tail + self._inflate.decompress(chunk)).split(b"\n")
        except zlib.error:
            self._broken = True
            return []
        self._tail = lines.pop()
        self._lines += lines
        completed = []
        while len(self._lines) >= 3:
            (head, out, err), self._lines = self._lines[:3], self._lines[3:]
            try:
                index, status, *took = head.split()
                command = self.commands[int(index)]
                self.answers[command] = (int(status), base64.b64decode(out), base64.b64decode(err))
                self.costs[command] = int(took[0]) if took else 0
            except (ValueError, IndexError):
                self._broken = True
                return completed
            completed.append(command)
        return completed


def batch_answers(compressed: bytes, commands: list[str]) -> dict[str, tuple[int, bytes, bytes]]:
    """BATCH's whole output: each command's exit status, stdout and stderr (BatchReader)."""
    reader = BatchReader(commands)
    reader.feed(compressed)
    return reader.answers


def record_file(*identity: str) -> Path:
    """Where the commands a run asked are remembered, by what identifies the run."""
    return speedups.cache_dir("fact-rounds") / f"{hashlib.sha256(chr(0).join(identity).encode()).hexdigest()[:24]}.json"


def remembered(record: Path, empty=list):
    try:
        value = json.loads(record.read_text())
    except (OSError, ValueError):
        return empty()
    return value if isinstance(value, empty) else empty()


def remember(record: Path, commands: list[str] | dict[str, list[str]]) -> None:
    record.parent.mkdir(parents=True, exist_ok=True)
    # Runs side by side (and a run killed mid-write) never leave a record half written.
    partial = record.with_name(f"{record.name}.{os.getpid()}")
    partial.write_text(json.dumps(commands))
    partial.replace(record)


def count(counts: dict) -> None:
    """One JSON line per run and host into BASTION_SSH_COUNTS, when set."""
    counts_file = os.environ.get("BASTION_SSH_COUNTS")
    if counts_file:
        with open(counts_file, "a") as out:
            out.write(json.dumps(counts) + "\n")


class BatchedSSHConnector(Foresight, SSHConnector):
    """SSHConnector whose facts, until something may have changed, come from one batch sent at connect."""

    @staticmethod
    def make_names_data(name):
        yield name, {"ssh_hostname": name}, []

    def _record_file(self, kind: str = "") -> Path:
        """Which facts a run asked (and, kind ".timings", how long each took on the host and when it was asked): the
        run's files and --data values say which it asks; flags such as -y, -v or --dry do not."""
        words = [word for word in sys.argv[1:] if not word.startswith("-")]
        record = record_file("pyinfra", self.host.name, str(self.data["ssh_hostname"]), *words)
        return record.with_name(record.stem + kind + record.suffix)

    def _operations_record_file(self) -> Path:
        """Which facts each operation reads depends on the playbook, not on the host or the --data of a run: a new
        host (a rebuild, named by its address, with settings of its own) is converged with what the runs on the old
        one learnt (pyinfra's hash of an operation is the same on every host). (A
        fact an operation no longer reads costs a read; one it reads that the record lacks is read on its own.)"""
        files = [word for word in sys.argv[1:] if not word.startswith("-") and os.path.isfile(word)]
        return record_file("pyinfra-operations", *files)

    def connect(self) -> None:
        self._start()
        super().connect()
        transport = self.client.get_transport() if self.client else None
        if transport is not None:
            no_delay(transport.sock)
        self._natives = natives.argument(natives.templates(self.state, self.host))
        commands = remembered(self._record_file())
        if commands:
            self._ask_all(commands)

    def _start(self) -> None:
        """What the connector keeps for a run, before it connects."""
        self._answers: dict[str, tuple[int, bytes, bytes]] = {}  # the batch's
        self._batch = None  # the batch being answered: its reader, its commands, its channel and stderr
        self._batch_sent_at = time.monotonic()
        self._batch_costs: dict[str, int] = {}
        self._batch_stdin = None  # the batch channel's input, open while its interpreter serves the run
        self._asked_at: dict[str, int] = {}  # ms after the batch was sent that a fact was first asked
        self._natives = ""  # the fact commands the host's interpreters answer themselves (natives.py)
        self._asked: list[str] = []
        self._fresh = True  # nothing on the host changed since the batch was answered
        self._read_only = False
        self._pipe, self._pipe_out, self._pipe_failed, self._pipe_answered = None, None, False, False
        # Per operation (pyinfra's hash of it), the facts it read: the last runs' (asked together the next
        # time it runs after a change) and this run's (remembered for the next one).
        self._operation_facts: dict[str, list[str]] = remembered(self._operations_record_file(), dict)
        self._operation_facts_asked: dict[str, list[str]] = {}
        # Each fact command's last reading, whenever it was read: what the operations after a group are foreseen with.
        self._latest: dict[str, tuple[int, bytes, bytes]] = {}
        # Per operation about to run, its facts as read right before it (behind the group or chain before it).
        self._readings: dict[str, dict[str, tuple[int, bytes, bytes]]] = {}
        # The operation's commands and uploads read ahead (groups.py): [kind, command or path, pipe item, answer].
        self._planned: deque[list] = deque()
        self._grouping: str | None = None
        self._to_the_end = False  # the plan holds the operation's commands to its end
        # Operations foreseen (foresight.py: the facts they asked with the readings, their items, the facts compared
        # loosely, the facts read between commands) and run ahead by a chain (the items that ran and their answers,
        # and whether they are all of its items, taken when pyinfra executes it).
        self._foreseen: dict[str, tuple[list, list, frozenset, list]] = {}
        self._foreseeing: dict | None = None
        self._discovered: dict[str, list[str]] = {}
        self._ran_ahead: dict[str, tuple[list, list, bool]] = {}
        self._counts = {"host": self.host.name, "remote_commands": 0, "answered_from_batch": 0, "batch_bytes": 0,
                        "answered_from_operation_batch": 0, "facts_asked_alone": 0, "file_transfers": 0, "through_pipe": 0,
                        "groups": 0, "answered_from_group": 0, "ran_ahead": 0, "argv": sys.argv[1:]}

    def _ask_all(self, commands: list[str]) -> None:
        """Sends the batch; its answers are read as the run asks them (_from_batch): pyinfra prepares the operations
        and runs the first ones while the host reads the rest."""
        assert self.client is not None
        self._counts["remote_commands"] += 1
        stdin, stdout, stderr = self.client.exec_command(batch_command(self._natives))
        stdin.write(batch_input(commands, remembered(self._record_file(".timings"), dict)))
        stdin.flush()
        self._batch_sent_at = time.monotonic()
        # Kept open: paramiko ends the channel's input when its stdin file is collected, and the interpreter with it.
        self._batch_stdin = stdin
        reader = BatchReader(commands)
        self._answers = reader.answers  # filled as the answers come
        self._batch = (reader, set(commands), stdout.channel, stderr)

    def _read_batch(self, until: str | None = None) -> None:
        """The batch's answers as they come, up to the one of `until` or, without it, to the end: the host is done
        reading then, as it must be before anything else reaches it (the batch is its state at connect). Its
        interpreter, when it has one, is the run's from there on (_through_pipe)."""
        if self._batch is None:
            return
        reader, _, channel, stderr = self._batch
        while (until is None or until not in reader.answers) and not reader.done and not reader.broken:
            chunk = channel.recv(1 << 16)
            if not chunk:
                break
            self._counts["batch_bytes"] += len(chunk)
            for command in reader.feed(chunk):
                self._latest[command] = reader.answers[command]
        if until is not None and until in reader.answers:
            return
        self._batch = None
        self._batch_costs = reader.costs
        logger.debug("batchssh: %s facts answered in one round on %s", len(reader.answers), self.host.name)
        if reader.done and not reader.after and self._pipe is None and not channel.eof_received:
            self._pipe, self._pipe_out, self._pipe_answered = channel, channel.makefile("rb"), False
        else:
            channel.close()  # the shell's batch (no python3), or not a batch: the run opens its interpreter, or goes without

    def _settle(self) -> None:
        self._read_batch()

    def _from_batch(self, actual: str) -> tuple[int, CommandOutput] | None:
        """A fact's answer from the batch, read up to it; a fact the batch does not hold waits for its end."""
        self._asked_at.setdefault(actual, int((time.monotonic() - self._batch_sent_at) * 1000))
        if self._batch is not None:
            self._read_batch(actual if actual in self._batch[1] else None)
        raw = self._answers.get(actual)
        return None if raw is None else (raw[0], _output(raw))

    def run_shell_command(self, command, print_output: bool = False, print_input: bool = False, **arguments):
        plain = not any(arguments.get(key) for key in ("_get_pty", "_stdin", "_timeout"))
        if not (plain and _asked_by_fact_loader()):
            self._settle()
        rest = {k: v for k, v in arguments.items() if k not in ("_get_pty", "_stdin", "_timeout", "_success_exit_codes")}
        codes = arguments.get("_success_exit_codes")
        actual = make_unix_command_for_host(self.state, self.host, command, **rest).get_raw_value() if plain else None
        if self._foreseeing is not None:
            return self._foreseen_fact(actual if plain and _asked_by_fact_loader() else None, arguments)
        if not (plain and _asked_by_fact_loader()):
            answer = self._take_planned("run", actual)
            if answer is not None:
                self._counts["remote_commands"] += 1
                status, out, err = answer
                return status == 0, CommandOutput(_lines(out, "stdout") + _lines(err, "stderr"))
        if plain and _asked_by_fact_loader():
            # An operation that reads a fact after its first commands reads it after they ran: ahead, in its chain
            # link, or now.
            self._take_ran_ahead(self._grouping, whole=False)
            self._run_planned()
            self._operation_asked(actual)
            answered = None
            if self._fresh:
                if actual not in self._asked:
                    self._asked.append(actual)
                answered = self._from_batch(actual)
                self._counts["answered_from_batch"] += answered is not None
            answered = answered or self._from_operation_batch(actual)
            if answered is not None:
                status, output = answered
                return (status in codes if codes else status == 0), output
            self._counts["facts_asked_alone"] += 1
        elif not self._read_only:
            self._before_a_change_of_its_own()
        self._counts["remote_commands"] += 1
        logger.debug("batchssh: over SSH (fresh=%s): %.200s", self._fresh, command)
        # Through the run's interpreter when nothing asks for more than it does (a pty, stdin, a timeout, output
        # printed as it comes, sudo's password retries).
        if plain and not (print_output or print_input or self._sudo_asked(arguments)):
            answer = self._through_pipe(pipe.run_request(actual))
            if answer is not None:
                [raw] = answer
                if _asked_by_fact_loader():
                    self._latest[actual] = raw
                return (raw[0] in codes if codes else raw[0] == 0), _output(raw)
        self._settle()
        return super().run_shell_command(command, print_output=print_output, print_input=print_input, **arguments)

    def grouped(self, commands, arguments_of, operation: str | None = None):
        """An operation's commands as pyinfra asks for them, read ahead up to the first that cannot go in a group
        (groups.py): the ones read ahead are planned, and run as one group when pyinfra executes the first, or were
        run ahead by a chain already. (pyinfra forgets which operation runs once its generator is read to the end:
        `operation` says it.)"""
        iterator = iter(commands)
        self._grouping = operation
        first = True
        try:
            while True:
                ahead, stop, exhausted = [], None, True
                self._to_the_end = False
                for command in iterator:
                    if not self._plan(command, arguments_of(command)):
                        stop, exhausted = command, False
                        break
                    ahead.append(command)
                self._to_the_end = exhausted
                self._take_ran_ahead(operation, whole=first and exhausted)
                first = False
                yield from ahead
                if stop is not None:
                    yield stop
                if exhausted:
                    return
        finally:
            self._planned.clear()  # pyinfra stopped at a failure: what was planned after it never runs
            self._grouping = None
            self._to_the_end = False

    def _item(self, command, arguments) -> list | None:
        """The command as a group runs it ([kind, command or path, pipe item]), when the interpreter runs it as it
        would alone and success is exit status 0; None when it must run on its own."""
        if self._pipe_failed or self.state.print_output or self.state.print_input or self._sudo_asked(arguments):
            return None
        if isinstance(command, StringCommand):
            if any(arguments.get(key) for key in ("_get_pty", "_stdin", "_timeout")) or \
                    list(arguments.get("_success_exit_codes") or [0]) != [0]:
                return None
            rest = {k: v for k, v in arguments.items() if k not in ("_get_pty", "_stdin", "_timeout", "_success_exit_codes")}
            actual = make_unix_command_for_host(self.state, self.host, command, **rest).get_raw_value()
            return ["run", actual, pipe.run_item(actual)]
        if isinstance(command, FileUploadCommand):
            with get_file_io(command.src) as file_io:
                data = file_io.read()
            data = data if isinstance(data, bytes) else data.encode()
            return ["put", command.dest, pipe.put_item(command.dest, data)]
        return None

    def _plan(self, command, arguments) -> bool:
        """Whether the command can run in a group; planned if so."""
        item = self._item(command, arguments)
        if item is not None:
            self._planned.append([*item, None])
        return item is not None

    def _take_ran_ahead(self, operation: str | None, whole: bool) -> None:
        """The answers of an operation a chain ran ahead, for its plan (whole: all of it; else what it planned before
        reading a fact): the same commands and uploads, since its facts read the same as when it was foreseen. A
        plan that differs is an error: the host ran the other. A link that stopped at a fact read after its first
        commands ran those only: the operation's commands after them are planned and run as usual."""
        if operation not in self._ran_ahead:
            return
        items, answers, to_the_end = self._ran_ahead[operation]
        planned = list(self._planned)
        taken = min(len(planned), len(items))
        if [entry[:3] for entry in planned[:taken]] != items[:taken] or \
                whole and (len(planned) < len(items) or to_the_end and len(planned) != len(items)):
            raise OSError(f"batchssh: operation {operation} came with other commands than the ones run ahead")
        for entry, answer in zip(planned[:taken], answers, strict=False):
            entry[3] = answer
        if taken == len(items) and (whole or not to_the_end):
            del self._ran_ahead[operation]
            self._counts["ran_ahead"] += 1

    def _run_planned(self) -> None:
        """The planned commands and uploads not run yet, as one request; each answer kept for pyinfra's call. With
        no interpreter on the host, the plan is dropped and each goes the usual way when pyinfra calls it.

        When the plan goes to the operation's end, the operations after it that can be foreseen ride in the same request
        as a chain: each is read ahead with its facts as last read, and runs on the host only if its facts read
        the same there, after the ones before it ran (so its commands are the ones pyinfra will make of them).
        Behind the chain, the facts of the operation after it, as it read them in earlier runs."""
        waiting = [entry for entry in self._planned if entry[3] is None]
        if not waiting:
            return
        self._settle()  # the chain is foreseen from every reading of the batch
        if self._ran_ahead:
            raise OSError(f"batchssh: commands came before the operations run ahead ({', '.join(self._ran_ahead)})")
        links = self._foreseen_links() if self._to_the_end else []
        after = self._operation_after(len(links))
        tail = list(self._facts_of(after)) if after else []
        request = pipe.chain_request([([], [entry[2] for entry in waiting])] + [
            ([(command, None if raw is None else pipe.digest(*raw), pipe.digest(*raw, True) if loose else None)
              for command, raw, loose in expect],
             [entry[1][2] if entry[0] == "item" else pipe.fact_item(entry[1], pipe.digest(*entry[2])) for entry in group])
            for _, expect, _, group in links])
        request += pipe.batch_request(tail) if tail else b""
        # Every fact the operations after the chain read that was never read in this run, as the host has them now:
        # what they are foreseen with (they read the same until an operation before them changes them).
        unknown = self._never_read(after, tail)
        request += pipe.batch_request(unknown) if unknown else b""
        total = len(waiting) + sum(len(expect) + len(group) for _, expect, _, group in links) + len(tail) + len(unknown)
        answers = self._through_pipe(request, answers=total)
        if answers is None:
            self._planned.clear()
            return
        self._counts["groups"] += 1
        self._fresh = False
        answered = iter(answers)
        for entry in waiting:
            entry[3] = next(answered)
        running = all(entry[3][0] == 0 for entry in waiting)
        self._readings, self._ran_ahead = {}, {}
        for operation, expect, items, group in links:
            readings, same = {}, True
            for command, raw, loose in expect:
                got = next(answered)
                readings[command] = self._latest[command] = raw if got[0] == pipe.SAME else got
                same = same and (raw is None or got[0] == pipe.SAME or
                                 loose and pipe.digest(*got, True) == pipe.digest(*raw, True))
            ran, to_the_end = [], True  # the answers of its commands up to a fact read after some that read otherwise
            for entry in group:
                got = next(answered)
                if entry[0] == "item":
                    if to_the_end:
                        ran.append(got)
                elif got[0] != pipe.NOT_RUN:
                    readings[entry[1]] = self._latest[entry[1]] = entry[2] if got[0] == pipe.SAME else got
                    to_the_end = to_the_end and got[0] == pipe.SAME
            if running:
                self._readings[operation] = readings
                if same and ran:
                    self._ran_ahead[operation] = (items[:len(ran)], ran, to_the_end)
                running = same and to_the_end and all(status == 0 for status, _, _ in ran)
        tail_read = dict(zip(tail, [next(answered) for _ in tail], strict=True))
        self._latest.update(zip(unknown, answered, strict=True))
        self._latest.update(tail_read)
        if running and after:
            self._readings[after] = tail_read

    def _operation_after(self, skipped: int) -> str | None:
        order = self.host.op_hash_order
        current = self._grouping or self.host.current_op_hash
        if current not in order or order.index(current) + 1 + skipped >= len(order):
            return None
        return order[order.index(current) + 1 + skipped]

    def _before_a_change_of_its_own(self) -> None:
        """A command or upload that is not planned changes the host: no reading taken before it holds after it. If
        a chain ran operations ahead that pyinfra has not executed yet, the host is ahead of pyinfra: an error."""
        if self._ran_ahead:
            raise OSError(f"batchssh: a command came before the operations run ahead ({', '.join(self._ran_ahead)})")
        self._fresh = False
        self._readings = {}

    def _take_planned(self, kind: str, key) -> tuple[int, bytes, bytes] | None:
        """The answer to pyinfra's call of the next planned command or upload (the group run at the first); None
        when nothing is planned."""
        if not self._planned:
            return None
        entry = self._planned[0]
        if (entry[0], entry[1]) != (kind, key):
            if any(planned[3] is not None for planned in self._planned):
                raise OSError(f"batchssh: {kind} {key!r} came where {entry[0]} {entry[1]!r} was planned and has run")
            self._planned.clear()
            return None
        if entry[3] is None:
            self._run_planned()
            if not self._planned:
                return None
        self._planned.popleft()
        self._counts["answered_from_group"] += 1
        status, out, err = entry[3]
        if status == pipe.NOT_RUN:
            return 1, b"", b"not run: an earlier command of the operation failed"
        return status, out, err

    def _operation_asked(self, actual: str) -> None:
        operation = self.host.current_op_hash
        if operation is not None:
            asked = self._operation_facts_asked.setdefault(operation, [])
            if actual not in asked:
                asked.append(actual)

    def _from_operation_batch(self, actual: str) -> tuple[int, CommandOutput] | None:
        """After a change, an operation reads its facts one by one as it runs: the ones read behind the group or
        chain before it answer, or else the ones it read in the last runs (or while pyinfra prepared this one) are
        asked together at its first fact, and answer until it changes something itself."""
        operation = self.host.current_op_hash
        if operation is None or self.state.current_stage < StateStage.Execute:
            return None
        if operation not in self._readings:
            self._readings = {operation: {}}
            wanted = list(dict.fromkeys([actual, *self._facts_of(operation, discover=False)]))
            if len(wanted) > 1 and not self._ran_ahead:
                read = self._through_pipe(pipe.batch_request(wanted), answers=len(wanted))
                if read is not None:
                    self._counts["remote_commands"] += 1
                    self._readings[operation] = dict(zip(wanted, read, strict=True))
                    self._latest.update(self._readings[operation])
        answered = self._readings[operation].get(actual)
        if answered is None and self._ran_ahead:
            # Read now, it would be the state after the operations run ahead: never answer with that.
            raise RuntimeError(f"batchssh: {actual!r} was not read before the operations run ahead")
        self._counts["answered_from_operation_batch"] += answered is not None
        return None if answered is None else (answered[0], _output(answered))

    @staticmethod
    def _sudo_asked(arguments) -> bool:
        return any(arguments.get(key) for key in ("_sudo", "_doas", "_dzdo", "_su_user", "_use_sudo_password"))

    def _through_pipe(self, request: bytes, answers: int = 1) -> list[tuple[int, bytes, bytes]] | None:
        """The request's answers from the run's interpreter (opened at the first request); None when the host has
        none to give (no python3): the caller goes the usual way, as every later request does. An interpreter
        that answered before and is gone now is an error: its request may have run."""
        self._settle()
        if self._pipe is None and not self._pipe_failed:
            assert self.client is not None
            channel = self.client.get_transport().open_session()
            channel.exec_command(pipe.command(self._natives))
            self._pipe, self._pipe_out, self._pipe_answered = channel, channel.makefile("rb"), False
        if self._pipe is None:
            return None
        self._pipe.sendall(request)
        read = [pipe.read_answer(self._pipe_out.readline()) for _ in range(answers)]
        if None in read:
            self._pipe.close()
            self._pipe, self._pipe_failed = None, True
            if self._pipe_answered:
                raise OSError(f"batchssh: the run's interpreter on {self.host.name} is gone (its request may have run)")
            logger.debug("batchssh: no interpreter on %s: each command over a channel of its own", self.host.name)
            return None
        self._pipe_answered = True
        self._counts["through_pipe"] += 1
        return read

    def _put_file(self, filename_or_io, remote_location):
        self._settle()
        planned = self._take_planned("put", remote_location)
        if planned is not None:
            answer = [planned]
        else:
            self._before_a_change_of_its_own()  # an upload of its own: the facts asked before it may be stale now
            with get_file_io(filename_or_io) as file_io:
                data = file_io.read()
            answer = self._through_pipe(pipe.put_request(remote_location, data if isinstance(data, bytes) else data.encode()))
        if answer is None:
            return super()._put_file(filename_or_io, remote_location)
        [(status, _, err)] = answer
        if status:
            raise OSError(f"upload of {remote_location}: {err.decode(errors='replace').strip()}")

    def put_file(self, *args, **kwargs):
        self._fresh = False
        self._counts["file_transfers"] += 1
        return super().put_file(*args, **kwargs)

    def get_file(self, *args, **kwargs):
        self._settle()
        self._counts["file_transfers"] += 1
        return super().get_file(*args, **kwargs)

    def disconnect(self) -> None:
        self._settle()
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        super().disconnect()
        if self._asked:
            remember(self._record_file(), self._asked)
        if self._batch_costs:
            remember(self._record_file(".timings"), {command: [took, self._asked_at.get(command, took)]
                                                     for command, took in self._batch_costs.items()})
        if self._operation_facts_asked:
            remember(self._operations_record_file(), {**self._operation_facts, **self._operation_facts_asked})
        count(self._counts)

