"""Backups with restic, off the host (issue: backups that survive the droplet): the first backup at the
first deploy, backup.py, retention, the import of the tar archives of before, the scheduled check, and
the ways a backup fails (a damaged repository, a wrong password, an unreachable backup host)."""
import json
import re

from tests import harness


def snapshots(sandbox, settings, tag: str = "", latest: bool = False) -> list[dict]:
    """The dev data's snapshots (production's, tagged production, sit beside them), those with tag if given."""
    listing = sandbox.ssh(f"{settings.backup_restic_command} snapshots --no-lock --json "
                          f"--tag hacs-dev{',' + tag if tag else ''}{' --latest 1' if latest else ''}").stdout
    return json.loads(listing)


def journal(sandbox, unit: str) -> str:
    return sandbox.ssh(f"journalctl -u {unit}.service --no-pager -o cat").stdout


def test_the_first_deploy_takes_a_backup_and_later_ones_follow_the_credentials_and_the_policy(pristine, settings,
                                                                                                  tmp_path):
    """The first deploy's backup and where status says it lives; then, on the same host, what later deploys
    change: a rotated key or credential replaces the host's copy (unlike the password, which opens the data),
    never shown; retention forgets routine snapshots and never a labelled one."""
    credentials = tmp_path / "restic.env"
    credentials.write_text("RESTIC_COMPRESSION=auto\n")
    harness.deployed(pristine, "--data", f"backup_credentials_file={credentials}")
    report = harness.status(pristine)["backup"]
    assert report["newest_snapshot"]["age_seconds"] < 120
    assert report["last_run"]["outcome"] == "ok"
    assert report["off_host"] is False
    text = harness.status(pristine, "text")
    assert "ON THIS HOST: it does not survive the droplet" in text
    # The first deploy's, and the timer's too when the hour turned meanwhile (hourly, on the hour: seen once).
    taken = snapshots(pristine, settings)
    assert 1 <= len(taken) <= 2, taken
    for snapshot in taken:
        assert set(snapshot["tags"]) == {"hacs-dev", "routine"}
        assert snapshot["hostname"] == settings.backup_snapshot_host

    credentials.write_text("RESTIC_COMPRESSION=max\n")
    run = harness.deployed(pristine, "--data", f"backup_credentials_file={credentials}", "--diff")
    assert "restic credentials in" in " ".join(run.changed)
    assert "RESTIC_COMPRESSION" not in run.output, "--diff shows no secret"
    on_host = f"{settings.backup_config_dir}/credentials.env"
    assert pristine.ssh(f"cat {on_host}; stat -c %a {on_host}").stdout.split() == ["RESTIC_COMPRESSION=max", "600"]
    assert "hacs-dev-backup: ok" in pristine.ssh(settings.dev_backup_script).stdout

    harness.deployed(pristine, "--data", f"backup_credentials_file={credentials}",
                     "--data", 'dev_backup_retention={"last": 2}')
    pristine.ssh(f"{settings.dev_backup_script} --label pre-restore")
    for _ in range(3):
        pristine.ssh(settings.dev_backup_script)
    tags = [tuple(sorted(s["tags"])) for s in snapshots(pristine, settings)]
    assert tags.count(("hacs-dev", "routine")) == 2
    assert tags.count(("hacs-dev", "kept", "pre-restore")) == 1
    # Run over ssh, not from systemd: its result line is in the state file, not in the unit's journal.
    assert "forgot 1 by the policy" in pristine.ssh(f"cat {settings.bastion_state_dir}/backup.state").stdout


