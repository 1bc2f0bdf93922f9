"""batchssh's batch: what it sends, what it reads back, and the hook that tells a fact from a change."""
import subprocess
from types import SimpleNamespace

import pytest
from pyinfra.api import facts as pyinfra_facts

import batchssh
from batchssh import groups, pipe, speedups
from batchssh.speedups import pyinfra_arguments, pyinfra_files, pyinfra_operation, pyinfra_util


def test_the_batch_runs_every_command_and_reads_back_each_status_and_output():
    commands = ["echo one", "echo two >&2; exit 3", "printf 'no newline'", "true", "cat /nonexistent/x"]
    done = subprocess.run(["sh", "-c", batchssh.BATCH], input=batchssh.batch_input(commands).encode(),
                          capture_output=True, timeout=30)
    answers = batchssh.batch_answers(done.stdout, commands)
    assert answers["echo one"] == (0, b"one\n", b"")
    assert answers["echo two >&2; exit 3"] == (3, b"", b"two\n")
    assert answers["printf 'no newline'"] == (0, b"no newline", b"")
    assert answers["true"] == (0, b"", b"")
    assert answers["cat /nonexistent/x"][0] != 0


def test_an_unreadable_answer_is_no_answer():
    assert batchssh.batch_answers(b"not gzip", ["true"]) == {}


def test_output_lines_as_pyinfra_reads_a_channel():
    lines = batchssh._lines(b"a\nb\n", "stdout")
    assert [(line.buffer_name, line.line) for line in lines] == [("stdout", "a"), ("stdout", "b")]


def test_the_fact_hook_is_what_pyinfra_calls():
    """If pyinfra stops calling the wrapped loader, every fact would go over SSH one by one: fail loudly."""
    assert batchssh.fact_hook_fires()
    assert pyinfra_facts.get_fact.__globals__["_get_fact"] is pyinfra_facts._get_fact
    assert not batchssh._asked_by_fact_loader()
    assert batchssh._marking_facts(batchssh._asked_by_fact_loader)() is True
    assert not batchssh._asked_by_fact_loader()


def test_the_hook_is_set_once_however_often_it_is_applied():
    assert batchssh._marking_facts(pyinfra_facts._get_fact) is pyinfra_facts._get_fact


def test_the_record_of_a_run_depends_on_what_identifies_it():
    assert batchssh.record_file("pyinfra", "h", "deploy.py") != batchssh.record_file("pyinfra", "h", "status.py")


@pytest.mark.parametrize("family", ["AF_INET", "AF_UNIX"])
def test_no_delay_on_tcp_sockets_only(family):
    import socket
    sock = socket.socket(getattr(socket, family), socket.SOCK_STREAM)
    try:
        batchssh.no_delay(sock)
        if family == "AF_INET":
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        sock.close()


def pyinfras_and_ours(state):
    return pyinfra_util.get_operation_order_from_stack(state), speedups.operation_order_from_frames(state)


@pytest.mark.parametrize("deploy_file", [__file__, None, "/not/on/the/stack.py"])
def test_the_operation_order_from_frames_is_pyinfras(deploy_file):
    state = SimpleNamespace(current_deploy_filename=deploy_file, current_op_file_number=7)
    def nested():
        return pyinfras_and_ours(
            state)
    theirs, ours = nested()
    assert ours == theirs
    assert (len(ours) > 2) == (deploy_file != "/not/on/the/stack.py")
    assert pyinfra_operation.__name__ == "pyinfra.api.operation"
    assert pyinfra_operation.get_operation_order_from_stack is speedups.operation_order_from_frames, "in place"


def test_the_python_batch_and_the_shell_batch_answer_alike():
    commands = ["echo one", "echo two >&2; exit 3", "kill -9 $$", "printf 'no newline'", "cat /nonexistent/x"]
    answers = []
    for batch in (batchssh.BATCH, batchssh.SHELL_BATCH):
        done = subprocess.run(["sh", "-c", batch], input=batchssh.batch_input(commands).encode(), capture_output=True,
                              timeout=30)
        answers.append({command: status for command, (status, _, _) in batchssh.batch_answers(done.stdout, commands).items()})
    assert answers[0] == answers[1] == {"echo one": 0, "echo two >&2; exit 3": 3, "kill -9 $$": 137,
                                        "printf 'no newline'": 0, "cat /nonexistent/x": 1}


