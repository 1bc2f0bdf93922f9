#!/bin/sh
# The droplet is lost: the rebuild sequence, in its order (docs/recovery.md). tests/test_recovery.py runs these
# lines as written on a blank sandbox from the backup host alone.
pyinfra -y inventory.py backup.py       # on the old host, if it still answers (not needed: the timers ran)
export BASTION_TARGET=203.0.113.7 BASTION_SSH_KEY=~/.ssh/id_droplet
pyinfra -y inventory.py production.py --data production_restore_from=latest   # 1. production, its data back
pyinfra -y inventory.py deploy.py --data restore_from=latest                   # 2. the dev environment, its data back
