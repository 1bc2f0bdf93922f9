"""What the tests do to a sandbox: deploy with pyinfra as a user would, and read its results."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import testinfra

from sandbox import layouts, upstream
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
    if env and env.get("BASTION_TARGET") not in (None, "sandbox"):
        # By address, as a new droplet is reached: the inventory knows nothing of the sandbox's layout.
        args = (*layouts.named(sandbox.layout).data_arguments(), *args)
    environment = {**os.environ, "BASTION_TARGET": "sandbox", "BASTION_SANDBOX": sandbox.name, **(env or {})}
    started = time.monotonic()
    done = subprocess.run([PYINFRA, "-y", "--json", "inventory.py", deploy_file, *args], cwd=REPO,
                          env=environment, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=600)
    return Run(done.returncode, time.monotonic() - started, done.stdout, done.stderr)


def wait_until(predicate, limit: float, what: str = "the condition", explain=None) -> float:
    """Until the predicate holds (evidence), failing after limit seconds; how long it took. explain: what the
    failure shows besides (a journal), so a run that fails once says why."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started >= limit:
            raise AssertionError(f"{what}: not within {limit} s" + (f"\n{explain()}" if explain else ""))
        time.sleep(0.25)
    return time.monotonic() - started


def with_layout(sandbox: Sandbox) -> Sandbox:
    """The sandbox, with the settings bastion expects of the droplet it stands in for."""
    sandbox.settings = load(layouts.named(sandbox.layout).settings)
    return sandbox


def by_address(sandbox: Sandbox) -> dict:
    """deploy()'s env for a run that reaches the sandbox by its address, as a rebuild reaches a new droplet."""
    return {"BASTION_TARGET": sandbox.address, "BASTION_SSH_KEY": sandbox.connection()["ssh_key"],
            "BASTION_SSH_KNOWN_HOSTS": str(sandbox.known_hosts)}


def deployed(sandbox: Sandbox, *args: str, **kwargs) -> Run:
    """A deploy that must succeed; its pyinfra output is the failure message when it does not."""
    run = deploy(sandbox, *args, **kwargs)
    assert run.returncode == 0, run.output[-5000:]
    return run


def status(sandbox: Sandbox, fmt: str = "json", *args: str):
    """status.py's report: the parsed JSON, or the text for people."""
    run = deploy(sandbox, "--data", f"status_format={fmt}", *args, deploy_file="status.py")
    assert run.returncode == 0, run.output[-3000:]
    # The harness asks pyinfra for --json too: its results follow the report.
    return json.JSONDecoder().raw_decode(run.stdout)[0] if fmt == "json" else run.stdout


def status_page(sandbox: Sandbox) -> dict:
    """The team's status page (dev_url_path/_deploy/status), through the door."""
    s = getattr(sandbox, "settings", load())
    return json.loads(sandbox.ssh(f"curl -sk {door(sandbox)} --resolve {s.server_name}:443:127.0.0.1 "
                                  f"https://{s.server_name}{s.dev_url_path}/_deploy/status").stdout)


def bootstrap_at(sandbox: Sandbox, path: str, name: str) -> str:
    """A new instance through another endpoint than the dev environment's (a preview's path) running main."""
    return call_tool(sandbox, "bootstrap", {"name": name}, path=path)["instanceId"]


def instances_at(sandbox: Sandbox, path: str) -> list[str]:
    return [i["instanceId"] for i in call_tool(sandbox, "get_all_instances", path=path)["instances"]]


def bootstrap(sandbox: Sandbox, name: str) -> str:
    """A new instance through the dev endpoint, by the tool of the branch it serves (main renamed
    bootstrap_v2 to bootstrap); its id."""
    branch = getattr(sandbox, "settings", load()).dev_branch
    return call_tool(sandbox, "bootstrap_v2" if branch == "v2" else "bootstrap", {"name": name})["instanceId"]


def instances(sandbox: Sandbox) -> list[str]:
    """The V2 instances the dev endpoint knows, by id."""
    return [i["instanceId"] for i in call_tool(sandbox, "get_all_instances")["instances"]]


def invocation(sandbox: Sandbox, unit: str) -> str:
    """systemd's ID of the unit's current run: it changes with every (re)start."""
    return sandbox.ssh(f"systemctl show -p InvocationID --value {unit}").stdout.strip()


