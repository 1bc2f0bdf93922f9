"""The dev environment's bounds (tasks/bounds.py): its slice, the disk floor's timer, the log cap."""
from tests.verify.test_service import exposure


def show(host, unit: str, *properties: str) -> dict:
    out = host.check_output(f"systemctl show {' '.join(f'-p {p}' for p in properties)} {unit}")
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_the_slice_carries_the_bounds(host, settings):
    shown = show(host, settings.dev_slice, "MemoryMax", "MemoryHigh", "TasksMax", "CPUWeight", "IOWeight", "LoadState")
    assert shown["LoadState"] == "loaded"
    assert shown["TasksMax"] == str(settings.dev_tasks_max)
    assert (shown["CPUWeight"], shown["IOWeight"]) == (str(settings.dev_cpu_weight), str(settings.dev_io_weight))
    assert shown["MemoryMax"].isdigit() and shown["MemoryHigh"].isdigit()


def test_every_dev_unit_runs_in_the_slice(host, settings):
    for unit in (settings.dev_unit, f"{settings.dev_proxy_unit}.service", f"{settings.dev_follow_unit}.service",
                 f"{settings.dev_backup_unit}.service", f"{settings.dev_backup_check_unit}.service",
                 f"{settings.dev_bounds_unit}.service"):
        assert show(host, unit, "Slice")["Slice"] == settings.dev_slice, unit


def test_the_disk_floor_is_watched_and_not_crossed(host, settings):
    timer = host.service(f"{settings.dev_bounds_unit}.timer")
    assert timer.is_enabled and timer.is_running
    assert exposure(host, f"{settings.dev_bounds_unit}.service") <= 6.0
    assert host.run(f"{settings.dev_bounds_script} --check").rc == 0, "above the floor"


def test_the_apps_logs_are_capped(host, settings):
    rotation = host.file(settings.dev_logrotate_conf).content_string
    assert f"{settings.dev_checkout}/logs/*.log" in rotation and f"size {settings.dev_log_max}" in rotation
    assert host.run(f"logrotate --debug {settings.dev_logrotate_conf}").rc == 0