def test_backup_now_goes_off_host_with_the_secrets_encrypted(pristine, vault, settings, tmp_path):
    harness.deployed(pristine, *vault.settings("now"))
    secret = "WAKE_API_KEY=only-in-the-encrypted-repository"
    pristine.ssh(f"echo {secret} > {settings.dev_env_file}")
    instance = harness.call_tool(pristine, "bootstrap_v2", {"name": "BackedUp"})["instanceId"]
    before = harness.invocation(pristine, settings.dev_unit)
    fetched_password = tmp_path / "password"
    run = harness.deploy(pristine, *vault.settings("now"), "--data", f"backup_password_file={fetched_password}",
                         deploy_file="backup.py")
    assert run.returncode == 0, run.output[-4000:]
    result = re.search(r"hacs-dev-backup: ok: snapshot ([0-9a-f]{8}) .*server paused (\d+) ms", run.output)
    assert result, run.output[-3000:]
    assert int(result[2]) < 2000, "the server pauses for the copy only"
    assert f"{result[1]}  " in run.output, "backup.py lists the snapshots"
    assert "only-in-the-encrypted" not in run.output
    # Served throughout: the same run of the unit, answering.
    assert harness.invocation(pristine, settings.dev_unit) == before
    assert harness.call_tool(pristine, "get_server_status")["status"] == "operational"
    # On the backup host: a restic repository, the secret nowhere in clear.
    assert vault.ssh("test -f /srv/restic/now/config && ! grep -rq only-in-the-encrypted /srv/restic/now",
                     check=False).returncode == 0
    dump = f"{settings.backup_restic_command} dump {result[1]} {settings.bastion_state_dir}/backup-stage"
    assert pristine.ssh(f"{dump}/secrets.env").stdout.strip() == secret
    assert pristine.ssh(f"{dump}/dev-data/instances/{instance}/preferences.json", check=False).returncode == 0
    # The operator's copy of the password, fetched because it was missing here.
    assert oct(fetched_password.stat().st_mode & 0o777) == "0o600"
    assert fetched_password.read_text() == pristine.ssh(f"cat {settings.backup_config_dir}/password").stdout
    report = harness.status(pristine, "json", *vault.settings("now"))["backup"]
    # The hourly timer may have fired since backup.py (at the hour): the status names the newest, whoever took it.
    listing = json.loads(pristine.ssh(f"{settings.backup_restic_command} snapshots --no-lock --json "
                                      f"--host {settings.backup_snapshot_host} --tag hacs-dev").stdout)
    assert result[1] in {snapshot["short_id"] for snapshot in listing}
    newest = max(listing, key=lambda snapshot: snapshot["time"])["short_id"]
    assert report["off_host"] is True and report["newest_snapshot"]["id"] == newest


def test_restore_from_a_snapshot_backs_up_what_it_replaces(pristine, settings):
    harness.deployed(pristine)
    old = harness.call_tool(pristine, "bootstrap_v2", {"name": "FirstLife"})["instanceId"]
    pristine.ssh(settings.dev_backup_script)
    [snapshot] = [s["short_id"] for s in snapshots(pristine, settings, latest=True)]
    newer = harness.call_tool(pristine, "bootstrap_v2", {"name": "AfterTheBackup"})["instanceId"]
    run = harness.deployed(pristine, "--data", f"restore_from={snapshot}")
    assert f"Restore | Restore the dev data from snapshot {snapshot}" in " ".join(run.changed)
    assert f"now holds snapshot {snapshot}" in run.output
    assert harness.instances(pristine) == [old]
    [pre] = snapshots(pristine, settings, "pre-restore")
    dump = f"{settings.backup_restic_command} dump {pre['short_id']} {settings.bastion_state_dir}/backup-stage/dev-data"
    assert pristine.ssh(f"{dump}/instances/{newer}/preferences.json", check=False).returncode == 0
    again = harness.deployed(pristine, "--data", f"restore_from={snapshot}")
    assert again.changed == [], "the same snapshot is restored once"
    latest = harness.deployed(pristine, "--data", "restore_from=latest")
    assert latest.changed == [], "latest is for a host that restored nothing yet"
    # pyinfra's --data reads 53949330 as a number; the rerun after its restore crashed on it (one short id in
    # forty is digits alone, so a real snapshot cannot be asked for: the marker says it was restored).
    pristine.ssh(f"echo 53949330 > {settings.bastion_state_dir}/restored-from.snapshot")
    digits = harness.deployed(pristine, "--data", "restore_from=53949330")
    assert digits.changed == [], "the snapshot the marker names is not restored again"


