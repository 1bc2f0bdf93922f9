"""One remote interpreter per host that runs a run's commands and writes its uploads, each a line out and a
line back over one SSH channel opened once: a round trip each, where a command of its own pays a channel
open, an exec request and its exit status, and an SFTP upload an open, its writes, a stat and a close.

SERVER runs on the host (the host's python3), reading one JSON request per line on stdin (the batch at connect
runs it once its answers are out, on the same channel: batchssh.PYTHON_BATCH):
    {"run": COMMAND}              COMMAND as sshd would run it: the login shell's -c, stdin closed
    {"put": PATH, "data": B64}    PATH written as SFTP writes it (created 0666 less the umask, or truncated)
    {"batch": [COMMAND, ...]}     read-only commands (facts), side by side: one answer line for each, in order
    {"chain": [{"expect": [[COMMAND, DIGEST-OR-NULL, LOOSE-OR-NULL], ...], "group": [RUN-OR-PUT, ...]}, ...]}
                                  operations one after the other: each link's facts read side by side (a fact
                                  whose reading has the DIGEST expected is answered SAME; one whose reading has
                                  the LOOSE digest, its times and size left out, is as expected too), then its
                                  commands and uploads one after the other (among them, as {"fact": COMMAND,
                                  "digest": DIGEST}, the facts read between them); from the first fact not as
                                  expected or the first
                                  command that fails on, no command runs (answered NOT_RUN) and the facts of the
                                  links after it are still read (the client learns the host's state from them)
and answering each, in order, with {"status": N, "out": B64, "err": B64} on a line of its own. It stops at the
end of its input: when the connection closes, it is gone.
"""
from __future__ import annotations

import base64
import hashlib
import inspect
import json
import re
from pathlib import Path

# The answer of a group's item after the one that failed: never run (no exit status is negative).
NOT_RUN = -1
# The answer of a chain's fact whose reading is the one expected (the client has it already).
SAME = -2


def loosened(out, value=b""):
    """A reading with the times and size of its stat lines (the File and Directory facts of pyinfra) set to value."""
    return re.sub(rb"\b(atime|mtime|ctime|size)=[0-9]+", rb"\1=" + value, out)


def digest(status, out, err, loose=False):
    """What a chain compares of the reading of a fact (the host computes it with this same function); loose, without
    the times and size of a stat line (a directory written into since, for an operation that only asks whether
    it is there)."""
    out = loosened(out) if loose else out
    return hashlib.sha256(b"%d %d %d\n" % (status, len(out), len(err)) + out + err).hexdigest()


# The interpreters' first lines (this one's and the batch's at connect): hostfacts.py, in base64 since the source
# goes in the shell's single quotes, then its templates from the interpreter's argument (natives.argument).
PRELUDE = (
    "import base64 as _b64, json as _json, sys as _sys\n"
    f"exec(_b64.b64decode(\"{base64.b64encode((Path(__file__).parent / 'hostfacts.py').read_bytes()).decode()}\"))\n"
    "TEMPLATES.update(_json.loads(_b64.b64decode(_sys.argv[1])) if len(_sys.argv) > 1 else {})\n"
)

# The interpreter's loop over its requests (after the batch's answers, when the batch at connect runs it).
SERVE = (
    "import base64, hashlib, json, re, sys\n"
    "from concurrent.futures import ThreadPoolExecutor\n"
    "pool = ThreadPoolExecutor(16)\n"
    + inspect.getsource(loosened) + inspect.getsource(digest) +
    "def answer(status, out=b\"\", err=b\"\"):\n"
    "    sys.stdout.write(json.dumps({\"status\": status, \"out\": base64.b64encode(out).decode(),\n"
    "                                 \"err\": base64.b64encode(err).decode()}) + \"\\n\")\n"
    "    sys.stdout.flush()\n"
    "def run(command):\n"
    "    return answered_natively(command, by_shell) or by_shell(command)\n"
    "def put(path, data):\n"
    "    try:\n"
    "        with open(path, \"wb\") as file:\n"
    "            file.write(base64.b64decode(data))\n"
    "    except OSError as error:\n"
    "        return 1, b\"\", str(error).encode()\n"
    "    return 0, b\"\", b\"\"\n"
    "def one(request):\n"
    "    return put(request[\"put\"], request[\"data\"]) if \"put\" in request else run(request[\"run\"])\n"
    "for line in sys.stdin:\n"
    "    request = json.loads(line)\n"
    "    if \"batch\" in request:\n"
    "        for status, out, err in list(pool.map(run, request[\"batch\"])):\n"
    "            answer(status, out, err)\n"
    "    elif \"chain\" in request:\n"
    "        stopped = False\n"
    "        for link in request[\"chain\"]:\n"
    "            expect = link[\"expect\"]\n"
    "            for (_, wanted, loose), got in zip(expect, list(pool.map(run, [fact[0] for fact in expect]))):\n"
    "                same = wanted is not None and digest(*got) == wanted\n"
    "                alike = same or loose is not None and digest(*got, True) == loose\n"
    "                stopped = stopped or (wanted is not None and not alike)\n"
    f"                answer({SAME}) if same else answer(*got)\n"
    "            for item in link[\"group\"]:\n"
    "                if \"fact\" in item and not stopped:\n"
    "                    got = run(item[\"fact\"])\n"
    "                    stopped = digest(*got) != item[\"digest\"]\n"
    f"                    answer(*got) if stopped else answer({SAME})\n"
    "                    continue\n"
    f"                status, out, err = ({NOT_RUN}, b\"\", b\"\") if stopped else one(item)\n"
    "                stopped = stopped or status != 0\n"
    "                answer(status, out, err)\n"
    "    else:\n"
    "        answer(*one(request))\n"
)
SERVER = PRELUDE + SERVE
assert "'" not in SERVER


def command(natives: str = "") -> str:
    """The interpreter, answering the fact commands of natives (natives.argument) itself."""
    return f"exec python3 -c '{SERVER}' {natives}".rstrip()


COMMAND = command()


def run_request(command: str) -> bytes:
    return json.dumps({"run": command}).encode() + b"\n"


def batch_request(commands: list[str]) -> bytes:
    return json.dumps({"batch": commands}).encode() + b"\n"


def put_request(path: str, data: bytes) -> bytes:
    return json.dumps(put_item(path, data)).encode() + b"\n"


def run_item(command: str) -> dict:
    return {"run": command}


def put_item(path: str, data: bytes) -> dict:
    return {"put": path, "data": base64.b64encode(data).decode()}


def fact_item(command: str, expected: str) -> dict:
    """A fact read between a link's commands (one the operation reads after its first ones), expected to have the
    digest; if it does not, nothing after it runs."""
    return {"fact": command, "digest": expected}


def chain_request(links: list[tuple[list[tuple[str, str | None, str | None]], list[dict]]]) -> bytes:
    """Each link: the facts to read first, with the digest each is expected to have (None: read only) and the
    loose digest that will do too (None: only the digest), and the items to run if every one is as expected."""
    return json.dumps({"chain": [{"expect": [list(fact) for fact in expect], "group": items}
                                 for expect, items in links]}).encode() + b"\n"


def read_answer(line: bytes) -> tuple[int, bytes, bytes] | None:
    """A request's exit status, stdout and stderr; None when the line is no answer (the interpreter is gone)."""
    try:
        answer = json.loads(line)
        return int(answer["status"]), base64.b64decode(answer["out"]), base64.b64decode(answer["err"])
    except (ValueError, KeyError, TypeError):
        return None
