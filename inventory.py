"""Where a run goes. Pick the target with BASTION_TARGET; no file edit, and never the live
droplet by surprise: without BASTION_TARGET the run goes to the local sandbox.

    BASTION_TARGET=sandbox   (default) the sandbox named by BASTION_SANDBOX (default "bastion")
    BASTION_TARGET=droplet   the live SmoothCurves droplet, root over SSH with your own key/agent
    BASTION_TARGET=ADDRESS   any SSH host, e.g. a brand-new droplet to rebuild; BASTION_SSH_KEY
                             (a private key file), BASTION_SSH_USER (default root) and
                             BASTION_SSH_KNOWN_HOSTS (a known_hosts file, checked strictly) go with it

Every host goes through the batchssh connector (batchssh/): SSH, with the facts of a run asked in one
round, since the droplet is 50-150 ms away. BASTION_SSH_PORT, and for the sandbox BASTION_SSH_HOSTNAME
and BASTION_SSH_KNOWN_HOSTS, reach the host another way (the benchmark's simulated WAN).
"""
import json
import os
from pathlib import Path

_target = os.environ.get("BASTION_TARGET", "sandbox")
_user = os.environ.get("BASTION_SSH_USER", "root")
_port = {"ssh_port": int(os.environ["BASTION_SSH_PORT"])} if os.environ.get("BASTION_SSH_PORT") else {}


def _batched(name: str) -> str:
    return f"@batchssh/{name}"


def _sandbox_host(name):
    from sandbox.layouts import named
    from sandbox.machine import Sandbox

    info_file = Sandbox(name).info_file
    if not info_file.exists():
        raise SystemExit(
            f"BASTION_TARGET=sandbox: no sandbox named {name!r} is up; "
            f"start it with `./bastion sandbox up` or set BASTION_TARGET to a real host")
    info = json.loads(info_file.read_text())
    return (_batched("sandbox"), {
        "ssh_hostname": os.environ.get("BASTION_SSH_HOSTNAME", info["address"]),
        "ssh_user": "root",
        "ssh_key": info["ssh_key"],
        # Every sandbox copy shares one host key: pinned, checked strictly, never learnt.
        "ssh_known_hosts_file": os.environ.get("BASTION_SSH_KNOWN_HOSTS", info["known_hosts"]),
        "ssh_strict_host_key_checking": "yes",
        # The sandbox cannot reach GitHub; its upstream is the stand-in served from the host.
        "dev_repo_url": info["upstream_url"],
        # What to expect of the droplet it stands in for (the 2025 one differs from the defaults).
        **named(info.get("layout")).settings,
        **_port,
    })


if _target == "sandbox":
    sandbox = [_sandbox_host(os.environ.get("BASTION_SANDBOX", "bastion"))]
elif _target == "droplet":
    droplet = [(_batched("smoothcurves"), {"ssh_hostname": "159.223.206.138", "ssh_user": _user, **_port})]
else:
    _key = os.environ.get("BASTION_SSH_KEY")
    if _key and not Path(_key).expanduser().is_file():
        raise SystemExit(f"BASTION_SSH_KEY={_key}: no such key file; give the private key's path")
    _known_hosts = os.environ.get("BASTION_SSH_KNOWN_HOSTS")
    rebuild = [(_batched(_target), {
        "ssh_hostname": _target,
        "ssh_user": _user,
        **({"ssh_key": _key} if _key else {}),
        **({"ssh_known_hosts_file": _known_hosts, "ssh_strict_host_key_checking": "yes"} if _known_hosts else {}),
        **_port,
    })]
