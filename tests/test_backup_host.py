"""The backup host (tasks/backup_host.py, backup_host.py): root on the droplet adds snapshots and reads them,
and cannot delete or overwrite one through its repository access; retention and the check run on the
backup host, by its own timers; a blank host still restores from it."""
import json
import shlex
import time

import pytest

from sandbox import baseline
from tests import harness

PROBE = harness.REPO / "tests" / "probes" / "ping_receiver.py"
PINGS = "/root/pings.log"


def backup_host_state(vault, name: str) -> dict:
    out = vault.ssh(f"cat /var/lib/bastion-backup-host/{name}.state 2>/dev/null || true").stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def pings(vault) -> list[str]:
    return [json.loads(line)["path"] for line in vault.ssh(f"cat {PINGS} 2>/dev/null || true").stdout.splitlines()]


@pytest.fixture(scope="module")
def kept(vault, tmp_path_factory):
    """The repository "kept" on the backup host, set up by backup_host.py; the droplet's settings for it."""
    password = tmp_path_factory.mktemp("backup-host") / "password"
    settings = (*vault.append_only_settings("kept"), "--data", f"backup_password_file={password}")
    vault.ssh(f"cat > /root/ping_receiver.py <<'EOF'\n{PROBE.read_text()}EOF\n"
              f"systemd-run --quiet --unit=ping-receiver python3 /root/ping_receiver.py 8089 {PINGS}")
    harness.deployed(vault.machine, *settings, "--data", "backup_host_prune_schedule=*:*:0/20",
                     "--data", "backup_host_check_schedule=*:*:10/20", "--data", 'dev_backup_retention={"last": 2}',
                     "--data", "backup_host_prune_ping_url=http://127.0.0.1:8089/prune",
                     "--data", "backup_check_ping_url=http://127.0.0.1:8089/check", deploy_file="backup_host.py")
    return settings


@pytest.fixture(scope="module")
def droplet(scratch, vault, kept):
    """The droplet, first with the full-access repository of before, then switched to the append-only one."""
    baseline.up(scratch)
    harness.deployed(scratch, *vault.settings("before-append-only"), *kept[-2:])  # the same password
    assert scratch.ssh(f"systemctl is-enabled {scratch.settings.dev_backup_check_unit}.timer").stdout.strip() == "enabled"
    scratch.switched = harness.deployed(scratch, *kept)
    return scratch


def snapshot_ids(sb) -> list[str]:
    listing = sb.ssh(f"{sb.settings.backup_restic_command} snapshots --no-lock --json").stdout
    return sorted(s["id"] for s in json.loads(listing))


def test_the_droplet_backs_up_into_it_and_stops_pruning_and_checking(droplet, kept):
    s = droplet.settings
    state = droplet.ssh(f"cat {s.bastion_state_dir}/backup.state").stdout
    assert "outcome=ok" in state and "retention on the backup host" in state, state
    assert '"$restic" forget' not in droplet.ssh(f"cat {s.dev_backup_script} {s.production_backup_script}").stdout
    assert droplet.ssh(f"systemctl is-enabled {s.dev_backup_check_unit}.timer", check=False).stdout.strip() == "disabled"
    assert droplet.ssh(f"systemctl is-active {s.dev_backup_check_unit}.timer", check=False).stdout.strip() == "inactive"
    assert len(snapshot_ids(droplet)) >= 2, "the dev data's and production's, read back through the same access"
    text = harness.status(droplet, "text", *kept)
    assert "(off the host); append-only from here" in text
    assert "last check on the backup host (bastion-repository-check.timer" in text


def refused_by_the_server(droplet, command: str) -> str:
    """The first refusal the append-only server gives restic's command. restic retries a refused removal for
    minutes: once it has one, it is interrupted as a person would (Ctrl-C), and so lets go of its lock."""
    out = f"/tmp/refused-{time.monotonic_ns()}"
    return droplet.ssh(
        f"{command} > {out} 2>&1 & pid=$!; "
        f"for i in $(seq 600); do grep -q '403 Forbidden' {out} && break; kill -0 $pid 2>/dev/null || break; "
        f"sleep 0.1; done; kill -INT $pid 2>/dev/null; wait $pid; grep -m 1 -o '403 Forbidden' {out}",
        check=False).stdout.strip()


