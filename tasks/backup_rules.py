"""What the backup settings must satisfy, and how a restic repository or a snapshot setting reads: pure functions
of the settings, no host and no pyinfra (tests/unit/test_rules.py). Each problem is one line: the setting, what is
wrong, the fix."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from tasks import REPO
from tasks.production_view import within
from tasks.rules import UNIT_UNSAFE, UNSET, whole_number

RESTIC_SCHEMES = ("local", "sftp", "rest", "s3", "b2", "azure", "gs", "swift", "rclone")


RETENTION_PERIODS = ("last", "hourly", "daily", "weekly", "monthly", "yearly")


SFTP_SHORT = re.compile(r"^sftp:(?P<login>[^/:]+):(?P<path>/.*)$")


SFTP_URL = re.compile(r"^sftp://(?P<login>[^/:]+)(:(?P<port>\d+))?/(?P<path>.+)$")



def sftp_target(repository: str) -> dict | None:
    """user@host and port of an sftp repository (restic's two spellings), else None."""
    found = SFTP_SHORT.match(repository) or SFTP_URL.match(repository)
    if not found:
        return None
    path = found["path"] if found.re is SFTP_SHORT else "/" + found["path"]
    return {"login": found["login"], "port": found.groupdict().get("port"), "path": path,
            "user": found["login"].split("@")[0] if "@" in found["login"] else None}



def local_repository(repository: str) -> str | None:
    """The path of a repository on the host itself (it does not survive the droplet), else None."""
    if repository.startswith("local:"):
        return repository[len("local:"):]
    return repository if repository.startswith("/") else None



def off_host(repository: str) -> bool:
    return local_repository(repository) is None



def is_snapshot_id(value) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{8,64}", str(value)))



def snapshot_time(text: str) -> float:
    """restic's time of a snapshot (nanoseconds, an offset or Z) as a Unix timestamp."""
    return datetime.fromisoformat(re.sub(r"\.\d+", "", text).replace("Z", "+00:00")).timestamp()



def restore_is_snapshot(source) -> bool:
    return source == "latest" or is_snapshot_id(snapshot_text(source))



def snapshot_text(value):
    """A snapshot setting as restic reads it. pyinfra's --data turns an id of digits alone into an int (and
    one like 1234e567 into a float): an int as long as restic's ids (8, or 64) is that id as typed; any other
    number lost what was typed (a leading 0, an exponent) and stays a number, for snapshot_problems."""
    if whole_number(value) and len(str(value)) in (8, 64):
        return str(value)
    return value



def snapshot_problems(d) -> list[str]:
    """Snapshot settings that pyinfra read as a number it cannot give back as typed."""
    return [f"{key}={value}: pyinfra's --data read this snapshot id as a number and may have changed it (a leading "
            f"0, an e); quote it as JSON: --data '{key}=\"ID\"', ID as backup.py lists it"
            for key in ("restore_from", "production_restore_from")
            if isinstance(value := snapshot_text(getattr(d, key)), (int, float)) and not isinstance(value, bool)]



# The timers' OnCalendar= values: each a line of its unit, read by the host's systemd.
SCHEDULES = ("dev_backup_schedule", "production_backup_schedule", "dev_backup_check_schedule")
BACKUP_HOST_SCHEDULES = ("backup_host_prune_schedule", "backup_host_check_schedule")
SCHEDULE_FIX = "give systemd's OnCalendar= syntax, e.g. hourly, daily or *:0/15"


def unit_value(value) -> bool:
    """Text a unit's line takes as it is: no line of its own, no specifier (%) for systemd to expand."""
    return isinstance(value, str) and bool(value.strip()) and not UNIT_UNSAFE.search(value)


def schedule_problems(d, readable: list[bool], keys: tuple[str, ...] = SCHEDULES) -> list[str]:
    """The schedules the host's systemd refuses (`readable` in the keys' order; shorter when it cannot tell)."""
    return [f"{key}={getattr(d, key)}: the host's systemd cannot read it as a calendar (systemd-analyze calendar "
            f"refuses it); {SCHEDULE_FIX}" for key, read in zip(keys, readable, strict=False) if not read]


def unit_line_problems(d, keys: tuple[str, ...]) -> list[str]:
    return [f"{key}={getattr(d, key)!r}: not a calendar a unit's line takes as it is; {SCHEDULE_FIX}"
            for key in keys if not unit_value(getattr(d, key))]


def backup_settings_problems(d) -> list[str]:
    problems = unit_line_problems(d, SCHEDULES)
    repository = str(d.backup_repository or "")
    scheme = repository.split(":", 1)[0] if ":" in repository else "local"
    path = local_repository(repository)
    if not repository or scheme not in RESTIC_SCHEMES or (scheme == "local" and not path):
        problems.append(f"backup_repository={d.backup_repository!r}: not a restic repository; give an off-host URL "
                        f"such as sftp:user@backup-host:/srv/restic/droplet, or an absolute path on the host")
    elif path and within(path, d.dev_data_dir):
        problems.append(f"backup_repository={repository}: overlaps dev_data_dir ({d.dev_data_dir}); "
                        f"give a path of its own, or better an off-host URL")
    for key in ("backup_ssh_key", "backup_ssh_known_hosts", "backup_credentials_file"):
        value = getattr(d, key)
        if value and not (REPO / value).is_file():
            problems.append(f"{key}={value}: no such file on this machine; give the file's path, or {UNSET}")
    if not isinstance(d.dev_backup_retention, dict) or not d.dev_backup_retention or any(
            period not in RETENTION_PERIODS or not isinstance(count, int) or count < 1
            for period, count in d.dev_backup_retention.items()):
        problems.append(f"dev_backup_retention={d.dev_backup_retention!r}: give counts for restic forget, "
                        f"e.g. {{\"hourly\": 48, \"daily\": 14, \"weekly\": 8}} (periods: {', '.join(RETENTION_PERIODS)})")
    if not re.fullmatch(r"(100|[1-9][0-9]?)(\.[0-9]+)?%|[1-9][0-9]*/[1-9][0-9]*", str(d.dev_backup_check_read_data)):
        problems.append(f"dev_backup_check_read_data={d.dev_backup_check_read_data!r}: give a share restic check "
                        f"reads, e.g. 10% or 1/7")
    if d.backup_append_only and not (sftp_target(repository) and sftp_target(repository)["user"] and d.backup_ssh_key):
        problems.append("backup_append_only=True: needs an sftp backup_repository with its user "
                        "(sftp:USER@backup-host:/path, the host backup_host.py set up) and backup_ssh_key (the key it "
                        "forces); set both, or backup_append_only=False")
    numbers = snapshot_problems(d)
    problems += numbers
    source = d.restore_from
    if source and not numbers and not restore_is_snapshot(source) and not str(source).startswith("host:") \
            and not Path(source).is_file():
        problems.append(f"restore_from={source}: not a snapshot and no such file on this machine; give latest or a "
                        f"snapshot id (backup.py lists them), or a tar archive of before restic")
    restore = d.production_restore_from
    if restore and not numbers and not restore_is_snapshot(restore):
        problems.append(f"production_restore_from={restore}: give latest or a snapshot id "
                        f"(`bastion-restic snapshots --tag production` lists them)")
    return problems



def backup_host_settings_problems(d) -> list[str]:
    """backup_host.py: the repository it keeps and the key it forces, both named, before the host changes."""
    target = sftp_target(str(d.backup_repository or ""))
    if not (target and target["user"]):
        return [f"backup_repository={d.backup_repository!r}: backup_host.py keeps an sftp repository; give "
                f"sftp:USER@backup-host:/path (the user and path it sets up on this host)"]
    problems = []
    if not d.backup_ssh_key or not (REPO / d.backup_ssh_key).is_file():
        problems.append(f"backup_ssh_key={d.backup_ssh_key!r}: backup_host.py forces the droplet's key; give the "
                        f"private key file on this machine that deploy.py gives the droplet")
    if not re.fullmatch(r"/var/lib/[A-Za-z0-9._-]+", str(d.backup_host_state_dir)):
        problems.append(f"backup_host_state_dir={d.backup_host_state_dir!r}: give /var/lib/NAME (systemd makes it)")
    return problems + unit_line_problems(d, BACKUP_HOST_SCHEDULES)
