"""The chain's foresight (batchssh: _foresee, _take_ran_ahead), offline: an operation's commands made ahead from its
facts' last readings, as pyinfra will make them when it executes it."""
import logging
from io import StringIO

import pytest
from pyinfra.api import Config, Inventory, State, StringCommand
from pyinfra.api.operation import add_op, operation
from pyinfra.context import ctx_host, ctx_state, host
from pyinfra.facts.files import File
from pyinfra.operations import files

import batchssh

ABSENT = (0, b"", b"")
PRESENT = (0, b"user=root group=root mode=-rw-r--r-- atime=1 mtime=1 ctime=1 size=1 '/srv/a'", b"")


@operation()
def shaped(path: str):
    if host.get_fact(File, path=path) is None:
        host.noop(f"{path} is absent")
        yield StringCommand("touch", path)
    yield StringCommand("chmod", "600", path)


@operation()
def renewed_when_old(path: str):
    """Uses the file's mtime, not only whether it is there."""
    if host.get_fact(File, path=path)["mtime"].year < 2020:
        yield StringCommand("touch", path)


@operation()
def reads_after_its_command(path: str):
    """As systemd.service: a unit started, then whether it is enabled."""
    yield StringCommand("touch", path)
    if host.get_fact(File, path=f"{path}.enabled") is None:
        yield StringCommand("touch", f"{path}.enabled")


@operation()
def reads_before_and_after(path: str):
    host.get_fact(File, path=path)
    yield StringCommand("touch", path)
    host.get_fact(File, path=path)


class Readings(dict):
    """The facts' last readings, by what a fact's command names."""

    def __init__(self, by_path: dict):
        super().__init__()
        self.by_path, self.asked = by_path, []

    def get(self, command, default=None):
        self.asked.append(command)
        return next((reading for path, reading in self.by_path.items() if path in command), default)


@pytest.fixture
def box():
    inventory = Inventory((["@batchssh/box"], {}))
    state = State(inventory, Config())
    state.check_for_changes = False
    box = inventory.get_host("box")
    box.connected = True
    box.connector._start()
    return box


def op(box, function, **arguments):
    return add_op(box.state, function, host=box, **arguments)[box]


def foresee(box, operation, readings, done=()):
    """As pyinfra runs it, executing the operation before: with the host and state in context."""
    box.connector._latest = readings
    box.state.is_executing = True
    try:
        with ctx_state.use(box.state), ctx_host.use(box):
            return box.connector._foresee(operation._hash, list(done))
    finally:
        box.state.is_executing = False


def test_an_operation_is_foreseen_from_its_facts_last_readings(box):
    a = op(box, shaped, path="/srv/a")
    absent = foresee(box, a, Readings({"/srv/a": ABSENT}))
    assert [kind for kind, _, _ in absent[1]] == ["run", "run"] and "touch /srv/a" in absent[1][0][1]
    assert absent[0] == [(absent[0][0][0], ABSENT)], "the fact it read, with the reading it was foreseen with"
    present = foresee(box, a, Readings({"/srv/a": PRESENT}))
    assert len(present[1]) == 1 and "chmod 600 /srv/a" in present[1][0][1]


def test_an_upload_is_foreseen_with_its_content(box):
    c = op(box, files.put, src=StringIO("content\n"), dest="/srv/c", create_remote_dir=False)
    foreseen = foresee(box, c, Readings({"/srv/c": ABSENT, "TMPDIR": (0, b"/tmp\n", b"")}))
    puts = [item for kind, _, item in foreseen[1] if kind == "put"]
    assert puts and batchssh.base64.b64decode(puts[0]["data"]) == b"content\n"


def test_what_cannot_be_foreseen_is_not(box):
    a = op(box, shaped, path="/srv/a")
    assert foresee(box, a, Readings({})) is None, "a fact never read"
    d = op(box, reads_before_and_after, path="/srv/d")
    assert foresee(box, d, Readings({"/srv/d": ABSENT})) is None, "read before and after a command: which reading?"


def test_a_fact_read_after_the_first_commands_is_foreseen_where_it_is_read(box):
    d = op(box, reads_after_its_command, path="/srv/d")
    facts, items, _, mid = foresee(box, d, Readings({"/srv/d": ABSENT}))
    assert facts == [] and len(items) == 2
    assert [(position, "/srv/d.enabled" in command, raw) for position, command, raw in mid] == [(1, True, ABSENT)], \
        "read by the host after the first command, as pyinfra reads it"


