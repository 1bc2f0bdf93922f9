from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy, operation
from pyinfra.facts.files import FileContents, Sha256File
from pyinfra.operations import files

from tasks import REPO
from tasks.backup_rules import restore_is_snapshot, snapshot_text
from tasks.deploy_run import run_script
from tasks.facts import production


@operation(is_idempotent=False)
def dev_data_from_production():
    """The restore script, with the scrubber of the copied instances beside it for the one run."""
    yield from files.put._inner(src=str(REPO / "files/deploy-run/bastion-scrub.py"),
                                dest=f"{host.data.deploy_run_dir}/bastion-scrub.py", user="root", group="root", mode="700")
    yield from run_script("hacs-dev-restore", ["--production-snapshot"], production=production(host.data))


@deploy("Dev data from production")
def copy_production_data():
    """The dev data replaced by a copy of production's data (which is only read), the dev data backed up first."""
    dev_data_from_production(name="Dev data := a copy of production's data")


@operation()
def restore_snapshot(snapshot: str, marker: str):
    """Once per snapshot; "latest" only on a host that has restored none yet (after a restore the newest
    snapshot is this host's own backup, and taking it again would undo nothing but cost a restart)."""
    done = (host.get_fact(FileContents, path=marker) or [""])[0].strip()
    if done and (snapshot == "latest" or done[:8] == snapshot[:8]):
        host.noop(f"the dev data was restored from snapshot {done} already; name another snapshot id to restore it")
        return
    yield from run_script("hacs-dev-restore", ["--snapshot", snapshot], production=production(host.data))


@operation()
def restore_archive(archive: str, marker: str):
    """Once per archive: a rerun with the same archive finds it restored and does nothing."""
    digest = host.get_fact(Sha256File, path=archive)
    done = host.get_fact(FileContents, path=marker)
    if digest and done and done[0].strip() == digest:
        host.noop(f"{archive} was restored already")
        return
    yield from run_script("hacs-dev-restore", [archive], production=production(host.data))


@deploy("Restore")
def restore_data():
    """With restore_from set: the dev data comes back from a backup before the service starts."""
    d = host.data
    if not d.restore_from:
        return []
    if restore_is_snapshot(d.restore_from):
        snapshot = snapshot_text(d.restore_from)
        return [restore_snapshot(name=f"Restore the dev data from snapshot {snapshot} of {d.backup_repository}",
                                 snapshot=snapshot,
                                 marker=f"{d.bastion_state_dir}/restored-from.snapshot")]
    if d.restore_from.startswith("host:"):
        archive = d.restore_from[len("host:"):]
    else:
        local = Path(d.restore_from)  # preflight made sure it is a file
        archive = f"{d.dev_backups_dir}/{local.name}"
        files.put(name=f"Upload {local.name}", src=str(local), dest=archive, mode="600")
        checksum = local.with_name(local.name + ".sha256")
        if checksum.is_file():
            files.put(name=f"Upload {checksum.name}", src=str(checksum), dest=f"{archive}.sha256", mode="600")
    return [restore_archive(name=f"Restore the dev data from {Path(archive).name}", archive=archive,
                            marker=f"{d.bastion_state_dir}/restored-from.sha256")]
