"""Runs on the host, inside the run's interpreters (the batch at connect and pipe.py's SERVER): the facts a run reads
most, pyinfra's File (and Directory, Link) and its file hashes, answered without a process of their own, byte for
byte as their commands answer them. A no-op deploy.py reads ~140 of them, each a shell, a subshell and a stat or
sha1sum: 3-5 ms of the host's CPU apiece, most of the batch's time on a 2-core droplet.

A command is answered here only when it is exactly one of TEMPLATES (pyinfra's own command for the fact, made on
the operator's machine by batchssh/natives.py) around a path that needs no quoting, and only for what GNU coreutils
prints the same way every time: a missing path, a regular file, a directory, a symlink to such a path, a fifo or a
socket, owned by a user and group the host knows. Anything else, or a kind whose probe (the same command run by the
shell on a path every host has) answers otherwise than this module, goes to the shell as before.

The interpreters run this file's text (natives.PRELUDE): standard library only, Python 3.7 and later.
"""
import grp
import hashlib
import os
import pwd
import re
import stat
import subprocess

# What shlex.quote leaves as it is, and stat %N (shell-escape-always) and sha1sum print between plain quotes.
PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+\Z")
KINDS = ("file", "directory", "symlink", "fifo", "socket")
PROBES = {"stat": "/", "sha1": "/etc/passwd", "sha256": "/etc/passwd", "md5": "/etc/passwd", "sha384": "/etc/passwd"}
# Per kind, the parts of its command around the path (set from the interpreter's argument), and the verdict of its probe.
TEMPLATES = {}
TRUSTED = {}


def by_shell(command):
    """COMMAND as sshd would run it: the login shell's -c, stdin closed; a signal's death as the shell reports it."""
    done = subprocess.run([os.environ.get("SHELL") or "sh", "-c", command], stdin=subprocess.DEVNULL,
                          capture_output=True)
    return done.returncode if done.returncode >= 0 else 128 - done.returncode, done.stdout, done.stderr


def stat_line(path):
    """What the File fact command prints: nothing for a missing path, else GNU stat -c with the fact's format; None
    where this module does not know it prints the same."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return b""
    except OSError:
        return None
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode) or stat.S_ISLNK(info.st_mode)
            or stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode)):
        return None
    try:
        user, group = pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        return None  # stat prints UNKNOWN, or a number: the shell says which
    name = f"'{path}'"
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            return None
        if not PLAIN.match(target):
            return None
        name += f" -> '{target}'"
    times = " ".join(f"{kind}={nanoseconds // 10 ** 9}" for kind, nanoseconds in
                     (("atime", info.st_atime_ns), ("mtime", info.st_mtime_ns), ("ctime", info.st_ctime_ns)))
    line = f"user={user} group={group} mode={stat.filemode(info.st_mode)} {times} size={info.st_size} {name}\n"
    return line.encode("ascii") if PLAIN.match(user + group) else None


def hash_line(algorithm, path):
    """What a file hash fact command prints: nothing for a missing path, else the hash and the path as sha1sum
    (sha256sum, md5sum, sha384sum) prints them; None for anything but a regular file it can read."""
    try:
        # Never blocks, on a fifo put where the file was (the shell command would).
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except (FileNotFoundError, NotADirectoryError):
        return b""
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        digest = hashlib.new(algorithm)
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            for block in iter(lambda: file.read(1 << 16), b""):
                digest.update(block)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return f"{digest.hexdigest()}  {path}\n".encode("ascii")


def native_line(kind, path):
    return stat_line(path) if kind == "stat" else hash_line(kind, path)


def matched(command, templates):
    """The kind and path when the command is one of the templates around a plain absolute path, else None."""
    for kind, parts in templates.items():
        head = parts[0]
        if len(parts) < 2 or not command.startswith(head):
            continue
        end = command.find(parts[1], len(head))
        path = command[len(head):end] if end >= 0 else ""
        if path.startswith("/") and PLAIN.match(path) and path.join(parts) == command:
            return kind, path
    return None


def trusted(kind, by_shell):
    """Whether the shell answers the kind's probe as this module does (GNU coreutils, no QUOTING_STYLE)."""
    if kind not in TRUSTED:
        probe = PROBES[kind]
        mine = native_line(kind, probe)
        TRUSTED[kind] = mine is not None and by_shell(probe.join(TEMPLATES[kind])) == (0, mine, b"")
    return TRUSTED[kind]