def test_the_global_arguments_once_are_pyinfras():
    assert speedups.global_arguments_once() == speedups.pyinfras_global_arguments()
    assert speedups.global_arguments_once() is not speedups.global_arguments_once(), "a list of its own each time"
    assert pyinfra_arguments.all_global_arguments is pyinfra_facts.all_global_arguments is speedups.global_arguments_once


def test_a_template_compiled_once_renders_as_pyinfras_and_is_not_compiled_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "partials").mkdir()
    (tmp_path / "partials" / "line.j2").write_text("{{ word }} from the partial\n")
    (tmp_path / "site.j2").write_text("{% for n in numbers %}{{ n }} {% endfor %}\n{% include 'partials/line.j2' %}\n")
    compiled = []
    real_compile = speedups.Environment.compile
    monkeypatch.setattr(speedups.Environment, "compile", lambda *a, **k: compiled.append(1) or real_compile(*a, **k))

    def both(name, **data):
        pyinfra_util.TEMPLATES.clear()
        ours = speedups.template_compiled_once(str(tmp_path / name), {"loader": speedups.FileSystemLoader(str(tmp_path))})
        pyinfra_util.TEMPLATES.clear()
        theirs = speedups.pyinfras_get_template(str(tmp_path / name), {"loader": speedups.FileSystemLoader(str(tmp_path))})
        return ours.render(**data), theirs.render(**data)

    ours, theirs = both("site.j2", numbers=[1, 2], word="hello")
    assert ours == theirs == "1 2 \nhello from the partial\n\n"
    compiled.clear()
    assert both("site.j2", numbers=[3], word="again")[0] == "3 \nagain from the partial\n\n"
    assert len(compiled) == 2, "this run's copy from the cache; pyinfra's own compiled the template and its include"
    with pytest.raises(Exception, match="'word' is undefined"):  # StrictUndefined, as pyinfra's
        both("site.j2", numbers=[])
    (tmp_path / "site.j2").write_text("changed {{ word }}\n")
    assert both("site.j2", word="x") == ("changed x\n", "changed x\n"), "a changed source is compiled again"
    assert pyinfra_files.get_template is pyinfra_util.get_template is speedups.template_compiled_once, "in place"


