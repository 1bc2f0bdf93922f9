"""What the tests do to a sandbox: deploy with pyinfra as a user would, and read its results."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import testinfra

from sandbox.machine import Sandbox
from tests.settings import REPO, load

PYINFRA = str(Path(sys.executable).parent / "pyinfra")


@dataclass
class Run:
    returncode: int
    seconds: float
    stdout: str
    stderr: str

    @property
    def results(self) -> dict:
        return json.loads(self.stdout)["results"]

    @property
    def changed(self) -> list[str]:
        """Names of the operations pyinfra reports as changed, from its own JSON results."""
        return [op["name"] for op in self.results["operations"] if op["success"]]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


# Tests that move the branch by hand (git pull, a deploy) must not race the follow timer: they get
# an interval longer than any test. The tests of following set their own.
NO_FOLLOW = ("--data", "dev_follow_interval=1h")


def deploy(sandbox: Sandbox, *args: str, deploy_file: str = "deploy.py", env: dict | None = None,
           follow: tuple = NO_FOLLOW) -> Run:
    if deploy_file == "deploy.py":
        args = (*follow, *args)
    environment = {**os.environ, "BASTION_TARGET": "sandbox", "BASTION_SANDBOX": sandbox.name, **(env or {})}
    started = time.monotonic()
    done = subprocess.run([PYINFRA, "-y", "--json", "inventory.py", deploy_file, *args], cwd=REPO,
                          env=environment, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=600)
    return Run(done.returncode, time.monotonic() - started, done.stdout, done.stderr)


def deployed(sandbox: Sandbox, *args: str, **kwargs) -> Run:
    """A deploy that must succeed; its pyinfra output is the failure message when it does not."""
    run = deploy(sandbox, *args, **kwargs)
    assert run.returncode == 0, run.output[-5000:]
    return run


def invocation(sandbox: Sandbox, unit: str) -> str:
    """systemd's ID of the unit's current run: it changes with every (re)start."""
    return sandbox.ssh(f"systemctl show -p InvocationID --value {unit}").stdout.strip()


def served_commit(sandbox: Sandbox) -> str:
    """The commit the dev endpoint serves through nginx, or "" while it does not answer."""
    s = load()
    out = sandbox.ssh(f"curl -sk --max-time 3 --resolve {s.server_name}:443:127.0.0.1 "
                      f"https://{s.server_name}{s.dev_url_path}/health", check=False).stdout
    try:
        return json.loads(out).get("commit", "")
    except ValueError:
        return ""


def verify_suite(sandbox: Sandbox) -> subprocess.CompletedProcess:
    """The testinfra suite against the sandbox by its SSH address, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/verify", "-q", "-p", "no:cacheprovider",
         f"--hosts=ssh://root@{sandbox.address}", f"--ssh-config={sandbox.ssh_config}"],
        cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL)


def testinfra_host(sandbox: Sandbox):
    return testinfra.get_host(f"ssh://root@{sandbox.address}", ssh_config=str(sandbox.ssh_config))
