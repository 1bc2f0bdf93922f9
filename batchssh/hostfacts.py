"""Runs on the host, inside the run's interpreters (the batch at connect and pipe.py's SERVER): the facts a run reads
most, pyinfra's File (and Directory, Link) and its file hashes, answered without a process of their own, byte for
byte as their commands answer them. A no-op deploy.py reads ~140 of them, each a shell, a subshell and a stat or
sha1sum: 3-5 ms of the host's CPU apiece, most of the batch's time on a 2-core droplet.

A command is answered here only when it is exactly one of TEMPLATES (pyinfra's own command for the fact, made on
the operator's machine by batchssh/natives.py) around a path that needs no quoting, and only for what GNU coreutils
prints the same way every time: a missing path, a regular file, a directory, a symlink to such a path, a fifo or a
socket, owned by a user and group the host knows. Anything else, or a kind whose probe (the same command run by the
shell on a path every host has) answers otherwise than this module, goes to the shell as before.

The interpreters run this file's text (natives.PRELUDE): standard library only, Python 3.6 and later.
"""
import grp
import hashlib
import os
import pwd
import re
import stat

# What shlex.quote leaves as it is, and stat %N (shell-escape-always) and sha1sum print between plain quotes.
PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+\Z")
KINDS = ("file", "directory", "symlink", "fifo", "socket")
PROBES = {"stat": "/", "sha1": "/etc/passwd", "sha256": "/etc/passwd", "md5": "/etc/passwd", "sha384": "/etc/passwd"}
# Per kind, the parts of its command around the path (set from the interpreter's argument), and the verdict of its probe.
TEMPLATES = {}
TRUSTED = {}


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