def test_the_pipe_runs_each_command_and_writes_each_upload_a_line_out_and_a_line_back(tmp_path):
    """The run's interpreter (batchssh/pipe.py), here on this machine: in order, each answered before the next."""
    server = subprocess.Popen(["sh", "-c", pipe.COMMAND], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        def ask(request: bytes):
            server.stdin.write(request)
            server.stdin.flush()
            return pipe.read_answer(server.stdout.readline())

        assert ask(pipe.run_request("echo one; echo two >&2; exit 3")) == (3, b"one\n", b"two\n")
        assert ask(pipe.run_request("read x; echo \"[$x]\"")) == (0, b"[]\n", b""), "stdin closed, as sshd's exec"
        target = tmp_path / "uploaded"
        assert ask(pipe.put_request(str(target), b"\x00binary\n")) == (0, b"", b"")
        assert target.read_bytes() == b"\x00binary\n" and target.stat().st_mode & 0o777 == 0o666 & ~current_umask()
        status, _, err = ask(pipe.put_request(str(tmp_path / "no-such-dir" / "file"), b"x"))
        assert status == 1 and b"No such file or directory" in err
        assert ask(pipe.run_request(f"cat {target}")) == (0, b"\x00binary\n", b"")
    finally:
        server.stdin.close()
        assert server.wait(10) == 0, "it stops at the end of its input"


def test_a_group_runs_in_order_until_the_first_that_fails_and_answers_each(tmp_path):
    """An operation's commands and uploads as one request (batchssh/groups.py): each answered; after a failure,
    nothing runs and the rest are answered as not run."""
    target, never = tmp_path / "uploaded", tmp_path / "never"
    items = [pipe.put_item(str(target), b"content\n"), pipe.run_item(f"cat {target}; chmod 600 {target}"),
             pipe.run_item("echo failing >&2; exit 3"), pipe.run_item(f"touch {never}"),
             pipe.put_item(str(never), b"x")]
    answers = asked_of_a_pipe(pipe.chain_request([([], items)]), len(items))
    assert answers == [(0, b"", b""), (0, b"content\n", b""), (3, b"", b"failing\n"),
                       (pipe.NOT_RUN, b"", b""), (pipe.NOT_RUN, b"", b"")]
    assert target.stat().st_mode & 0o777 == 0o600 and not never.exists()


def asked_of_a_pipe(request: bytes, answers: int) -> list:
    server = subprocess.Popen(["sh", "-c", pipe.COMMAND], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        server.stdin.write(request)
        server.stdin.flush()
        return [pipe.read_answer(server.stdout.readline()) for _ in range(answers)]
    finally:
        server.stdin.close()
        assert server.wait(10) == 0


def test_a_chain_runs_each_operation_only_while_its_facts_read_as_foreseen(tmp_path):
    """Operations run ahead (batchssh: _run_planned): each link's facts are read after the links before it ran; a
    fact read as expected is answered SAME, and from the first that is not, nothing runs, while the facts of the
    links after it are still read."""
    made, second, third = tmp_path / "made", tmp_path / "second", tmp_path / "third"
    absent, there = (1, b"", b""), (0, b"", b"")
    link = [([], [pipe.run_item(f"mkdir {made}")]),
            # foreseen with the directory made: true after the first link
            ([(f"test -d {made}", pipe.digest(*there), None), ("echo read only", None, None)],
             [pipe.run_item(f"touch {second}")]),
            # foreseen with no directory, as it was before: not so, so it does not run
            ([(f"test -d {made}", pipe.digest(*absent), None)], [pipe.run_item(f"touch {third}")]),
            ([(f"test -e {second}", pipe.digest(*there), None)], [pipe.run_item(f"touch {third}")])]
    answers = asked_of_a_pipe(pipe.chain_request(link), 8)
    assert answers == [(0, b"", b""),
                       (pipe.SAME, b"", b""), (0, b"read only\n", b""), (0, b"", b""),
                       (0, b"", b""), (pipe.NOT_RUN, b"", b""),
                       (pipe.SAME, b"", b""), (pipe.NOT_RUN, b"", b"")]
    assert second.exists() and not third.exists()
    failing = [([], [pipe.run_item("exit 4")]), ([(f"test -e {second}", pipe.digest(*there), None)],
                                                 [pipe.run_item(f"touch {third}")])]
    assert asked_of_a_pipe(pipe.chain_request(failing), 3) == [(4, b"", b""), (pipe.SAME, b"", b""),
                                                                (pipe.NOT_RUN, b"", b"")]
    assert not third.exists(), "nothing runs after a failure"


def test_a_fact_read_between_a_links_commands_stops_the_rest_if_it_reads_otherwise(tmp_path):
    """An operation that reads a fact after its first commands (systemd.service: enabled, after the start)."""
    started, enabled, never = tmp_path / "started", tmp_path / "enabled", tmp_path / "never"
    absent = (1, b"", b"")
    link = [([], [pipe.run_item("true")]),
            ([], [pipe.run_item(f"touch {started}"), pipe.fact_item(f"test -e {started}", pipe.digest(0, b"", b"")),
                  pipe.run_item(f"touch {enabled}")]),
            ([], [pipe.run_item("true"), pipe.fact_item(f"test -e {never}", pipe.digest(0, b"", b"")),
                  pipe.run_item(f"touch {never}")])]
    answers = asked_of_a_pipe(pipe.chain_request(link), 7)
    assert answers == [(0, b"", b""), (0, b"", b""), (pipe.SAME, b"", b""), (0, b"", b""),
                       (0, b"", b""), absent, (pipe.NOT_RUN, b"", b"")]
    assert enabled.exists() and not never.exists()


def test_a_fact_foreseen_loosely_may_differ_in_its_times_and_size_only(tmp_path):
    """A directory written into since it was read: its stat line's times and size differ, the rest does not."""
    directory = tmp_path / "directory"
    directory.mkdir()
    stat = f"stat -c 'user=%U mode=%A atime=%X mtime=%Y ctime=%Z size=%s %n' {directory}"
    before = subprocess.run(["sh", "-c", stat], capture_output=True).stdout
    foreseen = (0, pipe.loosened(before, b"1"), b"")  # as read before a file was written into it
    first, second = tmp_path / "first", tmp_path / "second"
    link = [([(stat, pipe.digest(*foreseen), pipe.digest(*foreseen, True))], [pipe.run_item(f"touch {first}")]),
            ([(stat, pipe.digest(*foreseen), None)], [pipe.run_item(f"touch {second}")])]
    answers = asked_of_a_pipe(pipe.chain_request(link), 4)
    assert answers[0] == (0, before, b""), "the reading itself, for pyinfra: not the one foreseen"
    assert answers[1] == (0, b"", b"") and first.exists()
    assert answers[3] == (pipe.NOT_RUN, b"", b"") and not second.exists(), "foreseen exactly: it is not the same"
    assert pipe.loosened(b"user=root mode=drwx atime=1 mtime=2 ctime=3 size=4 /x") == \
        b"user=root mode=drwx atime= mtime= ctime= size= /x"


class Planner:
    """What grouped() needs of the connector: a plan it keeps, and what may go in a group."""

    def __init__(self, alone):
        self._planned, self.alone = batchssh.deque(), alone

    def _take_ran_ahead(self, operation, whole):
        pass

    def _plan(self, command, arguments):
        if command in self.alone:
            return False
        self._planned.append([command, arguments])
        return True


def test_an_operation_is_read_ahead_to_the_first_command_that_runs_alone():
    pulled = []

    def operation():
        for command in ("mkdir", "upload", "chmod", "callback", "chown", "restart"):
            pulled.append(command)
            yield command

    planner = Planner(alone={"callback"})
    seen = []
    for command in batchssh.BatchedSSHConnector.grouped(planner, operation(), lambda command: {"_chdir": None}):
        seen.append((command, list(pulled), [planned for planned, _ in planner._planned]))
    assert seen[0] == ("mkdir", ["mkdir", "upload", "chmod", "callback"], ["mkdir", "upload", "chmod"])
    assert [command for command, _, _ in seen] == ["mkdir", "upload", "chmod", "callback", "chown", "restart"]
    assert seen[4][1] == pulled, "after the callback ran, the rest was read"
    assert planner._planned == batchssh.deque(), "the plan is gone with the operation"
    assert groups.pyinfra_operations._run_host_op is groups.run_host_op_grouped, "in place"


def test_an_operation_that_stops_at_a_failure_leaves_no_plan_behind():
    planner = Planner(alone=set())
    generator = batchssh.BatchedSSHConnector.grouped(planner, iter(["a", "b", "c"]), lambda command: {})
    assert next(generator) == "a" and len(planner._planned) == 3
    generator.close()  # pyinfra's loop broke at a failure
    assert planner._planned == batchssh.deque()


def test_no_interpreter_is_no_answer():
    assert pipe.read_answer(b"") is None and pipe.read_answer(b"sh: python3: not found\n") is None


def current_umask() -> int:
    import os
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_batch_through_the_pipe_answers_each_command_in_order():
    server = subprocess.Popen(["sh", "-c", pipe.COMMAND], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        server.stdin.write(pipe.batch_request(["sleep 0.2; echo slow", "echo fast >&2; exit 4"]))
        server.stdin.flush()
        answers = [pipe.read_answer(server.stdout.readline()) for _ in range(2)]
        assert answers == [(0, b"slow\n", b""), (4, b"", b"fast\n")]
    finally:
        server.stdin.close()
        server.wait(10)
