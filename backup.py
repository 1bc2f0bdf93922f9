"""Take a backup of the V2 dev data now, and fetch the newest one to this machine.

    pyinfra -y inventory.py backup.py

Fetched into backups/HOST/ (local_backups_dir): the archive, its .sha256 (checked here) and the
secrets file of the same time (0600). Rebuild from it with
    pyinfra -y inventory.py deploy.py --data restore_from=backups/HOST/v2-dev-data-....tar.gz
"""
import hashlib
from pathlib import Path

from pyinfra import host, logger
from pyinfra.operations import python, server

d = host.data

server.shell(name="Back up now (the timer's job, at once)", commands=[f"systemctl start {d.dev_backup_unit}.service"])


def fetch_newest_backup():
    found, output = host.run_shell_command(f"ls -1 {d.dev_backups_dir}/v2-dev-data-*.tar.gz | sort | tail -n 1")
    newest = output.stdout.strip()
    if not found or not newest:
        raise RuntimeError(f"no backup in {d.dev_backups_dir}")
    stamp = Path(newest).name[len("v2-dev-data-"):-len(".tar.gz")]
    target = Path(d.local_backups_dir) / host.name
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    local = target / Path(newest).name
    for remote in (newest, f"{newest}.sha256"):
        host.get_file(remote, str(target / Path(remote).name))
    want = (target / f"{local.name}.sha256").read_text().split()[0]
    if hashlib.sha256(local.read_bytes()).hexdigest() != want:
        raise RuntimeError(f"{local} does not match its checksum after the transfer")
    secrets = f"{d.dev_backups_dir}/secrets/secrets-{stamp}.env"
    has_secrets, _ = host.run_shell_command(f"test -f {secrets}")
    if has_secrets:
        host.get_file(secrets, str(target / Path(secrets).name))
        (target / Path(secrets).name).chmod(0o600)
    logger.info(f"{host.print_prefix}fetched {local} (sha256 {want[:12]}, checked)"
                + (f" and {target / Path(secrets).name}" if has_secrets else ""))


python.call(name="Fetch the newest backup to this machine", function=fetch_newest_backup)