def answered_natively(command, by_shell):
    """(0, output, b"") for a command this module answers as the shell would, else None."""
    found = matched(command, TEMPLATES)
    if found is None or not trusted(found[0], by_shell):
        return None
    line = native_line(*found)
    return None if line is None else (0, line, b"")


# pyinfra's systemd facts for one unit (its SystemdStatus and SystemdEnabled, as systemd.service reads them): one
# systemctl for all the units of a batch answers each as its own would (a unit's lines, then an empty line).
UNIT = re.compile(r"[A-Za-z0-9_@.:-]+\Z")


def shown_unit(command, templates):
    """The property and unit when the command is a template "show:PROPERTY" around a unit name, else None."""
    for kind, parts in templates.items():
        if kind.startswith("show:") and len(parts) == 2 and command.startswith(parts[0]) and \
                command.endswith(parts[1]) and len(command) > len(parts[0]) + len(parts[1]):
            unit = command[len(parts[0]):len(command) - len(parts[1])]
            if UNIT.match(unit):
                return kind[len("show:"):], unit
    return None


def shown_together(prop, units, by_shell):
    """Each unit's `systemctl show --all --property Id --property PROP UNIT` output, from one systemctl; None when
    it does not answer as a list of as many blocks (an error, a unit name it refuses)."""
    status, out, err = by_shell("systemctl show --all --property Id --property " + prop + " " + " ".join(units))
    blocks = out[:-1].split(b"\n\n") if out.endswith(b"\n") else []
    if status != 0 or err or len(blocks) != len(units):
        return None
    return [block + b"\n" for block in blocks]


def answer_batch(jobs, by_shell, workers, write):
    """The batch at connect: jobs [INDEX, START-BY, BASE64-COMMAND] started in START-BY order, `workers` at a time,
    each answered (natively where it can) and written, in INDEX order, as soon as it and those before it are:
    write(record, more) with more true when the next answer is ready already."""
    import base64
    import time
    from concurrent.futures import Future, ThreadPoolExecutor

    commands = [base64.b64decode(job[2]).decode() for job in jobs]

    def record(at, status, out, err, took):
        return b"%s %d %d\n%s\n%s\n" % (jobs[at][0].encode(), status, took, base64.b64encode(out),
                                        base64.b64encode(err))

    def run(at):
        began = time.monotonic()
        status, out, err = answered_natively(commands[at], by_shell) or by_shell(commands[at])
        return record(at, status, out, err, (time.monotonic() - began) * 1000)

    shown = {}
    for at, command in enumerate(commands):
        found = shown_unit(command, TEMPLATES)
        if found is not None:
            shown.setdefault(found[0], []).append((at, found[1]))
    together = {at: prop for prop, members in shown.items() if len(members) > 1 for at, _ in members}
    answers = {at: Future() for at in together}

    def answered(at, done):
        # An error is the writer's to raise: the batch ends there, and the run reads each fact on its own.
        error = done.exception()
        answers[at].set_exception(error) if error else answers[at].set_result(done.result())

    with ThreadPoolExecutor(workers) as pool:
        def show(prop):
            members, began = shown[prop], time.monotonic()
            units = sorted(set(unit for _, unit in members))
            try:
                outputs = shown_together(prop, units, by_shell)
            except Exception:
                outputs = None
            if outputs is None:  # each by the shell, as it would be alone
                for at, _ in members:
                    pool.submit(run, at).add_done_callback(lambda done, at=at: answered(at, done))
                return
            took = (time.monotonic() - began) * 1000
            for at, unit in members:
                answers[at].set_result(record(at, 0, outputs[units.index(unit)], b"", took))

        started = set()
        for at in sorted(range(len(jobs)), key=lambda at: int(jobs[at][1])):
            if at not in together:
                answers[at] = pool.submit(run, at)
            elif together[at] not in started:
                started.add(together[at])
                pool.submit(show, together[at])
        for at in range(len(jobs)):
            write(answers[at].result(), at + 1 < len(jobs) and answers[at + 1].done())
