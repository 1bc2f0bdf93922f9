"""Production on a new host: the whole droplet's other half, for a rebuild after the droplet is lost.

    BASTION_TARGET=203.0.113.7 BASTION_SSH_KEY=~/.ssh/id pyinfra -y inventory.py production.py \
        --data production_restore_from=latest       (its data back from the backup repository)
    ... then deploy.py for the dev environment (see docs/production.md, "Rebuilding the whole droplet")

New hosts only: a host where production already runs (the live droplet) is refused before anything
changes, unless its address is named in production_rebuild_host.
"""
from tasks import backups, production

production.refuse_unless_new_host()
production.install_packages()
backups.give_restic_access()
production.build_production()
