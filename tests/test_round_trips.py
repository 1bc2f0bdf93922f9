"""The droplet is 50-150 ms away, so what counts is how often a run waits for it (batchssh): a run
already in its state sends one batch of facts and the health check, status.py one batch, the verify
suite one batch. `./bastion bench` turns these counts into seconds and round trips over a simulated
WAN; this keeps them from creeping back (a count, not a timing)."""
import json
import subprocess

import pytest
from pyinfra.api import Config, Inventory, State

import batchssh
from batchssh import hostfacts, natives, pipe
from sandbox import baseline
from sandbox.machine import Sandbox
from sandbox.wan import DelayedLink
from tests import harness
from tests.bench import through_link

# An SSH connection costs ~7 round trips and a command ~3 (channel, exec, output and exit status):
# 3 remote commands keep a no-op run within 20 round trips.
NO_OP_BUDGET = 3
# A cold converge of today's droplet, by the link's own count (63 measured, 92 with nothing learnt; issue 32's goal):
# one round trip per chain of operations run ahead, 31 here (docs/round-trips.md).
COLD_BUDGET = 100


@pytest.fixture(scope="module")
def sb(deployed_sandbox):
    return deployed_sandbox


def counted(tmp_path, run, *args, **kwargs) -> dict:
    """What batchssh counted of one run: remote commands, facts answered from the batch, uploads."""
    counts = tmp_path / "counts.jsonl"
    counts.unlink(missing_ok=True)
    run(*args, **kwargs, env={"BASTION_SSH_COUNTS": str(counts)})
    [line] = [json.loads(text) for text in counts.read_text().splitlines()]
    return line


def test_a_no_op_run_sends_one_batch_of_facts_and_the_health_check(sb, tmp_path):
    harness.deployed(sb)  # a first run with this command line learns its batch
    counts = counted(tmp_path, harness.deployed, sb)
    assert counts["remote_commands"] <= NO_OP_BUDGET, counts
    assert counts["file_transfers"] == 0
    assert counts["answered_from_batch"] >= 80, "every fact of the run came from the batch"


def test_status_asks_everything_in_one_round(sb, tmp_path):
    harness.deployed(sb, deploy_file="status.py")
    counts = counted(tmp_path, harness.deployed, sb, deploy_file="status.py")
    assert counts["remote_commands"] == 1, counts


def test_the_verify_suite_asks_everything_in_one_round(sb, tmp_path):
    assert harness.verify_suite(sb).returncode == 0
    counts = counted(tmp_path, harness.verify_suite, sb)
    assert counts["remote_commands"] <= 1, counts
    assert counts["answered_from_batch"] >= 40


def batch_on(sb, commands: list[str], natives_argument: str) -> dict:
    """The batch at connect as the connector sends it, answered by the sandbox."""
    done = subprocess.run(["ssh", "-F", str(sb.ssh_config), f"root@{sb.address}", batchssh.batch_command(natives_argument)],
                          input=batchssh.batch_input(commands).encode(), capture_output=True, timeout=120, check=True)
    return batchssh.batch_answers(done.stdout, commands)


def test_the_host_answers_file_and_unit_facts_as_its_shell_does(sb, settings):
    """Ubuntu's coreutils and systemd, not this machine's: every file, directory and link a deploy manages (and
    more), its File and hash facts answered by the interpreter (batchssh/hostfacts.py) as by the shell, and units'
    systemd facts by one systemctl as by one each. Times are left out of the comparison for paths others touch
    meanwhile; tests/unit compares them too, on paths only it touches."""
    inventory = Inventory((["h"], {}))
    templates = natives.templates(State(inventory, Config()), inventory.get_host("h"))
    listed = sb.ssh("find /etc/bastion /etc/systemd/system /etc/nginx /usr/local/sbin /srv/hacs-dev/checkout /var/lib/hacs-dev "
                    "/mnt -maxdepth 2 -regex '[A-Za-z0-9_@%+=:,./-]*' 2>/dev/null | head -400; echo /nonexistent/x").stdout
    paths = listed.split()
    commands = [path.join(templates[kind]) for path in paths for kind in ("stat", "sha1", "sha256")]
    assert sum(hostfacts.matched(command, templates) is not None for command in commands) == len(commands)
    # pyinfra's systemd facts, one systemctl for them all: every unit file's enablement, and the state of units
    # that hold still (a timer's service may start between the two readings).
    unit_files = sb.ssh("systemctl list-unit-files --no-legend | awk '{print $1}' | grep -v '@' | head -150").stdout.split()
    steady = [*sb.ssh("systemctl list-units --no-legend --plain --type=target | awk '{print $1}'").stdout.split(),
              "nginx.service", "ssh.service", settings.dev_unit, "nonexistent.service"]
    unit_files = [unit for unit in unit_files if hostfacts.UNIT.match(unit)]  # an escaped name (\x2d) goes to the shell
    units = [unit.join(templates["show:UnitFileState"]) for unit in unit_files + ["nonexistent.service"]] + \
        [unit.join(templates["show:SubState"]) for unit in steady]
    assert all(hostfacts.shown_unit(command, templates) for command in units)
    commands += units
    native, shell = batch_on(sb, commands, natives.argument(templates)), batch_on(sb, commands, "")
    assert len(native) == len(shell) == len(commands)
    differ = [command for command in commands if (native[command][0], pipe.loosened(native[command][1]), native[command][2])
              != (shell[command][0], pipe.loosened(shell[command][1]), shell[command][2])]
    assert differ == [], differ[:3]
    assert any(b" -> '" in native[command][1] for command in commands), "symlinks among them"
    assert sum(len(native[command][1]) == 0 for command in commands) < len(commands) / 2, "most exist"


