import json
import shlex
import time

import pytest

from tasks.backup_rules import snapshot_time
from tests.verify.test_service import exposure


def test_backup_and_check_timers_are_enabled_and_waiting(host, settings):
    for unit in (settings.dev_backup_unit, settings.dev_backup_check_unit):
        timer = host.service(f"{unit}.timer")
        assert timer.is_enabled, unit
        assert timer.is_running, unit


def calendar(host, timer: str) -> str:
    """The timer's schedule as systemd runs it (what `systemctl list-timers` counts down to)."""
    shown = host.check_output(f"systemctl show {timer} -p TimersCalendar --value")
    return shown.split("OnCalendar=", 1)[1].split(" ;", 1)[0].strip()


def normalized(host, schedule: str) -> str:
    out = host.check_output(f"systemd-analyze calendar {shlex.quote(schedule)}")
    return out.split("Normalized form:", 1)[1].splitlines()[0].strip()


def test_production_data_is_backed_up_too_where_there_is_production(host, settings, production_on_host):
    """Production's data root as the host shows it, not as the settings guess it."""
    if not production_on_host.found:
        pytest.skip("no production on this host: nothing of it to back up")
    timer = host.service(f"{settings.production_backup_unit}.timer")
    assert timer.is_enabled and timer.is_running
    assert calendar(host, f"{settings.production_backup_unit}.timer") == \
        normalized(host, settings.production_backup_schedule)
    assert exposure(host, f"{settings.production_backup_unit}.service") <= 6.0
    root = production_on_host.data_root
    wanted = {f"{root}/{entry}" for entry in ("instances", "projects", "roles") if host.file(f"{root}/{entry}").exists}
    if not wanted:
        pytest.skip(f"production's data root {root} holds none of the app's data yet (a new host)")
    listing = host.check_output(f"{settings.backup_restic_command} snapshots --no-lock --json --latest 1 "
                                f"--host {settings.backup_snapshot_host} --tag production,routine")
    [newest] = json.loads(listing)
    assert wanted <= set(newest["paths"]), newest["paths"]
    assert not {path for path in newest["paths"] for leftover in production_on_host.leftovers
                if path == leftover or path.startswith(leftover + "/")}, "leftovers have a snapshot of their own"
    assert time.time() - snapshot_time(newest["time"]) < 2 * 3600 + 600


def test_backup_scripts_are_root_owned(host, settings):
    for path in (settings.backup_restic_command, settings.dev_backup_script, settings.dev_backup_check_script):
        script = host.file(path)
        assert (script.user, script.group, script.mode) == ("root", "root", 0o755), path


def test_the_repository_password_is_root_only(host, settings):
    config = host.file(settings.backup_config_dir)
    assert (config.user, config.mode) == ("root", 0o700)
    password = host.file(f"{settings.backup_config_dir}/password")
    assert (password.user, password.mode) == ("root", 0o600)


def test_restic_is_the_distributions(host):
    assert host.package("restic").is_installed


def test_the_last_backup_succeeded_and_the_newest_snapshot_is_recent(host, settings):
    state = dict(line.split("=", 1) for line in host.file(f"{settings.bastion_state_dir}/backup.state")
                 .content_string.splitlines() if "=" in line)
    assert state["outcome"] == "ok", state.get("result")
    # Read-only against the repository: no lock taken, nothing written.
    listing = host.check_output(f"{settings.backup_restic_command} snapshots --no-lock --json --latest 1 "
                                f"--host {settings.backup_snapshot_host} --tag hacs-dev")
    newest = max(json.loads(listing), key=lambda snapshot: snapshot["time"])
    # hourly by default, with room for a late run.
    assert time.time() - snapshot_time(newest["time"]) < 2 * 3600 + 600


def test_the_root_oneshots_are_confined(host, settings):
    for unit in (settings.dev_backup_unit, settings.dev_backup_check_unit):
        assert exposure(host, f"{unit}.service") <= 6.0, unit
