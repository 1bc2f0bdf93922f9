"""Sealed at every edge (issue 28), tried as an attacker with push access would, on today's droplet with the
real main as dev: a commit whose postinstall reaches for production's loopback services, the metadata address,
production's files and bastion's state, and whose server plants programs for root's git and links in its
logs for root's reader; then root does what the README allows. Nothing of production's is reached, nothing
runs as root, the checkout's git configuration stays as bastion wrote it."""
import json
from pathlib import Path

import pytest

from sandbox import upstream
from tests import harness

PROBES = Path(__file__).parent / "probes"
PRODUCTION_SECRETS = ("production-hub-secret", "production-wake-key", "PRODSECRET")


@pytest.fixture(scope="module")
def sb(deployed_2026):
    return deployed_2026


def listener_requests(sb) -> str:
    """What the stand-ins of production's loopback services logged (every request they answered)."""
    return sb.ssh("journalctl -o cat --no-pager -u qdrant.service -u hacs-channel-21000.service -u webhook.service "
                  "| grep -E 'HTTP/1|incoming HTTP' || true").stdout


def hostile_commit(sb) -> dict[str, str]:
    """The real main with a postinstall of its own (package-lock.json changed with it, so it is installed) and
    a server that imports the run-time probe first."""
    s = sb.settings
    read = lambda rel: upstream.read_file(sb.upstream_repo, s.dev_branch, rel)  # noqa: E731
    package, lock = json.loads(read("package.json")), json.loads(read("package-lock.json"))
    package.setdefault("scripts", {})["postinstall"] = "node hostile-install.cjs"
    package["version"] = lock["version"] = lock["packages"][""]["version"] = "2.0.1-hostile"
    server = read(harness.SERVER)
    shebang, rest = server.split("\n", 1) if server.startswith("#!") else ("", server)
    return {"package.json": json.dumps(package, indent=2) + "\n", "package-lock.json": json.dumps(lock, indent=2) + "\n",
            "hostile-install.cjs": (PROBES / "hostile_install.cjs").read_text().replace(
                "OUTSIDE", f"['{sb.host_address}', 9418]"),
            "src/hostile-runtime.js": (PROBES / "hostile_runtime.js").read_text(),
            harness.SERVER: (f"{shebang}\n" if shebang else "") + "import './hostile-runtime.js';\n" + rest}


def test_a_hostile_commit_reaches_nothing_at_any_edge(sb, figures):
    s = sb.settings
    git_config = (f"sha256sum {s.dev_checkout}/.git/config; "
                  f"find {s.dev_checkout}/.git/hooks -printf '%p %m %u %s %T@\\n' | sort")
    before, requests_before = sb.ssh(git_config).stdout, listener_requests(sb)
    originals = {rel: upstream.read_file(sb.upstream_repo, s.dev_branch, rel)
                 for rel in ("package.json", "package-lock.json", harness.SERVER)}
    bad = upstream.push_commit(sb.upstream_repo, s.dev_branch, hostile_commit(sb), "A hostile commit")
    # The operator's update command (the follow path, as the webhook and the timer run it).
    sb.ssh(f"systemctl start {s.dev_follow_unit}.service", check=False)
    assert harness.served_commit(sb) == bad, sb.ssh(f"cat {s.bastion_state_dir}/follow.state").stdout

    # Install time: it ran (as the service user), reached nothing and read nothing of production's or bastion's.
    install = json.loads(sb.ssh(f"cat {s.dev_checkout}/node_modules/.hostile-install.json").stdout)
    assert install["uid"] != 0 and install["connected"] == [], install
    assert install["wrote"] == [], install
    assert not any(secret in text for text in install["read"].values() for secret in PRODUCTION_SECRETS), install
    assert set(install["read"]) <= {"/mnt/coordinaton_mcp_data/instances/Lupo-f63b/.env"}, install["read"]
    # Run time: its own writes only where the app writes; the links it made in logs/ stay there.
    runtime = json.loads(sb.ssh(f"cat {s.dev_data_dir}/hostile-runtime.json").stdout)
    assert runtime["wrote"] == [], runtime
    assert sorted(runtime["linked"]) == ["logs/secrets.log", "logs/shadow.log"], runtime

    # Root does what the README allows: the status page, status.py, the restart path's report, the update
    # command again, and a git in the checkout (refused: not root's tree).
    status_page = sb.ssh(f"{s.dev_status_script} && curl -sk {harness.door(sb)} --resolve {s.server_name}:443:127.0.0.1 "
                         f"'https://{s.server_name}{s.dev_url_path}/_deploy/status?format=text'").stdout
    report = harness.status(sb, "text")
    restart_report = sb.ssh(f"{s.dev_restart_script} --report").stdout
    sb.ssh(f"systemctl start {s.dev_follow_unit}.service", check=False)
    root_git = sb.ssh(f"cd {s.dev_checkout} && git status 2>&1; git -C {s.dev_checkout} log -1 2>&1", check=False)
    assert "dubious ownership" in root_git.stdout, root_git.stdout
    for shown in (status_page, report, restart_report):
        assert not any(secret in shown for secret in PRODUCTION_SECRETS), shown
        assert "root:" not in shown, "nothing of /etc/shadow"
    assert sb.ssh("test -e /run/bastion-pwned || test -e /var/tmp/bastion-pwned", check=False).returncode != 0, \
        "a planted program ran"
    assert sb.ssh(git_config).stdout == before, "the checkout's git configuration and hooks are unchanged"
    assert listener_requests(sb) == requests_before, "production's listeners recorded no connection"

    # Taken out again: the original code, served.
    fixed = upstream.push_commit(sb.upstream_repo, s.dev_branch, originals, "The hostile code taken out")
    sb.ssh(f"systemctl start {s.dev_follow_unit}.service", check=False)
    assert harness.served_commit(sb) == fixed, sb.ssh(
        f"cat {s.bastion_state_dir}/follow.state; journalctl -q --no-pager -n 40 -u {s.dev_fetch_unit}", check=False).stdout
