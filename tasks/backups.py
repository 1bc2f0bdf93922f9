"""Backups with restic into a repository off the host: the tools, the copies of the operator's secrets
that open it, the timers that back up and check, and the first backup at the first deploy."""
import hashlib
import re
import secrets
from datetime import datetime
from pathlib import Path

from pyinfra import host
from pyinfra.api import FileUploadCommand, StringCommand, deploy, operation
from pyinfra.facts.files import Directory, FileContents, Sha256File
from pyinfra.operations import files, systemd

from tasks import REPO, jinja, reported, template

SFTP_SHORT = re.compile(r"^sftp:(?P<login>[^/:]+):(?P<path>/.*)$")
SFTP_URL = re.compile(r"^sftp://(?P<login>[^/:]+)(:(?P<port>\d+))?/(?P<path>.+)$")


def sftp_target(repository: str) -> dict | None:
    """user@host and port of an sftp repository (restic's two spellings), else None."""
    found = SFTP_SHORT.match(repository) or SFTP_URL.match(repository)
    return {"login": found["login"], "port": found.groupdict().get("port")} if found else None


def local_repository(repository: str) -> str | None:
    """The path of a repository on the host itself (it does not survive the droplet), else None."""
    if repository.startswith("local:"):
        return repository[len("local:"):]
    return repository if repository.startswith("/") else None


def local_file(setting: str) -> Path | None:
    """A file on the operator's machine that a setting names (relative to the project)."""
    value = getattr(host.data, setting)
    return (REPO / value) if value else None


@operation()
def secret_copy(src: str, dest: str, replace: bool = True):
    """A secret from the operator's machine, root-only on the host. Unlike files.put it never prints
    the content (--diff would). replace=False keeps a different one on the host (the password that
    opens the repository: preflight stops a run whose copy differs)."""
    there = host.get_fact(Sha256File, path=dest)
    if there and (there == hashlib.sha256(Path(src).read_bytes()).hexdigest() or not replace):
        host.noop(f"{dest} is there")
        return
    # The upload lands inside the root-only directory, never in a world-readable /tmp.
    yield FileUploadCommand(src, dest, remote_temp_filename=f"{dest}.uploading")
    yield StringCommand("chmod", "600", dest)


@operation()
def open_repository(repository: str, restic: str, marker: str):
    """Once per repository: restic opens it with this host's password, or creates it when none is there."""
    if host.get_fact(FileContents, path=marker) == [repository]:
        host.noop(f"{repository} opened already")
        return
    yield reported(f"{restic} --open-repository")


@operation()
def first_backup(repository: str, unit: str, state: str):
    """A backup right away when this repository has none from this host yet, so a deploy never leaves a
    host with nothing to restore until the timer's next turn."""
    if f"repository={repository}" in (host.get_fact(FileContents, path=state) or []):
        host.noop(f"{unit} has run into {repository} already")
        return
    yield reported(f"systemctl start {unit}.service; status=$?; sed -n 's/^result=//p' {state}; exit $status")


def password_to_hand() -> Path:
    """The operator's copy of the repository password, created here when neither side has one (preflight
    refuses the run when only the host has one, or when the two differ)."""
    local = local_file("backup_password_file")
    if not local.exists():
        local.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        local.touch(mode=0o600)
        local.write_text(secrets.token_urlsafe(48) + "\n")
    return local


