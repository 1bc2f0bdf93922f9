"""The facts the host's interpreters answer themselves (batchssh/hostfacts.py, natives.py), held byte for byte to
what the shell answers, here on this machine's coreutils (tests/test_round_trips.py holds them on the sandbox's);
the batch streamed as its answers are read (BatchReader) and the interpreter it leaves serving the run."""
import os
import re
import socket
import subprocess
import zlib
from types import SimpleNamespace

import pytest
from pyinfra.api import Config, Inventory, State

import batchssh
from batchssh import hostfacts, natives, pipe
from tasks.service_user import account_as_wanted


@pytest.fixture(scope="module")
def templates():
    inventory = Inventory((["h"], {}))
    state = State(inventory, Config())
    return natives.templates(state, inventory.get_host("h"))


def by_shell(command: str):
    done = subprocess.run([os.environ.get("SHELL") or "sh", "-c", command], stdin=subprocess.DEVNULL,
                          capture_output=True)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def paths(tmp_path):
    """A path of every kind the facts meet, and some they leave to the shell."""
    (tmp_path / "file").write_bytes(b"content\n" * 1000)
    (tmp_path / "setuid").write_text("x")
    os.chmod(tmp_path / "setuid", 0o4755)
    (tmp_path / "sticky").mkdir()
    os.chmod(tmp_path / "sticky", 0o1777)
    (tmp_path / "link").symlink_to("file")
    (tmp_path / "absolute-link").symlink_to(tmp_path / "file")
    (tmp_path / "dangling").symlink_to("nowhere")
    (tmp_path / "link-to-dir").symlink_to("sticky")
    os.mkfifo(tmp_path / "fifo")
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(tmp_path / "socket"))
    (tmp_path / "with space").write_text("x")
    (tmp_path / "odd-link").symlink_to("with space")
    # An atime later than the mtime is not moved by reading (relatime): the shell's reading after this one's (of a
    # file's content, of a link's target) shows the same times.
    for name in ("file", "setuid", "with space", "link", "absolute-link", "dangling", "link-to-dir", "odd-link"):
        os.utime(tmp_path / name, (2000000000, 1000000000), follow_symlinks=False)
    names = ["file", "setuid", "sticky", "link", "absolute-link", "dangling", "link-to-dir", "fifo", "socket",
             "with space", "odd-link", "missing", "file/under-a-file", "sticky/", "link-to-dir/"]
    yield [str(tmp_path / name) + ("/" if name.endswith("/") else "") for name in names] + ["/", "/etc/passwd"]
    unix.close()


def test_every_kind_is_pyinfras_own_command_as_hostfacts_knows_it(templates):
    """A pyinfra that asks otherwise leaves the kind to the shell: this says so before a run is slower for it."""
    assert sorted(templates) == sorted([*natives.FACTS, *[f"show:{prop}" for prop in natives.SHOWN]])
    for kind, parts in templates.items():
        assert parts[0].startswith("sh -c '") and (len(parts) == 2 if kind.startswith("show:") else len(parts) >= 4)


@pytest.mark.parametrize("kind", sorted(natives.FACTS))
def test_the_native_answer_is_the_shells_byte_for_byte(templates, paths, kind):
    hostfacts.TEMPLATES.clear()
    hostfacts.TEMPLATES.update(templates)
    hostfacts.TRUSTED.clear()
    answered = 0
    for path in paths:
        command = path.join(templates[kind])
        native = hostfacts.answered_natively(command, by_shell)
        if native is not None:
            answered += 1
            assert native == by_shell(command), path
    assert answered >= 8, "most paths are answered natively"
    assert hostfacts.TRUSTED[kind], "the probe agreed"


def test_what_it_does_not_know_is_left_to_the_shell(templates, paths):
    hostfacts.TEMPLATES.clear()
    hostfacts.TEMPLATES.update(templates)
    stat_of = dict(zip(paths, [path.join(templates["stat"]) for path in paths], strict=True))
    left = [path for path, command in stat_of.items() if hostfacts.answered_natively(command, by_shell) is None]
    assert [os.path.basename(path) for path in left] == ["with space", "odd-link"]
    fifo = [path for path in paths if path.endswith("fifo")][0]
    assert hostfacts.hash_line("sha1", fifo) is None, "a fifo is never opened for reading (it would block)"


