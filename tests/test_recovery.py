"""Backups, restore and rebuild from a blank host, with the data back (issue: disaster recovery)."""
import json
import time

from tasks.backups import snapshot_time
from tests import harness


def test_production_snapshot_reads_production_and_backs_up_dev_first(pristine, settings):
    harness.deployed(pristine)
    dev_only = harness.call_tool(pristine, "bootstrap_v2", {"name": "DevOnly"})["instanceId"]
    prod = f"find {settings.production_data_dir} -type f -print0 | sort -z | xargs -0 sha256sum"
    production_before = pristine.ssh(prod).stdout
    run = harness.deploy(pristine, deploy_file="snapshot.py")
    assert run.returncode == 0, run.output[-4000:]
    assert pristine.ssh(prod).stdout == production_before
    marker = json.loads(pristine.ssh(f"cat {settings.dev_data_dir}/.bastion-snapshot.json").stdout)
    assert marker["snapshot_of"] == settings.production_data_dir
    assert pristine.ssh(f"test -f {settings.dev_data_dir}/projects/coordination-system-v2.json", check=False).returncode == 0
    assert pristine.ssh(f"stat -c %U {settings.dev_data_dir}/projects").stdout.strip() == settings.dev_user
    [pre] = json.loads(pristine.ssh(f"{settings.backup_restic_command} snapshots --json --tag pre-snapshot").stdout)
    listing = pristine.ssh(f"{settings.backup_restic_command} ls {pre['short_id']}").stdout
    assert f"/backup-stage/dev-data/instances/{dev_only}/preferences.json" in listing
    assert harness.call_tool(pristine, "get_server_status")["status"] == "operational"


def tree_checksums(sandbox, root: str) -> str:
    """Every data file's sha256, but the stand-in's .write-probe (rewritten by each /health)."""
    return sandbox.ssh(f"cd {root} && find . -type f ! -name '*.tmp' ! -name .write-probe -print0 | sort -z | "
                       f"xargs -0 sha256sum").stdout


def test_drill_the_droplet_dies_and_a_blank_host_is_rebuilt_from_the_backup_host(pristine, blank, vault, settings,
                                                                                  figures):
    """The real disaster: nobody takes a last backup. Sandbox A runs with hourly backups (every 20 s
    here) into the backup host; data is written through /mcp/dev; A dies; blank sandbox B is rebuilt
    from the backup host alone."""
    every = 20
    harness.deployed(pristine, *vault.settings("drill"), "--data", f"dev_backup_schedule=*:*:0/{every}")
    survivor = harness.call_tool(pristine, "bootstrap_v2", {"name": "Survivor"})["instanceId"]
    written = pristine.ssh("date -u +%FT%TZ").stdout.strip()
    state = f"{settings.bastion_state_dir}/backup.state"
    deadline = time.monotonic() + 3 * every
    while pristine.ssh(f"sed -n 's/^finished_at=//p' {state}").stdout.strip() <= written:
        assert time.monotonic() < deadline, "the timer took no backup after the write"
        time.sleep(1)
    on_a = tree_checksums(pristine, settings.dev_data_dir)
    restic = settings.backup_restic_command
    # What the backup host holds is what A holds: the newest snapshot, read back.
    [newest] = json.loads(pristine.ssh(f"{restic} snapshots --json --latest 1 --tag hacs-dev,routine").stdout)
    pristine.ssh(f"{restic} restore {newest['short_id']} --target /tmp/newest")
    assert tree_checksums(pristine, f"/tmp/newest{settings.bastion_state_dir}/backup-stage/dev-data") == on_a
    pristine.down()
    died = time.time()

    started = time.monotonic()
    blank.up()
    run = harness.deploy(
        blank, *vault.settings("drill"), "--data", "restore_from=latest", "--data", f"dev_repo_url={blank.upstream_url}",
        env={"BASTION_TARGET": blank.address, "BASTION_SSH_KEY": blank.connection()["ssh_key"],
             "BASTION_SSH_KNOWN_HOSTS": str(blank.known_hosts)})
    rto = time.monotonic() - started
    assert run.returncode == 0, run.output[-6000:]
    assert "self-signed" in run.output

    restored = blank.ssh(f"cat {settings.bastion_state_dir}/restored-from.snapshot").stdout.strip()
    assert restored == newest["short_id"], "latest is the newest snapshot A made"
    rpo = died - snapshot_time(newest["time"])
    figures["RPO, newest snapshot's age when the droplet died (20 s schedule)"] = f"{rpo:.1f} s"
    figures["RTO, blank host to healthy with data restored from the backup host"] = f"{rto:.1f} s"
    print(f"RPO: {rpo:.1f} s, RTO: {rto:.1f} s")

    assert tree_checksums(blank, settings.dev_data_dir) == on_a
    suite = harness.verify_suite(blank)
    assert suite.returncode == 0, suite.stdout[-4000:]
    assert harness.instances(blank) == [survivor]
    assert blank.ssh(f"test -e {settings.production_nginx_site}", check=False).returncode != 0
    assert "SELF-SIGNED" in blank.ssh(f"cat {settings.dev_nginx_site}").stdout