def test_the_service_user_is_put_back_when_its_account_reads_otherwise(sb, settings):
    """pyinfra's Users fact reads every account's lastlog, shadow and groups (a fifth of a no-op's time on the host):
    server.user runs only when the account reads otherwise than wanted (tasks/service_user.py), and puts it back."""
    assert harness.deployed(sb).changed == []
    sb.ssh(f"usermod -s /bin/sh {settings.dev_user}")
    changed = harness.deployed(sb).changed
    assert any("Unprivileged system user" in name for name in changed), changed
    assert sb.ssh(f"getent passwd {settings.dev_user}").stdout.strip().endswith(":/usr/sbin/nologin")
    assert harness.deployed(sb).changed == []


def test_after_a_change_the_facts_are_read_afresh(sb, settings, tmp_path):
    """A fact answered from the batch is one read before anything changed: once a run changes something,
    every later fact goes to the host, so the run still converges in one go."""
    harness.deployed(sb)
    sb.ssh(f"echo '# edited by hand' >> {settings.dev_restart_script}; chmod 700 {settings.dev_follow_script}")
    counts = counted(tmp_path, harness.deployed, sb)
    assert counts["file_transfers"] >= 1 and counts["remote_commands"] > NO_OP_BUDGET, counts
    assert harness.deployed(sb).changed == [], "one run put everything back"
    assert sb.ssh(f"stat -c %a {settings.dev_follow_script}").stdout.strip() == "755"


def test_a_cold_converge_counts_its_round_trips(scratch, tmp_path):
    """Today's droplet, pristine, converged through the simulated link (no delay: the count is the protocol's),
    as a rebuild runs: from a machine whose earlier runs taught batchssh which facts each operation reads. An
    operation's commands and uploads go as one group over one channel (batchssh/groups.py, pipe.py), the operations
    after it that read their facts as foreseen run ahead in the same request, the next one's facts behind them."""
    sb = harness.with_layout(Sandbox(scratch.name, scratch.subnet, layout="2026"))
    counts, cache = tmp_path / "counts.jsonl", tmp_path / "cache"
    first = None
    for _ in (1, 2):  # the first has nothing learnt (a playbook never run from here), the second learnt from it
        baseline.up(sb)
        counts.unlink(missing_ok=True)
        with DelayedLink(sb.host_address, sb.address, rtt_ms=0, lifetime=900) as link:
            env, _ = through_link(sb, link, {}, tmp_path)
            run = harness.deploy(sb, env={**env, "BASTION_SSH_COUNTS": str(counts), "XDG_CACHE_HOME": str(cache)})
            first, round_trips = first or link.round_trips, link.round_trips
        assert run.returncode == 0, run.output[-3000:]
    [counted] = [json.loads(line) for line in counts.read_text().splitlines()]
    print(f"cold converge: {round_trips} round trips by the link's count ({first} with nothing learnt); {counted}")
    assert counted["groups"] > 0 and counted["answered_from_group"] > counted["groups"], "operations sent as groups"
    assert counted["answered_from_operation_batch"] > counted["facts_asked_alone"], counted
    assert counted["ran_ahead"] > counted["groups"], "most operations ran ahead, in the chain of the group before them"
    assert round_trips <= COLD_BUDGET, (round_trips, counted)
    assert harness.deployed(sb).changed == [], "what ran ahead is the converged droplet"


def test_a_failure_mid_run_stops_there_and_the_next_run_converges(scratch):
    """Through the run's interpreter as through pyinfra's own channels: the operation that fails is named with its
    output, the operations before it are done and none after it, and the next run converges."""
    sb = harness.with_layout(Sandbox(scratch.name, scratch.subnet, layout="2026"))
    s = sb.settings
    baseline.up(sb)
    sb.ssh("touch /etc/bastion")  # a file where bastion's configuration directory goes: the first write under it fails
    failed = harness.deploy(sb)
    assert failed.returncode != 0
    assert "/etc/bastion" in failed.output and "Not a directory" in failed.output, failed.output[-3000:]
    assert sb.ssh(f"id -u {s.dev_user}", check=False).returncode == 0, "an operation before it: done"
    assert sb.ssh(f"test -e {s.dev_checkout}/.git", check=False).returncode == 0, "an operation before it: done"
    assert sb.ssh(f"test -e /etc/systemd/system/{s.dev_unit}", check=False).returncode != 0, "none after it"
    sb.ssh("rm /etc/bastion")
    assert harness.deployed(sb).changed != []
    assert harness.deployed(sb).changed == [], "converged"