@pytest.mark.parametrize("command", [
    "sh -c 'test -e /etc/passwd && ( sha1sum /etc/passwd 2> /dev/null || shasum /etc/passwd 2> /dev/null || sha1 "
    "/etc/passwd 2> /dev/null ) || true' ",
    "sudo -H -n sh -c 'test -e /etc/passwd && ( sha1sum /etc/passwd 2> /dev/null || shasum /etc/passwd 2> "
    "/dev/null || sha1 /etc/passwd 2> /dev/null ) || true'",
    "sh -c 'test -e etc/passwd && ( sha1sum etc/passwd 2> /dev/null || shasum etc/passwd 2> /dev/null || sha1 "
    "etc/passwd 2> /dev/null ) || true'",
    "sh -c 'test -e /etc/passwd && ( sha1sum /etc/group 2> /dev/null || shasum /etc/passwd 2> /dev/null || sha1 "
    "/etc/passwd 2> /dev/null ) || true'",
    "sh -c 'echo /etc/passwd'",
])
def test_only_the_exact_command_around_a_plain_absolute_path_is_matched(templates, command):
    assert hostfacts.matched("/etc/passwd".join(templates["sha1"]), templates) == ("sha1", "/etc/passwd")
    assert hostfacts.matched(command, templates) is None


def test_a_kind_whose_probe_the_shell_answers_otherwise_is_left_to_it(templates):
    hostfacts.TEMPLATES.clear()
    hostfacts.TEMPLATES.update(templates)
    hostfacts.TRUSTED.clear()
    command = "/etc/passwd".join(templates["stat"])
    assert hostfacts.answered_natively(command, lambda _: (0, b"user=root BSD-like\n", b"")) is None
    assert hostfacts.TRUSTED == {"stat": False}
    hostfacts.TRUSTED.clear()


