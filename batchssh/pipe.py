"""One remote interpreter per host that runs a run's commands and writes its uploads, each a line out and a
line back over one SSH channel opened once: a round trip each, where a command of its own pays a channel
open, an exec request and its exit status, and an SFTP upload an open, its writes, a stat and a close.

SERVER runs on the host (the host's python3), reading one JSON request per line on stdin:
    {"run": COMMAND}              COMMAND as sshd would run it: the login shell's -c, stdin closed
    {"put": PATH, "data": B64}    PATH written as SFTP writes it (created 0666 less the umask, or truncated)
    {"batch": [COMMAND, ...]}     read-only commands (facts), side by side: one answer line for each, in order
    {"group": [RUN-OR-PUT, ...]}  an operation's commands and uploads, one after the other until the first that
                                  fails: one answer line for each, NOT_RUN for those after the failure
and answering each, in order, with {"status": N, "out": B64, "err": B64} on a line of its own. It stops at the
end of its input: when the connection closes, it is gone.
"""
from __future__ import annotations

import base64
import json

# The answer of a group's item after the one that failed: never run (no exit status is negative).
NOT_RUN = -1

SERVER = (
    "import base64, json, os, subprocess, sys\n"
    "shell = os.environ.get(\"SHELL\") or \"sh\"\n"
    "def answer(status, out=b\"\", err=b\"\"):\n"
    "    sys.stdout.write(json.dumps({\"status\": status, \"out\": base64.b64encode(out).decode(),\n"
    "                                 \"err\": base64.b64encode(err).decode()}) + \"\\n\")\n"
    "    sys.stdout.flush()\n"
    "def run(command):\n"
    "    done = subprocess.run([shell, \"-c\", command], stdin=subprocess.DEVNULL, capture_output=True)\n"
    "    return done.returncode if done.returncode >= 0 else 128 - done.returncode, done.stdout, done.stderr\n"
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
    "        from concurrent.futures import ThreadPoolExecutor\n"
    "        with ThreadPoolExecutor(16) as pool:\n"
    "            for status, out, err in list(pool.map(run, request[\"batch\"])):\n"
    "                answer(status, out, err)\n"
    "    elif \"group\" in request:\n"
    "        failed = False\n"
    "        for item in request[\"group\"]:\n"
    f"            status, out, err = ({NOT_RUN}, b\"\", b\"\") if failed else one(item)\n"
    "            failed = failed or status != 0\n"
    "            answer(status, out, err)\n"
    "    else:\n"
    "        answer(*one(request))\n"
)
assert "'" not in SERVER
COMMAND = f"exec python3 -c '{SERVER}'"


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


def group_request(items: list[dict]) -> bytes:
    return json.dumps({"group": items}).encode() + b"\n"


def read_answer(line: bytes) -> tuple[int, bytes, bytes] | None:
    """A request's exit status, stdout and stderr; None when the line is no answer (the interpreter is gone)."""
    try:
        answer = json.loads(line)
        return int(answer["status"]), base64.b64decode(answer["out"]), base64.b64decode(answer["err"])
    except (ValueError, KeyError, TypeError):
        return None
