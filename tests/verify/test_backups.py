from tests.verify.test_service import exposure


def test_backup_timer_is_enabled_and_waiting(host, settings):
    timer = host.service(f"{settings.dev_backup_unit}.timer")
    assert timer.is_enabled
    assert timer.is_running


def test_backup_and_restore_scripts_are_root_owned(host, settings):
    for path in (settings.dev_backup_script, settings.dev_restore_script):
        script = host.file(path)
        assert (script.user, script.group, script.mode) == ("root", "root", 0o755), path


def test_backups_directory_is_private_and_outside_the_data(host, settings):
    backups = host.file(settings.dev_backups_dir)
    assert (backups.user, backups.mode) == ("root", 0o700)
    assert not settings.dev_backups_dir.startswith(settings.dev_data_dir + "/")


def test_every_backup_matches_its_checksum(host, settings):
    assert host.run(f"cd {settings.dev_backups_dir} && for sum in $(ls *.sha256 2>/dev/null); do "
                    f"sha256sum --quiet -c $sum || exit 1; done").rc == 0


def test_the_root_oneshot_is_confined(host, settings):
    assert exposure(host, f"{settings.dev_backup_unit}.service") <= 6.0
