"""Replace the V2 dev data with a copy of production's data (was sync-prod-data-to-dev.sh).

    pyinfra -y inventory.py dev_data_from_production.py

Production is only read. The dev data is backed up first (a snapshot labelled pre-snapshot, never
forgotten by retention), and the copy is marked: .bastion-snapshot.json in the dev data.
"""
from tasks import restore

restore.copy_production_data()
