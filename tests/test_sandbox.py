"""The sandbox droplet itself: production baseline, teardown, recovery from a killed run."""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from sandbox import baseline
from sandbox.machine import IP_FORWARD, IP_FORWARD_SAVED, STATE_ROOT, Sandbox
from tests import harness


def leftovers(sandbox: Sandbox, pids=()) -> list[str]:
    found = []
    if subprocess.run(["ip", "link", "show", sandbox.veth], capture_output=True).returncode == 0:
        found.append(f"veth {sandbox.veth}")
    if str(sandbox.state) in Path("/proc/self/mounts").read_text():
        found.append("mounts")
    if subprocess.run(["nft", "list", "table", "ip", sandbox.nft_table], capture_output=True).returncode == 0:
        found.append(f"nft table {sandbox.nft_table}")
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(f"process {pid}")
    if sandbox.state.exists():
        found.append(f"state {sandbox.state}")
    return found


def started_pids(sandbox: Sandbox) -> list[int]:
    return [int((sandbox.state / name).read_text().split()[0]) for name in ("nspawn.pid", "init.pid", "gitd.pid")]


def other_sandboxes_running(sandbox: Sandbox) -> bool:
    return any(Sandbox(p.parent.name).running() for p in STATE_ROOT.glob("*/nspawn.pid")
               if p.parent.name != sandbox.name)


def test_production_baseline_serves_health_through_nginx(pristine):
    host = harness.testinfra_host(pristine)
    assert host.service("mcp-coordination.service").is_running
    assert host.run("nginx -t").rc == 0
    out = host.check_output("curl -sk -w ' %{http_code}' --resolve smoothcurves.nexus:443:127.0.0.1 "
                            "https://smoothcurves.nexus/health")
    assert out.endswith(" 200")
    assert '"port":"3444"' in out
    assert "https://localhost:3444" in host.file("/etc/nginx/sites-available/smoothcurves-nexus").content_string
    assert host.run("ss -ltn | grep -q '127.0.0.1:3444'").rc == 0
    redirect = host.check_output("curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "
                                 "--resolve smoothcurves.nexus:80:127.0.0.1 http://smoothcurves.nexus/health")
    assert redirect == "301 https://smoothcurves.nexus/health"


def test_host_key_is_pinned_and_checked_strictly(pristine):
    config = pristine.ssh_config.read_text()
    assert "StrictHostKeyChecking yes" in config
    assert pristine.known_hosts.read_text().startswith(f"{pristine.address} ssh-ed25519 ")


def test_reset_returns_to_pristine(pristine):
    pristine.ssh("touch /root/dirt")
    baseline.up(pristine)
    assert pristine.ssh("test -e /root/dirt", check=False).returncode != 0


def test_teardown_leaves_nothing_behind():
    sandbox = Sandbox("bst-teardown", "10.213.23.0/24")
    forward_before = IP_FORWARD.read_text()
    sandbox.up()
    pids = started_pids(sandbox)
    sandbox.down()
    assert leftovers(sandbox, pids) == []
    forward_now = IP_FORWARD.read_text()
    if other_sandboxes_running(sandbox):
        # The others still route through this machine: forwarding stays on, the value to restore stays saved.
        assert forward_now == "1\n" and IP_FORWARD_SAVED.exists(), (forward_now, IP_FORWARD_SAVED.exists())
    else:
        assert forward_now == forward_before and not IP_FORWARD_SAVED.exists()


def test_up_after_a_killed_run_succeeds():
    sandbox = Sandbox("bst-killed", "10.213.24.0/24")
    sandbox.up()
    # A killed session: nspawn and git daemon die at once; the guest's init, its mounts, veth
    # and nft table stay behind.
    nspawn, init, gitd = started_pids(sandbox)
    os.kill(nspawn, signal.SIGKILL)
    os.kill(gitd, signal.SIGKILL)
    time.sleep(0.5)
    assert "mounts" in leftovers(sandbox)
    sandbox.up()
    assert f"process {init}" not in leftovers(sandbox, [init])
    assert sandbox.ssh("systemctl is-system-running --wait", check=False).stdout.strip() in ("running", "degraded")
    pids = started_pids(sandbox)
    sandbox.down()
    assert leftovers(sandbox, pids) == []


def test_two_sandboxes_side_by_side(pristine):
    other = Sandbox("bst-second", "10.213.25.0/24").up()
    try:
        assert other.ssh("hostname").stdout.strip() == "bst-second"
        assert pristine.ssh("hostname").stdout.strip() == pristine.name
    finally:
        other.down()


def test_guest_reaches_the_stand_in_upstream(pristine):
    out = pristine.ssh(f"git ls-remote {pristine.upstream_url}").stdout
    assert "refs/heads/v2" in out and "refs/heads/main" in out


@pytest.mark.parametrize("name", ["", "a-name-longer-than-12", "bad_name!"])
def test_bad_sandbox_names_are_refused(name):
    with pytest.raises(SystemExit, match="sandbox name"):
        Sandbox(name)