def test_the_batch_streams_its_answers_in_order_and_then_serves_the_run(templates, paths):
    """One interpreter on the host: its answers read as they come (here byte by byte), then a request on the same
    channel, the natives answered as the shell would."""
    commands = ["echo one", *[path.join(templates["stat"]) for path in paths[:4]], "echo two >&2; exit 3"]
    child = subprocess.Popen(["sh", "-c", batchssh.batch_command(natives.argument(templates))],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        child.stdin.write(batchssh.batch_input(commands, {"echo two >&2; exit 3": [50, 0]}).encode())
        child.stdin.flush()
        reader = batchssh.BatchReader(commands)
        completed = []
        while not reader.done:
            completed += reader.feed(child.stdout.read(1))
        assert completed == commands, "in the order asked, whatever order they ran in"
        assert reader.answers["echo two >&2; exit 3"] == (3, b"", b"two\n") and reader.after == b""
        for command in commands[1:-1]:
            assert reader.answers[command] == by_shell(command)
        child.stdin.write(pipe.run_request("echo served"))
        child.stdin.flush()
        assert pipe.read_answer(child.stdout.readline()) == (0, b"served\n", b"")
    finally:
        child.stdin.close()
        assert child.wait(10) == 0


def test_an_answer_cut_short_keeps_what_came_whole():
    stream = zlib.compressobj(1, zlib.DEFLATED, 31)
    whole = stream.compress(b"0 0 5\nb25l\n\n1 0 1\nd") + stream.flush(zlib.Z_SYNC_FLUSH)
    reader = batchssh.BatchReader(["first", "second"])
    assert reader.feed(whole) == ["first"] and not reader.done
    assert reader.answers == {"first": (0, b"one", b"")} and reader.costs == {"first": 5}
    assert batchssh.BatchReader(["x"]).feed(b"a login script that prints") == []


def test_the_batch_starts_first_what_is_asked_first_or_takes_longest():
    lines = batchssh.batch_input(["prepare", "slow", "late", "new"], {
        "prepare": [60, 30], "slow": [360, 250], "late": [5, 600]}).splitlines()
    assert [line.split()[:2] for line in lines[:4]] == [["0", "-30"], ["1", "-110"], ["2", "595"], ["3", "0"]]
    assert lines[4] == "", "an empty line ends the commands"


@pytest.mark.parametrize("change, wanted", [
    ({}, True),
    ({"passwd": "hacs-dev:x:999:997:HACS V2 dev server (bastion):/var/lib/hacs-dev:/bin/bash"}, False),
    ({"passwd": "hacs-dev:x:999:997:Someone else:/var/lib/hacs-dev:/usr/sbin/nologin"}, False),
    ({"passwd": "hacs-dev:x:999:997:HACS V2 dev server (bastion):/home/hacs-dev:/usr/sbin/nologin"}, False),
    ({"group": "users"}, False),
    ({"home": "directory root:root"}, False),
    ({"home": "symbolic link hacs-dev:hacs-dev"}, False),
    ({"passwd": "", "group": "", "home": ""}, False),
])
def test_server_user_runs_unless_the_account_reads_as_wanted(change, wanted):
    account = {"passwd": "hacs-dev:x:999:997:HACS V2 dev server (bastion):/var/lib/hacs-dev:/usr/sbin/nologin",
               "group": "hacs-dev", "home": "directory hacs-dev:hacs-dev", **change}
    assert account_as_wanted(account, "hacs-dev", "hacs-dev", "/var/lib/hacs-dev", "/usr/sbin/nologin",
                             "HACS V2 dev server (bastion)") is wanted


def fake_systemctl(calls):
    """A shell that knows `systemctl show` as systemd answers it: a block per unit, an empty line between."""
    def by_shell(command):
        calls.append(command)
        if command.startswith("systemctl show"):
            words = command.split()
            prop, units = words[6], words[7:]
            if "bad@" in units:
                return 1, b"", b"Invalid unit name\n"
            return 0, b"\n".join(f"Id={unit}\n{prop}=running\n".encode() for unit in units), b""
        if "--property" in command:  # one unit's fact, as pyinfra runs it
            prop, unit = re.search(r"--property (\S+) (\S+) \);", command).groups()
            return 0, f"Id={unit}\n{prop}=running\n".encode(), b""
        return 0, b"first\n", b""
    return by_shell


@pytest.mark.parametrize("units, together", [(["b.timer", "a.service", "b.timer"], True), (["a.service", "bad@"], False)])
def test_the_units_of_a_batch_are_shown_by_one_systemctl_each_as_its_own(templates, units, together):
    """pyinfra's systemd facts for one unit each: one systemctl for all (a unit's lines, an empty line between),
    each answered as alone; a systemctl that answers otherwise leaves each to the shell."""
    hostfacts.TEMPLATES.clear()
    hostfacts.TEMPLATES.update(templates)
    commands = ["echo first", *[unit.join(templates["show:SubState"]) for unit in units],
                units[0].join(templates["show:UnitFileState"])]
    jobs = [line.split(" ", 2) for line in batchssh.batch_input(commands).splitlines() if line]
    calls, stream = [], zlib.compressobj(1, zlib.DEFLATED, 31)
    written = []
    hostfacts.answer_batch(jobs, fake_systemctl(calls), 2, lambda record, more: written.append(stream.compress(record)))
    reader = batchssh.BatchReader(commands)
    assert reader.feed(b"".join(written) + stream.flush()) == commands
    for command in commands:
        assert reader.answers[command] == fake_systemctl([])(command), command
    shown = [call for call in calls if call.startswith("systemctl show")]
    assert shown == [f"systemctl show --all --property Id --property SubState {' '.join(sorted(set(units)))}"]
    alone = [call for call in calls if call in commands]
    assert len(alone) == (2 if together else 4), "one systemctl for the group (UnitFileState's is alone); else each"


class Channel:
    def __init__(self, *chunks):
        self.chunks, self.eof_received, self.closed = list(chunks), False, False

    def recv(self, _):
        assert self.chunks, "read again: the interpreter, alive, waits for a request (this would block forever)"
        return self.chunks.pop(0)

    def close(self):
        self.closed = True

    def makefile(self, _):
        return self


def reading(channel, commands):
    reader = batchssh.BatchReader(commands)
    connector = SimpleNamespace(_batch=(reader, set(commands), channel, None), _counts={"batch_bytes": 0}, _latest={},
                                _batch_costs={}, host=SimpleNamespace(name="h"), _pipe=None)
    return connector


def test_output_that_is_not_the_batch_is_not_waited_for():
    """A login script that prints: its line is no answer, and the interpreter behind it waits for requests, not EOF."""
    channel = Channel(b"Welcome to the droplet\n")
    connector = reading(channel, ["true"])
    batchssh.BatchedSSHConnector._read_batch(connector)
    assert connector._batch is None and channel.closed and connector._pipe is None and connector._latest == {}


def test_the_interpreter_after_the_batch_serves_the_run():
    stream = zlib.compressobj(1, zlib.DEFLATED, 31)
    channel = Channel(stream.compress(b"0 0 1\ndHJ1ZQ==\n\n") + stream.flush())
    connector = reading(channel, ["echo true"])
    batchssh.BatchedSSHConnector._read_batch(connector)
    assert connector._latest == {"echo true": (0, b"true", b"")} and connector._batch_costs == {"echo true": 1}
    assert connector._pipe is channel and not channel.closed


def test_a_unit_the_shell_cannot_answer_ends_the_batch_instead_of_hanging_it(templates):
    import threading
    hostfacts.TEMPLATES.clear()
    hostfacts.TEMPLATES.update(templates)
    commands = [unit.join(templates["show:SubState"]) for unit in ("a.service", "bad@")]
    jobs = [line.split(" ", 2) for line in batchssh.batch_input(commands).splitlines() if line]

    def by_shell(command):
        if command.startswith("systemctl"):
            return 1, b"", b"Invalid unit name\n"
        raise OSError("no more processes")

    ended = []

    def batch():
        try:
            hostfacts.answer_batch(jobs, by_shell, 2, lambda record, more: None)
        except OSError as error:
            ended.append(error)

    thread = threading.Thread(target=batch, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and ended, "the error ends the batch (the run then reads each fact on its own)"