def look(sandbox: Sandbox, commit: str | None = None) -> None:
    """One look of the follow path that begins now, waited for: started through bastion-again@ as a delivery starts it
    (a plain start while the timer's own look runs joins that look, which may have fetched before the push: in CI a
    pushed commit was never looked at), then joined. With a commit, that look has fetched it."""
    s = getattr(sandbox, "settings", load())
    sandbox.ssh(f"systemctl start {s.again_unit}@{s.dev_follow_unit}.service; systemctl start {s.dev_follow_unit}.service",
                check=False)
    if commit is not None:
        state = sandbox.ssh(f"cat {s.bastion_state_dir}/follow.state", check=False).stdout
        assert f"upstream={commit}" in state.split(), state


def served_commit(sandbox: Sandbox) -> str:
    """The commit the dev endpoint serves: the one its running server started on (recorded by the
    unit, since /health names none), while nginx answers healthy for the dev port; else ""."""
    s = load()
    out = sandbox.ssh(f"curl -sk --max-time 3 --resolve {s.server_name}:443:127.0.0.1 "
                      f"https://{s.server_name}{s.dev_url_path}/health; echo; "
                      f"cat {s.dev_runtime_dir}/commit 2>/dev/null", check=False).stdout
    reply, _, commit = out.partition("\n")
    try:
        health = json.loads(reply)
    except ValueError:
        return ""
    healthy = health.get("status") == "healthy" and str(health.get("port")) == str(s.dev_port)
    return commit.strip() if healthy else ""


def owner_git(settings) -> str:
    """git in the dev checkout as its owner: root's git refuses it."""
    return f"runuser -u {settings.dev_user} -- git -C {settings.dev_checkout}"


def door(sandbox: Sandbox) -> str:
    """curl's option that passes the door with bastion's own token (root's on the sandbox, as the health gate's)."""
    return f"-H @{getattr(sandbox, 'settings', load()).dev_door_bastion_header}"


def call_tool(sandbox: Sandbox, name: str, arguments: dict | None = None, path: str | None = None) -> dict:
    """A JSON-RPC tools/call through nginx, as the team's client sends it (to the bare dev_url_path, or
    path); the tool's own result, or {"error": ...} when the app refuses it."""
    s = load()
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": name, "arguments": arguments or {}}})
    out = sandbox.ssh(f"curl -sk -X POST -H 'Content-Type: application/json' {door(sandbox)} "
                      f"--resolve {s.server_name}:443:127.0.0.1 https://{s.server_name}{path or s.dev_url_path} "
                      f"--data-binary @- <<'EOF'\n{body}\nEOF").stdout
    reply = json.loads(out)
    if "error" in reply:
        return {"error": reply["error"]}
    return json.loads(reply["result"]["content"][0]["text"])


WATCHED = "/etc /mnt /srv /usr/local /var/lib/bastion /var/lib/hacs-dev"


def mark(sandbox):
    sandbox.ssh("touch /run/bastion-test-marker && sleep 1.1")


def changed_since_mark(sandbox) -> list[str]:
    """Every file or directory under the watched trees whose content or status (mode, owner) changed
    after mark(); the running servers' own log directories aside (production's and dev's), which they write
    on their own timers (today's main: a sweep every 60 s); tests/production.py's snapshot leaves production's
    aside too."""
    marker = "/run/bastion-test-marker"
    s = getattr(sandbox, "settings", load())
    pruned = " -o ".join(f"-path {checkout}/logs" for checkout in (s.production_checkout, s.dev_checkout))
    out = sandbox.ssh(f"find {WATCHED} -xdev \\( {pruned} \\) -prune -o "
                      f"\\( -newer {marker} -o -cnewer {marker} \\) -print 2>/dev/null", check=False)
    return out.stdout.split()


def preflight_lines(run) -> list[str]:
    text = run.stderr.split("nothing on the host was changed:\n", 1)
    assert len(text) == 2, run.output[-3000:]
    return [line.strip() for line in text[1].splitlines() if line.startswith("  ")]


SERVER = "src/streamable-http-server.js"