def test_root_on_the_droplet_cannot_delete_or_overwrite_a_snapshot(droplet, vault):
    s, restic = droplet.settings, droplet.settings.backup_restic_command
    before = snapshot_ids(droplet)
    files = vault.ssh("cd /srv/restic/kept && find snapshots index keys data -type f | sort | xargs sha256sum").stdout
    for forget in (f"forget {before[0]}", "forget --group-by '' --keep-last 1 --prune"):
        assert refused_by_the_server(droplet, f"{restic} {forget}") == "403 Forbidden", forget
    # Interrupted, restic let go of its lock (the server lets a lock go): the backups after these go on.
    harness.wait_until(lambda: vault.ssh("ls /srv/restic/kept/locks | wc -l").stdout.strip() == "0", 30,
                       "no lock left in the repository")
    # The key itself, as an intruder would use it: no shell, no sftp; the forced server ignores the command.
    ssh = (f"ssh -i {s.backup_config_dir}/ssh-key -o IdentitiesOnly=yes -o BatchMode=yes "
           f"-o UserKnownHostsFile={s.backup_config_dir}/known_hosts restic@{vault.machine.address}")
    # (what answers is rclone's HTTP/2 on stdout, binary: discarded)
    droplet.ssh(f"{ssh} 'rm -rf /srv/restic/kept' < /dev/null > /dev/null 2>&1", check=False)
    assert droplet.ssh(f"echo 'rm snapshots/{before[0]}' | sftp -b - -o IdentityFile={s.backup_config_dir}/ssh-key "
                       f"-o UserKnownHostsFile={s.backup_config_dir}/known_hosts restic@{vault.machine.address} "
                       f"> /dev/null 2>&1", check=False).returncode != 0
    # restic's REST API spoken to the server directly (HTTP/2 over the ssh channel): overwrite, delete.
    droplet.ssh("command -v socat >/dev/null || apt-get install -y -q socat >/dev/null")
    bridge = f"socat TCP-LISTEN:8999,bind=127.0.0.1,reuseaddr,fork EXEC:{shlex.quote(ssh)}"
    droplet.ssh(f"systemd-run --quiet --unit=intruder-bridge sh -c {shlex.quote(bridge)}")
    harness.wait_until(lambda: droplet.ssh("ss -Htln 'sport = :8999'").stdout.strip() != "", 10)
    try:
        curl = "curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code}' "
        api = f"http://127.0.0.1:8999/snapshots/{before[0]}"
        assert droplet.ssh(curl + api).stdout == "200", "reading is allowed"
        assert droplet.ssh(curl + f"-X POST --data-binary forged {api}").stdout == "403"
        assert droplet.ssh(curl + f"-X DELETE {api}").stdout == "403"
        key = vault.ssh("ls /srv/restic/kept/keys | head -n 1").stdout.strip()
        assert droplet.ssh(curl + f"-X DELETE http://127.0.0.1:8999/keys/{key}").stdout == "403"
    finally:
        droplet.ssh("systemctl stop intruder-bridge", check=False)
    assert set(before) <= set(snapshot_ids(droplet)), "every snapshot is still there (a timer may have added one)"
    after = vault.ssh("cd /srv/restic/kept && find snapshots index keys data -type f | sort | xargs sha256sum").stdout
    assert set(files.splitlines()) <= set(after.splitlines()), "no file of the repository changed or went"


