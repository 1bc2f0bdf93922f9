"""Back up the V2 dev data now, into the backup repository (off the host), and list its snapshots.

    pyinfra -y inventory.py backup.py

The timer's own job, at once: the result line, then the repository's snapshots. When this machine has
no copy of the repository's password yet (backup_password_file), it is fetched from the host (0600):
without it, a host rebuilt after the droplet is lost cannot read its backups. Rebuild from a snapshot:
    pyinfra -y inventory.py deploy.py --data restore_from=latest      (or a snapshot id from the list)
"""
from pyinfra import host, logger
from pyinfra.operations import python, server

from tasks.operator_secrets import local_file
from tasks.output import reported

d = host.data
state = f"{d.bastion_state_dir}/backup.state"

server.shell(name=f"Back up now into {d.backup_repository}", commands=[reported(
    f"systemctl start {d.dev_backup_unit}.service; status=$?; sed -n 's/^result=/{d.dev_backup_unit}: /p' {state}; "
    f"exit $status")])
server.shell(name="Snapshots in the repository", commands=[reported(
    f"{d.backup_restic_command} snapshots --no-lock --host {d.backup_snapshot_host} --tag hacs-dev")])


def keep_password_here():
    local = local_file("backup_password_file")
    local.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    local.touch(mode=0o600)
    local.chmod(0o600)
    host.get_file(f"{d.backup_config_dir}/password", str(local))
    local.chmod(0o600)
    logger.warning(f"{host.print_prefix}the repository's password is now in {local} (0600): keep a copy off this machine too")


if not local_file("backup_password_file").is_file():
    python.call(name="The repository's password, to this machine", function=keep_password_here)
