"""Backups, restore and rebuild from a blank host, with the data back (issue: disaster recovery)."""
import hashlib
import json
import time

from tests import harness


def instances(sandbox) -> list[str]:
    return [i["instanceId"] for i in harness.call_tool(sandbox, "get_all_instances")["instances"]]


def archives(sandbox, settings):
    return sandbox.ssh(f"cd {settings.dev_backups_dir} && ls -1 v2-dev-data-*.tar.gz 2>/dev/null", check=False).stdout.split()


def test_backup_now_is_checked_recorded_and_fetched(pristine, settings, tmp_path):
    harness.deployed(pristine)
    pristine.ssh(f"echo WAKE_API_KEY=for-the-backup > {settings.dev_env_file}")
    run = harness.deploy(pristine, "--data", f"local_backups_dir={tmp_path}", deploy_file="backup.py")
    assert run.returncode == 0, run.output[-4000:]
    [archive] = archives(pristine, settings)
    fetched = tmp_path / "sandbox" / archive
    want = (tmp_path / "sandbox" / f"{archive}.sha256").read_text().split()[0]
    assert hashlib.sha256(fetched.read_bytes()).hexdigest() == want
    [secrets] = (tmp_path / "sandbox").glob("secrets-*.env")
    assert oct(secrets.stat().st_mode & 0o777) == "0o600"
    journal = pristine.ssh(f"journalctl -u {settings.dev_backup_unit}.service --no-pager -o cat").stdout
    assert f"hacs-dev-backup: ok {archive}" in journal
    remote_secrets = pristine.ssh(f"stat -c %a {settings.dev_backups_dir}/secrets/{secrets.name}").stdout.strip()
    assert remote_secrets == "600"
    assert "for-the-backup" not in run.output


def test_retention_keeps_the_last_n_and_never_a_labelled_one(pristine, settings):
    harness.deployed(pristine, "--data", "dev_backup_keep=2")
    pristine.ssh(f"{settings.dev_backup_script} --label pre-restore")
    for _ in range(4):
        pristine.ssh(f"sleep 1.1; {settings.dev_backup_script}")
    names = archives(pristine, settings)
    assert len([n for n in names if n.endswith("Z.tar.gz")]) == 2
    assert any(n.endswith("-pre-restore.tar.gz") for n in names)
    assert pristine.ssh(f"ls {settings.dev_backups_dir}/*.sha256 | wc -l").stdout.strip() == "3"


def test_restore_backs_up_what_it_replaces(pristine, settings):
    harness.deployed(pristine)
    old = harness.call_tool(pristine, "bootstrap_v2", {"name": "FirstLife"})["instanceId"]
    pristine.ssh(settings.dev_backup_script)
    [archive] = archives(pristine, settings)
    newer = harness.call_tool(pristine, "bootstrap_v2", {"name": "AfterTheBackup"})["instanceId"]
    run = harness.deployed(pristine, "--data", f"restore_from=host:{settings.dev_backups_dir}/{archive}")
    assert "Restore | Restore the dev data from" in " ".join(run.changed)
    assert instances(pristine) == [old]
    pre = [n for n in archives(pristine, settings) if n.endswith("-pre-restore.tar.gz")]
    assert len(pre) == 1
    listing = pristine.ssh(f"tar -tzf {settings.dev_backups_dir}/{pre[0]}").stdout
    assert f"instances/{newer}/preferences.json" in listing
    again = harness.deployed(pristine, "--data", f"restore_from=host:{settings.dev_backups_dir}/{archive}")
    assert again.changed == [], "the same archive is restored once"


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
    [pre] = [n for n in archives(pristine, settings) if n.endswith("-pre-snapshot.tar.gz")]
    assert f"instances/{dev_only}/" in pristine.ssh(f"tar -tzf {settings.dev_backups_dir}/{pre}").stdout
    assert harness.call_tool(pristine, "get_server_status")["status"] == "operational"


def test_drill_rebuild_a_blank_host_from_a_backup(pristine, blank, settings, tmp_path, figures):
    # Sandbox A, with production: deploy, write through the app, back up, fetch, destroy A.
    harness.deployed(pristine)
    survivor = harness.call_tool(pristine, "bootstrap_v2", {"name": "Survivor"})["instanceId"]
    run = harness.deploy(pristine, "--data", f"local_backups_dir={tmp_path}", deploy_file="backup.py")
    assert run.returncode == 0, run.output[-4000:]
    on_a = pristine.ssh(f"sha256sum < {settings.dev_data_dir}/instances/{survivor}/preferences.json").stdout
    [archive] = (tmp_path / "sandbox").glob("v2-dev-data-*.tar.gz")
    pristine.down()

    # Sandbox B, blank: one command rebuilds it with that backup.
    started = time.monotonic()
    blank.up()
    run = harness.deploy(
        blank, "--data", f"restore_from={archive}", "--data", f"dev_repo_url={blank.upstream_url}",
        env={"BASTION_TARGET": blank.address, "BASTION_SSH_KEY": blank.connection()["ssh_key"],
             "BASTION_SSH_KNOWN_HOSTS": str(blank.known_hosts)})
    rto = time.monotonic() - started
    assert run.returncode == 0, run.output[-6000:]
    assert "self-signed" in run.output
    figures["RTO, blank host to healthy with data restored"] = f"{rto:.1f} s"
    print(f"RTO: {rto:.1f} s")

    suite = harness.verify_suite(blank)
    assert suite.returncode == 0, suite.stdout[-4000:]
    on_b = blank.ssh(f"sha256sum < {settings.dev_data_dir}/instances/{survivor}/preferences.json").stdout
    assert on_b == on_a
    assert instances(blank) == [survivor]
    assert blank.ssh(f"test -e {settings.production_nginx_site}", check=False).returncode != 0
    assert "SELF-SIGNED" in blank.ssh(f"cat {settings.dev_nginx_site}").stdout