def test_a_condition_sees_the_operations_ahead_done_and_changed_if_they_have_commands(box):
    a = op(box, shaped, path="/srv/a")
    e = op(box, shaped, path="/srv/e", _if=a.did_change)
    readings = Readings({"/srv/e": ABSENT})
    assert foresee(box, e, readings) is None, "a condition on an operation not run yet, nor ahead"
    assert len(foresee(box, e, readings, done=[(a._hash, [["run", "touch /srv/a", {}]])])[1]) == 2
    assert foresee(box, e, readings, done=[(a._hash, [])])[1] == [], "a reload after no change: nothing"
    assert not a.is_complete(), "pyinfra completes it when it runs"


def test_foresight_leaves_pyinfra_as_it_was_and_its_log_quiet(box, caplog):
    a = op(box, shaped, path="/srv/a")
    box.current_op_hash, box.in_op = "running", True
    with caplog.at_level(logging.DEBUG, logger="pyinfra"):
        assert foresee(box, a, Readings({"/srv/a": ABSENT})) is not None
    assert (box.current_op_hash, box.in_op) == ("running", True)
    assert "absent" not in caplog.text, "pyinfra logs an operation's notes when it runs it, once"


def test_an_operation_run_ahead_gets_the_answers_of_the_commands_it_makes_and_no_other(box):
    connector = box.connector
    items = [["run", "touch /srv/a", {"run": "touch /srv/a"}], ["run", "touch /srv/b", {"run": "touch /srv/b"}]]
    connector._ran_ahead = {"op": (items, [(0, b"done", b""), (0, b"", b"")], True)}
    connector._planned.append([*items[0], None])
    connector._take_ran_ahead("op", whole=False)  # at a fact it reads after its first command
    assert connector._planned[0][3] == (0, b"done", b"") and "op" in connector._ran_ahead
    connector._planned.append([*items[1], None])
    connector._take_ran_ahead("op", whole=True)
    assert connector._planned[1][3] == (0, b"", b"") and connector._ran_ahead == {}

    connector._planned.clear()
    connector._ran_ahead = {"op": (items[:1], [(0, b"", b"")], False)}  # its link stopped at that fact
    connector._planned.extend([[*items[0], None], ["run", "touch /srv/c", {"run": "touch /srv/c"}, None]])
    connector._take_ran_ahead("op", whole=True)
    assert connector._planned[0][3] == (0, b"", b"") and connector._planned[1][3] is None, "the rest runs as usual"
    assert connector._ran_ahead == {}

    connector._planned.clear()
    connector._ran_ahead = {"op": (items[:1], [(0, b"", b"")], True)}
    connector._planned.append(["run", "touch /srv/other", {"run": "touch /srv/other"}, None])
    with pytest.raises(OSError, match="other commands than the ones run ahead"):
        connector._take_ran_ahead("op", whole=True)


def test_the_facts_of_an_operation_no_run_recorded_are_found_by_running_it_ahead(box):
    """A playbook never run from this machine (production.py at a rebuild): each operation's facts are found by its
    command generator run with every fact never read answered by its default, and read behind the first group."""
    a = op(box, shaped, path="/srv/a")
    e = op(box, shaped, path="/srv/e", _if=a.did_change)
    box.connector._latest, box.state.is_executing = {}, True
    try:
        with ctx_state.use(box.state), ctx_host.use(box):
            found = box.connector._facts_of(e._hash)
            assert len(found) == 1 and "/srv/e" in found[0], "its condition not asked: a is not done"
            assert box.connector._never_read(a._hash, tail=[]) == [*box.connector._facts_of(a._hash), *found]
            box.connector._operation_facts[a._hash] = ["recorded"]
            assert box.connector._never_read(a._hash, tail=[]) == ["recorded", *found], "the record, where there is one"
    finally:
        box.state.is_executing = False
    assert not a.is_complete()


def test_a_fact_that_fails_to_load_ahead_leaves_the_host_as_it_was(box):
    """pyinfra fails a host whose fact fails to load; read ahead, that is only a reason not to foresee."""
    a = op(box, shaped, path="/srv/a")
    active = set(box.state.active_hosts)
    assert foresee(box, a, Readings({"/srv/a": (1, b"", b"stat: permission denied\n")})) is None
    assert box.state.failed_hosts == set() and box.state.active_hosts == active


def test_a_stat_line_is_foreseen_loosely_only_for_an_operation_whose_commands_ignore_its_times(box):
    """A parent directory reads otherwise after a file was written into it (its mtime and size): an operation that only
    asks whether a file is there is foreseen with its times left out, one that uses them is not."""
    readings = Readings({"/srv/a": PRESENT})
    assert foresee(box, op(box, shaped, path="/srv/a"), readings)[2] == {readings.asked[0]}
    assert foresee(box, op(box, renewed_when_old, path="/srv/a"), readings)[2] == frozenset()