def push_server_that_throws(sandbox: Sandbox, message: str = "A commit that cannot start") -> tuple[str, str]:
    """Push a commit whose server throws at start (after its shebang line, if it has one, as the
    real app's does); returns that commit and the good server source, to push back as a fix."""
    branch = getattr(sandbox, "settings", load()).dev_branch
    good = upstream.read_file(sandbox.upstream_repo, branch, SERVER)
    shebang, rest = good.split("\n", 1) if good.startswith("#!") else ("", good)
    broken = (f"{shebang}\n" if shebang else "") + "throw new Error('broken on purpose');\n" + rest
    return upstream.push_commit(sandbox.upstream_repo, branch, {SERVER: broken}, message), good


def push_server(sandbox: Sandbox, source: str, message: str = "Fix start") -> str:
    return upstream.push_commit(sandbox.upstream_repo, getattr(sandbox, "settings", load()).dev_branch, {SERVER: source},
                                message)


def verify_suite(sandbox: Sandbox, env: dict | None = None, suite: str = "tests/verify",
                 data: tuple = ()) -> subprocess.CompletedProcess:
    """A testinfra suite (the dev environment's, or tests/verify_production) against the sandbox by its
    SSH address, as an operator runs it, with the settings of its layout (and data, more --data)."""
    settings = [*layouts.named(sandbox.layout).pairs(), *data]
    return subprocess.run(
        [sys.executable, "-m", "pytest", suite, "-q", "-p", "no:cacheprovider",
         f"--hosts=ssh://root@{sandbox.address}", f"--ssh-config={sandbox.ssh_config}",
         *(f"--data={pair}" for pair in settings)],
        cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def testinfra_host(sandbox: Sandbox):
    return testinfra.get_host(f"ssh://root@{sandbox.address}", ssh_config=str(sandbox.ssh_config))


def push_payload(branch: str, after: str) -> dict:
    """A push event's payload with the fields GitHub sends (trimmed of the ones nothing reads)."""
    repository = {"id": 1041231, "name": "Human-Adjacent-Coordination", "full_name": "LupoGrigi0/Human-Adjacent-Coordination",
                  "private": False, "default_branch": "main",
                  "clone_url": "https://github.com/LupoGrigi0/Human-Adjacent-Coordination.git"}
    commit = {"id": after, "tree_id": "0" * 40, "distinct": True, "message": "A push", "timestamp": "2026-12-01T07:00:00Z",
              "author": {"name": "Lupo", "email": "lupo@example.invalid"}}
    return {"ref": f"refs/heads/{branch}", "before": "0" * 40, "after": after, "repository": repository,
            "pusher": {"name": "lupo", "email": "lupo@example.invalid"}, "sender": {"login": "LupoGrigi0", "id": 1},
            "created": False, "deleted": False, "forced": False, "base_ref": None,
            "compare": f"https://github.com/LupoGrigi0/Human-Adjacent-Coordination/compare/{after[:12]}",
            "commits": [commit], "head_commit": commit}


def deliver(sb, event: str, body: dict | str, secret: str | None, path: str | None = None,
            padding: int = 0) -> tuple[int, str]:
    """POST as GitHub's hookshot does, through nginx on 443; (status, reply). padding: that many spaces
    after the JSON, added on the sandbox (and not signed: nginx refuses it before anything reads it)."""
    raw = body if isinstance(body, str) else json.dumps(body)
    headers = {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/a1b2c3d", "X-GitHub-Event": event,
               "X-GitHub-Delivery": str(uuid.uuid4()), "X-GitHub-Hook-ID": "412345",
               "X-GitHub-Hook-Installation-Target-Type": "repository"}
    if secret is not None:
        headers["X-Hub-Signature"] = "sha1=" + hmac.new(secret.encode(), raw.encode(), hashlib.sha1).hexdigest()
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()
    s = getattr(sb, "settings", load())
    url = f"https://{s.server_name}{path or s.dev_url_path + '/_deploy/push'}"
    flags = " ".join(f"-H {shlex.quote(f'{k}: {v}')}" for k, v in headers.items())
    pad = f"head -c {padding} /dev/zero | tr '\\0' ' ' >> /tmp/delivery.json; " if padding else ""
    out = sb.ssh(f"cat > /tmp/delivery.json <<'EOF'\n{raw}\nEOF\ntruncate -s -1 /tmp/delivery.json; {pad}"
                 f"curl -sk -w '\\n%{{http_code}}' --resolve {s.server_name}:443:127.0.0.1 {flags} "
                 f"--data-binary @/tmp/delivery.json {url}").stdout
    reply, _, code = out.rpartition("\n")
    return int(code), reply
