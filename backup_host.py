"""The backup host: the droplet's restic repository kept where root on the droplet cannot erase it.

    BASTION_TARGET=backup-host.example BASTION_SSH_KEY=~/.ssh/id pyinfra -y inventory.py backup_host.py \
        --data backup_repository=sftp:restic@backup-host.example:/srv/restic/droplet \
        --data backup_ssh_key=backups/droplet-backup-key
    ... then deploy.py (and production.py) with the same two settings and backup_append_only=True

The droplet's key (backup_ssh_key) runs nothing there but an append-only restic server for the
repository's path; retention and the check run there, by timers of their own (group_data/all.py).
"""
from tasks import backup_host

backup_host.keep_the_repository()