@deploy("Backup repository")
def give_restic_access():
    """restic, and the operator's password (and key) to open the repository with; the repository opened
    or created. Both playbooks need it: deploy.py for the backups, production.py for a restore."""
    d = host.data
    config = d.backup_config_dir
    files.directory(name="Backup configuration (root only)", path=config, user="root", group="root", mode="700")
    secret_copy(name=f"Repository password in {config}", src=str(password_to_hand()), dest=f"{config}/password",
                replace=False)
    if d.backup_ssh_key:
        secret_copy(name=f"Backup host key in {config}", src=str(local_file("backup_ssh_key")), dest=f"{config}/ssh-key")
    if d.backup_credentials_file:
        secret_copy(name=f"restic credentials in {config}", src=str(local_file("backup_credentials_file")),
                    dest=f"{config}/credentials.env")
    if d.backup_ssh_known_hosts:
        files.put(name="Backup host's known key", src=str(local_file("backup_ssh_known_hosts")),
                  dest=f"{config}/known_hosts", user="root", group="root", mode="644")
    files.directory(name="restic's cache", path=d.backup_cache_dir, user="root", group="root", mode="700")
    files.directory(name="bastion state directory", path=d.bastion_state_dir, mode="755")
    files.template(name=f"Script {d.backup_restic_command}", src=template("usr/local/sbin/bastion-restic.j2"),
                   dest=d.backup_restic_command, user="root", group="root", mode="755", jinja_env_kwargs=jinja(),
                   sftp=sftp_target(d.backup_repository))
    on_host = local_repository(d.backup_repository)
    if on_host:
        # restic would make the missing parents root-only, the data volume's among them.
        files.directory(name="Directory of the repository on this host", path=str(Path(on_host).parent), mode="700")
    open_repository(name=f"Repository {d.backup_repository}", repository=d.backup_repository,
                    restic=d.backup_restic_command, marker=f"{d.bastion_state_dir}/backup-repository")


@deploy("Backups")
def schedule_backups():
    """The dev data's backup and the repository's check on timers, the restore script ready; production's
    data backed up too, read only, where there is production."""
    d = host.data
    repository = local_repository(d.backup_repository)
    writable = [d.dev_backups_dir, d.backup_cache_dir] + ([repository] if repository else [])
    scripts = {
        d.dev_backup_script: "usr/local/sbin/hacs-dev-backup.j2",
        d.dev_backup_check_script: "usr/local/sbin/hacs-dev-backup-check.j2",
        d.dev_restore_script: "usr/local/sbin/hacs-dev-restore.j2",
    }
    timers = {d.dev_backup_unit: "hacs-dev-backup", d.dev_backup_check_unit: "hacs-dev-backup-check"}
    if host.get_fact(Directory, path=d.production_data_dir):
        scripts[d.production_backup_script] = "usr/local/sbin/hacs-production-backup.j2"
        timers[d.production_backup_unit] = "hacs-production-backup"
    for dest, source in scripts.items():
        files.template(name=f"Script {dest}", src=template(source), dest=dest, user="root", group="root", mode="755",
                       jinja_env_kwargs=jinja())
    units = [
        files.template(name=f"Unit {unit}.{kind}", src=template(f"etc/systemd/system/{source}.{kind}.j2"),
                       dest=f"/etc/systemd/system/{unit}.{kind}", user="root", group="root", mode="644",
                       jinja_env_kwargs=jinja(), writable_for_restic=writable)
        for unit, source in timers.items()
        for kind in ("service", "timer")
    ]
    reload = systemd.daemon_reload(name="systemd reads the backup units", _if=lambda: any(u.did_change() for u in units))
    for unit in timers:
        systemd.service(name=f"{unit}.timer enabled and waiting", service=f"{unit}.timer", running=True, enabled=True)
        systemd.service(name=f"{unit}.timer takes its new schedule", service=f"{unit}.timer", running=True,
                        restarted=True, _if=lambda: reload.did_change())


@deploy("First backup")
def take_first_backup():
    d = host.data
    first_backup(name=f"First backup into {d.backup_repository}", repository=d.backup_repository,
                 unit=d.dev_backup_unit, state=f"{d.bastion_state_dir}/backup.state")
    if host.get_fact(Directory, path=d.production_data_dir):
        first_backup(name=f"First backup of production's data into {d.backup_repository}",
                     repository=d.backup_repository, unit=d.production_backup_unit,
                     state=f"{d.bastion_state_dir}/production-backup.state")


def off_host(repository: str) -> bool:
    return local_repository(repository) is None


def snapshot_time(text: str) -> float:
    """restic's time of a snapshot (nanoseconds, an offset or Z) as a Unix timestamp."""
    return datetime.fromisoformat(re.sub(r"\.\d+", "", text).replace("Z", "+00:00")).timestamp()


def is_snapshot_id(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{8,64}", str(value)))