def test_a_schedule_the_backup_hosts_systemd_cannot_read_is_refused_before_it_changes(vault, kept):
    """As the droplet's are: refused in one line before anything changes (the timer would be refused at its start,
    after its unit was written). The repository and the timers' state change on their own here: what the run
    would write is watched (/etc, /usr/local, the repository user's home)."""
    harness.mark(vault.machine)
    run = harness.deploy(vault.machine, *kept, "--data", "backup_host_check_schedule=every tuesday",
                         deploy_file="backup_host.py")
    assert run.returncode != 0
    assert harness.preflight_lines(run) == [
        "backup_host_check_schedule=every tuesday: the host's systemd cannot read it as a calendar (systemd-analyze "
        "calendar refuses it); give systemd's OnCalendar= syntax, e.g. hourly, daily or *:0/15"]
    changed = vault.machine.ssh("find /etc /usr/local /home \\( -newer /run/bastion-test-marker -o -cnewer "
                                "/run/bastion-test-marker \\) -print").stdout.split()
    assert changed == []
    schedule = vault.machine.ssh("systemctl show -p TimersCalendar --value bastion-repository-check.timer").stdout
    assert "*-*-* *:*:10/20" in schedule, schedule


def test_the_backup_hosts_own_timers_keep_the_policy_and_check_it(droplet, vault):
    s = droplet.settings
    for _ in range(3):
        assert droplet.ssh(f"systemctl start {s.dev_backup_unit}.service", check=False).returncode == 0, \
            droplet.ssh(f"journalctl --no-pager -o cat -n 15 -u {s.dev_backup_unit}", check=False).stdout
    droplet.ssh(f"{s.dev_backup_script} --label before-something")
    mark = backup_host_state(vault, "prune").get("finished_at", "")
    # A prune that began before the last backup may not have seen it: wait for two turns.
    harness.wait_until(lambda: backup_host_state(vault, "prune").get("finished_at", "") > mark, 90)
    mark = backup_host_state(vault, "prune")["finished_at"]
    harness.wait_until(lambda: backup_host_state(vault, "prune").get("finished_at", "") > mark, 90)
    assert backup_host_state(vault, "prune")["outcome"] == "ok", backup_host_state(vault, "prune")

    def all_snapshots():
        return json.loads(droplet.ssh(f"{s.backup_restic_command} snapshots --no-lock --json").stdout)

    # The policy (last 2) kept; a routine backup the timer adds meanwhile goes at the next turn.
    harness.wait_until(lambda: len([x for x in all_snapshots() if set(x["tags"]) == {"hacs-dev", "routine"}]) == 2, 60)
    listing = all_snapshots()
    assert any("before-something" in x["tags"] for x in listing), "a labelled snapshot is never forgotten"
    assert any("production" in x["tags"] for x in listing), "production's series kept by its own count"
    harness.wait_until(lambda: backup_host_state(vault, "check").get("outcome") == "ok", 90)
    sent = pings(vault)
    assert {"/prune/start", "/prune", "/check/start", "/check"} <= set(sent), sent
    journal = vault.ssh("journalctl -o cat --no-pager -u bastion-repository-prune -u bastion-repository-check "
                        "| grep '^bastion-repository'").stdout
    assert "/prune/fail" not in sent and "/check/fail" not in sent, journal
    units = vault.ssh("systemctl show -p User --value bastion-repository-prune.service").stdout.strip()
    assert units == "restic", "the upkeep runs as the repository's user, not root"


def test_a_blank_host_restores_through_the_append_only_access(droplet, blank, kept):
    s = droplet.settings
    droplet.ssh(f"echo appended > {s.dev_data_dir}/restored-through-append-only.txt && "
                f"chown {s.dev_user}: {s.dev_data_dir}/restored-through-append-only.txt")
    assert droplet.ssh(f"systemctl start {s.dev_backup_unit}.service", check=False).returncode == 0
    blank.up()
    harness.deployed(blank, *kept, "--data", "restore_from=latest", "--data", f"dev_repo_url={blank.upstream_url}",
                     env=harness.by_address(blank))
    assert blank.ssh(f"cat {s.dev_data_dir}/restored-through-append-only.txt").stdout.strip() == "appended"
