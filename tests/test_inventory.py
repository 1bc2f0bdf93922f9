"""Choosing a target needs no file edit, and the default never reaches the live droplet.
debug-inventory resolves the inventory without connecting to anything."""
import json
import os
import subprocess

from tests import harness
from tests.settings import REPO


def inventory(**env):
    done = subprocess.run([harness.PYINFRA, "inventory.py", "debug-inventory", "--json"], cwd=REPO,
                          env={k: v for k, v in {**os.environ, **env}.items() if v is not None},
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    return done.returncode, (json.loads(done.stdout) if done.returncode == 0 else done.stdout + done.stderr)


def test_the_droplet_only_when_named():
    code, hosts = inventory(BASTION_TARGET="droplet")
    assert code == 0
    assert [(h["name"], h["data"]["ssh_hostname"], h["data"]["ssh_user"]) for h in hosts] == \
        [("smoothcurves", "159.223.206.138", "root")]


def test_the_default_is_the_sandbox_and_says_so_when_none_is_up():
    code, output = inventory(BASTION_TARGET=None, BASTION_SANDBOX="bst-absent")
    assert code != 0
    assert "BASTION_TARGET=sandbox: no sandbox named 'bst-absent' is up" in output
    assert "159.223.206.138" not in output


def test_any_ssh_host_with_a_key_from_outside(tmp_path):
    key = tmp_path / "id_new_droplet"
    key.write_text("not read by debug-inventory\n")
    code, hosts = inventory(BASTION_TARGET="203.0.113.7", BASTION_SSH_KEY=str(key),
                            BASTION_SSH_KNOWN_HOSTS=str(tmp_path / "known_hosts"))
    assert code == 0
    [host] = hosts
    assert (host["name"], host["data"]["ssh_key"], host["data"]["ssh_strict_host_key_checking"]) == \
        ("203.0.113.7", str(key), "yes")


def test_a_missing_key_file_is_named():
    code, output = inventory(BASTION_TARGET="203.0.113.7", BASTION_SSH_KEY="/nonexistent/id")
    assert code != 0
    assert "BASTION_SSH_KEY=/nonexistent/id: no such key file" in output
