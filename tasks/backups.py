"""Backups with restic into a repository off the host: the tools, the copies of the operator's secrets
that open it, the timers that back up the dev data and production's (as the host shows it, read only)
and check the repository, the first backups at the first deploy, and the one snapshot of production's
leftovers that takes them off the droplet."""
import hashlib
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy, operation
from pyinfra.facts.files import Directory, File, FileContents, Sha256File
from pyinfra.operations import files, systemd

from tasks import jinja, template, units
from tasks.backup_rules import local_repository, restore_is_snapshot, sftp_target
from tasks.deploy_run import run_script
from tasks.facts import PresentPaths, production
from tasks.operator_secrets import local_file, made_here, secret_copy
from tasks.output import reported
from tasks.production_view import leftovers_inside


def backup_host_problems(d) -> list[str]:
    """The password on the host opens its repository: a different one here would lock the host out."""
    config = d.backup_config_dir
    on_host = host.get_fact(Sha256File, path=f"{config}/password")
    here = local_file("backup_password_file")
    problems = []
    if on_host and not here.is_file():
        problems.append(f"backup_password_file={d.backup_password_file}: missing on this machine, while the host has "
                        f"{config}/password; fetch it with `pyinfra inventory.py backup.py` (keeps it 0600) and deploy again")
    elif on_host and hashlib.sha256(here.read_bytes()).hexdigest() != on_host:
        problems.append(f"backup_password_file={d.backup_password_file}: differs from the host's {config}/password, "
                        f"which opens its repository; put the host's in that file (backup.py fetches it when missing)")
    path = local_repository(str(d.backup_repository))
    snapshot = d.restore_from and restore_is_snapshot(d.restore_from)
    if snapshot and path and not host.get_fact(Directory, path=path):
        problems.append(f"restore_from={d.restore_from}: backup_repository={d.backup_repository} is on the host and there "
                        f"is none here; give the off-host repository the snapshots are in")
    return problems


@operation()
def open_repository(repository: str, marker: str):
    """Once per repository: restic opens it with this host's password, or creates it when none is there."""
    if host.get_fact(FileContents, path=marker) == [repository]:
        host.noop(f"{repository} opened already")
        return
    yield from run_script("bastion-open-repository")


@operation()
def first_backup(repository: str, unit: str, state: str):
    """A backup right away when this repository has none from this host yet, so a deploy never leaves a
    host with nothing to restore until the timer's next turn."""
    if f"repository={repository}" in (host.get_fact(FileContents, path=state) or []):
        host.noop(f"{unit} has run into {repository} already")
        return
    yield reported(f"systemctl start {unit}.service; status=$?; sed -n 's/^result=//p' {state}; exit $status")


@deploy("Backup repository")
def give_restic_access():
    """restic, and the operator's password (and key) to open the repository with; the repository opened
    or created. Both playbooks need it: deploy.py for the backups, production.py for a restore."""
    d = host.data
    config = d.backup_config_dir
    files.directory(name="Backup configuration (root only)", path=config, user="root", group="root", mode="700")
    secret_copy(name=f"Repository password in {config}", src=str(made_here("backup_password_file")),
                dest=f"{config}/password", replace=False)
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
                    marker=f"{d.bastion_state_dir}/backup-repository")


@deploy("Backups")
def schedule_backups():
    """The dev data's backup and the repository's check on timers; production's data backed up too, read
    only, where there is production."""
    d = host.data
    repository = local_repository(d.backup_repository)
    writable = [d.dev_backups_dir, d.backup_cache_dir] + ([repository] if repository else [])
    scripts = {
        d.dev_backup_script: "usr/local/sbin/hacs-dev-backup.j2",
    }
    timers = {d.dev_backup_unit: "hacs-dev-backup"}
    if d.backup_append_only:
        stop_timer(f"{d.dev_backup_check_unit}.timer", "the backup host checks the repository, not this host's key")
    else:
        scripts[d.dev_backup_check_script] = "usr/local/sbin/hacs-dev-backup-check.j2"
        timers[d.dev_backup_check_unit] = "hacs-dev-backup-check"
    prod = production(d)
    if host.get_fact(Directory, path=prod.data_root):
        scripts[d.production_backup_script] = "usr/local/sbin/hacs-production-backup.j2"
        timers[d.production_backup_unit] = "hacs-production-backup"
    for dest, source in scripts.items():
        files.template(name=f"Script {dest}", src=template(source), dest=dest, user="root", group="root", mode="755",
                       jinja_env_kwargs=jinja(), production=prod, leftovers=production_leftovers(prod))
    written = [
        files.template(name=f"Unit {unit}.{kind}", src=template(f"etc/systemd/system/{source}.{kind}.j2"),
                       dest=f"/etc/systemd/system/{unit}.{kind}", user="root", group="root", mode="644",
                       jinja_env_kwargs=jinja(), writable_for_restic=writable, production=prod)
        for unit, source in timers.items()
        for kind in ("service", "timer")
    ]
    units.enabled_and_current([f"{unit}.timer" for unit in timers], written, "the backup timers")


def stop_timer(timer: str, why: str):
    """A timer of an earlier deploy stopped and disabled; its unit and script stay where they are."""
    if host.get_fact(File, path=f"/etc/systemd/system/{timer}"):
        systemd.service(name=f"{timer} stopped: {why}", service=timer, running=False, enabled=False)


def production_leftovers(prod) -> list[str]:
    """The leftovers of production's that are on this host and inside its data root."""
    return leftovers_inside(prod, host.get_fact(PresentPaths, paths=prod.leftovers) if prod.leftovers else [])


@operation()
def leftovers_snapshot(leftovers: list[str], script: str, marker: str):
    """Once: production's leftovers (defunct copies nobody archived) in a snapshot of their own that
    retention never forgets, so removing them from the droplet one day loses nothing. Again only when a
    leftover appears that the snapshot does not hold."""
    taken = set(host.get_fact(FileContents, path=marker) or [])
    if set(leftovers) <= taken:
        host.noop("production's leftovers are in the repository already" if leftovers else "no leftovers here")
        return
    yield reported(f"{script} --leftovers")


@deploy("First backup")
def take_first_backup():
    d = host.data
    first_backup(name=f"First backup into {d.backup_repository}", repository=d.backup_repository,
                 unit=d.dev_backup_unit, state=f"{d.bastion_state_dir}/backup.state")
    prod = production(d)
    if host.get_fact(Directory, path=prod.data_root):
        first_backup(name=f"First backup of production's data ({prod.data_root}) into {d.backup_repository}",
                     repository=d.backup_repository, unit=d.production_backup_unit,
                     state=f"{d.bastion_state_dir}/production-backup.state")
        leftovers_snapshot(name="Production's leftovers in one snapshot, kept", leftovers=production_leftovers(prod),
                           script=d.production_backup_script,
                           marker=f"{d.bastion_state_dir}/production-leftovers.taken")

