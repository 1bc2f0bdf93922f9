"""Replace the V2 dev data with a snapshot of production's data (was sync-prod-data-to-dev.sh).

    pyinfra -y inventory.py snapshot.py

Production is only read. The dev data is backed up first (an archive labelled pre-snapshot,
never removed by retention), and the snapshot is marked: .bastion-snapshot.json in the dev data.
"""
from pyinfra import host
from pyinfra.operations import server

server.shell(name="Dev data := snapshot of production's data",
             commands=[f"{host.data.dev_restore_script} --production-snapshot"])
