"""The whole suite, as `./bastion test` runs it: two pytest sessions side by side, each on sandboxes of its
own, then the tests that measure latency alone on a quiet machine.

    python -m tests.shards [PYTEST ARGS]       (with a test path among the args: that, in one session)

Most of the suite waits (for sandboxes, systemd, the app, timers), so two sessions on this 2-core machine
take far less than one after the other. The split keeps each session's sandboxes its own: the backup host
and the ACME server serve only the drills (shard "drills"); the deployed droplets only the rest
("droplets"); each has a scratch and a blank sandbox of its own name. Tests marked `quiet` (production's tail
latency under a hostile commit) run last, alone, as they would on an idle droplet.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sandbox.machine import Sandbox
from tests.settings import REPO

INTERRUPTED = 2  # pytest's exit code for a session stopped by an interrupt
# Files, or single tests where a file's share would tip the balance of the two sessions.
DRILLS = ["tests/test_backup_host.py", "tests/test_backups.py", "tests/test_certificates.py", "tests/test_recovery.py",
          "tests/test_production.py", "tests/test_promote.py"]
# The drills' scratch and blank sandboxes: other names and subnets than the droplets' (conftest's defaults).
DRILLS_ENV = {"BASTION_TEST_SCRATCH": "bst-drills", "BASTION_TEST_SCRATCH_SUBNET": "10.213.32.0/24",
              "BASTION_TEST_BLANK": "bst-dblank", "BASTION_TEST_BLANK_SUBNET": "10.213.33.0/24"}


def pytest(args: list[str]) -> list[str]:
    # The slowest tests named in every run: where the next minute of the suite is to be found.
    return [sys.executable, "-m", "pytest", "--durations=12", "--durations-min=30", *args]


def streamed(name: str, argv: list[str], env: dict) -> subprocess.Popen:
    """A session whose output lines are printed as they come, each after its shard's name."""
    process = subprocess.Popen(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1)

    def relay():
        for line in process.stdout:
            sys.stdout.write(f"[{name}] {line}")
            sys.stdout.flush()

    process.relay = threading.Thread(target=relay, daemon=True)
    process.relay.start()
    return process


def finished(process: subprocess.Popen) -> int:
    code = process.wait()
    process.relay.join()
    return code


def side_by_side(sessions: list[tuple[str, list[str], dict]]) -> list[int]:
    """The sessions' exit codes; an interrupt reaches each session as one, so each stops its own sandboxes."""
    running = [streamed(name, argv, env) for name, argv, env in sessions]
    try:
        return [finished(session) for session in running]
    except KeyboardInterrupt:
        for session in running:
            session.send_signal(signal.SIGINT)
        for session in running:
            finished(session)
        raise


def names_a_test(args: list[str]) -> bool:
    return any(not arg.startswith("-") and (Path(REPO / arg.split("::")[0]).exists()) for arg in args)


def main(args: list[str]) -> int:
    if names_a_test(args):
        os.chdir(REPO)
        os.execv(sys.executable, pytest(args))
    # A stop from outside (CI's timeout, kill) reaches the sessions as an interrupt, so they tear down. Started
    # in the background of a shell, this process inherits SIGINT ignored, and so would the sessions (Python then
    # installs no KeyboardInterrupt of its own): a handler here gives them the default back at exec.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    env = dict(os.environ)
    codes = side_by_side([
        ("drills", pytest([*DRILLS, *args]), {**env, **DRILLS_ENV}),
        ("droplets", pytest(["tests", *(f"--{'deselect' if '::' in path else 'ignore'}={path}" for path in DRILLS),
                             "-m", "not quiet", *args]), env),
    ])
    if INTERRUPTED in codes:
        # A session stopped from outside (its own signal): the run is over, not to be measured on.
        print("a session was interrupted: the quiet tests do not run", flush=True)
        codes.append(INTERRUPTED)
    else:
        print(f"side by side: {time.monotonic() - started:.0f} s; now the quiet tests, alone", flush=True)
        codes += side_by_side([("quiet", pytest(["tests", "-m", "quiet", *args]), env)])
    # Sandboxes that went down side by side each left forwarding on for the other: the last word is here.
    Sandbox.restore_forwarding_when_idle()
    total = time.monotonic() - started
    print(f"the whole suite: {total / 60:.1f} min; exit codes drills {codes[0]}, droplets {codes[1]}, quiet {codes[2]}")
    # pytest's 5 (no test collected) is a failure here too: every shard has tests.
    return 0 if codes == [0, 0, 0] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