def test_tar_archives_of_before_restic_still_restore_and_are_imported_once(pristine, settings):
    harness.deployed(pristine)
    old = harness.call_tool(pristine, "bootstrap_v2", {"name": "TarDays"})["instanceId"]
    name = "v2-dev-data-20261101T020304Z.tar.gz"
    backups, data = settings.dev_backups_dir, settings.dev_data_dir
    # An archive as the tar backups made them: the data directory, its .sha256, the secrets apart.
    pristine.ssh(f"tar -C {data}/.. -czf {backups}/{name} $(basename {data}) && cd {backups} && "
                 f"sha256sum {name} > {name}.sha256 && mkdir -p secrets && "
                 f"echo WAKE_API_KEY=from-the-tar-days > secrets/secrets-20261101T020304Z.env")
    harness.call_tool(pristine, "bootstrap_v2", {"name": "Later"})
    run = harness.deployed(pristine, "--data", f"restore_from=host:{backups}/{name}")
    assert harness.instances(pristine) == [old]
    assert "Restore | Restore the dev data from " + name in " ".join(run.changed)
    # The restore's own backup of what it replaced was the first run to see the archive.
    assert "imported 1 tar archive(s)" in run.output
    assert "imported" not in pristine.ssh(settings.dev_backup_script).stdout, "imported once"
    [imported] = snapshots(pristine, settings, "imported")
    assert imported["time"].startswith("2026-11-01T02:03:04")
    dump = f"{settings.backup_restic_command} dump {imported['short_id']} {settings.bastion_state_dir}/backup-stage"
    assert pristine.ssh(f"{dump}/secrets.env").stdout.strip() == "WAKE_API_KEY=from-the-tar-days"
    assert pristine.ssh(f"test -f {backups}/{name}", check=False).returncode == 0, "the archive stays"


def test_a_damaged_pack_is_found_by_the_scheduled_check_and_shown_by_status(pristine, vault, settings):
    setting = (*vault.settings("damaged"), "--data", "dev_backup_check_read_data=100%")
    harness.deployed(pristine, *setting)
    check = settings.dev_backup_check_unit
    assert pristine.ssh(f"systemctl start {check}.service", check=False).returncode == 0
    # Flip bytes in the middle of one pack on the backup host (restic's files are read-only there).
    vault.ssh("pack=$(find /srv/restic/damaged/data -type f | head -n 1) && chmod u+w $pack && "
              "printf 'DAMAGED' | dd of=$pack bs=1 seek=40 conv=notrunc status=none")
    assert pristine.ssh(f"systemctl start {check}.service", check=False).returncode != 0
    assert f"hacs-dev-backup-check: FAILED: {vault.url('damaged')} has errors" in journal(pristine, check)
    report = harness.status(pristine, "json", *setting)["backup"]["last_check"]
    assert report["outcome"] == "failed"
    assert "FAILED" in harness.status(pristine, "text", *setting)


def test_a_wrong_password_fails_with_one_line(pristine, scratch, vault, settings, tmp_path):
    (tmp_path / "first").write_text("the repository's own\n")
    (tmp_path / "other").write_text("not the repository's\n")
    harness.deployed(pristine, *vault.settings("password"), "--data", f"backup_password_file={tmp_path / 'first'}")
    # Here: the host's copy opens the repository, and the deploy will not replace it.
    mismatch = harness.deploy(pristine, *vault.settings("password"), "--data", f"backup_password_file={tmp_path / 'other'}")
    assert mismatch.returncode != 0
    assert f"backup_password_file={tmp_path / 'other'}: differs from the host's" in mismatch.output
    assert "nothing on the host was changed" in mismatch.output
    # A new host given the wrong one: restic's refusal, in one line naming the setting.
    from sandbox import baseline
    baseline.up(scratch)
    wrong = harness.deploy(pristine, *vault.settings("password"), "--data", f"backup_password_file={tmp_path / 'other'}")
    assert wrong.returncode != 0
    line = (f"bastion-restic: FAILED: the password in {settings.backup_config_dir}/password does not open "
            f"{vault.url('password')}; give the repository's own in backup_password_file")
    assert line in wrong.output


def test_an_unreachable_repository_fails_the_backup_visibly_and_the_server_runs_on(pristine, vault, settings):
    harness.deployed(pristine, *vault.settings("unreachable"))
    before = harness.invocation(pristine, settings.dev_unit)
    vault.reachable(False)
    try:
        failed = pristine.ssh(f"systemctl start {settings.dev_backup_unit}.service", check=False)
    finally:
        vault.reachable(True)
    assert failed.returncode != 0
    assert (f"hacs-dev-backup: FAILED: {vault.url('unreachable')} unreachable or failing (backup_repository)"
            in journal(pristine, settings.dev_backup_unit))
    assert pristine.ssh(f"systemctl is-failed {settings.dev_backup_unit}.service", check=False).stdout.strip() == "failed"
    assert harness.invocation(pristine, settings.dev_unit) == before
    assert pristine.ssh(f"ps -o stat= -p $(systemctl show -p MainPID --value {settings.dev_unit})").stdout.strip()[0] != "T"
    assert harness.call_tool(pristine, "get_server_status")["status"] == "operational"
    assert harness.status(pristine, "json", *vault.settings("unreachable"))["backup"]["last_run"]["outcome"] == "failed"
