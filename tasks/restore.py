from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy, operation
from pyinfra.facts.files import FileContents, Sha256File
from pyinfra.operations import files

from tasks.output import reported
from tasks.rules import is_snapshot_id


@operation()
def restore_snapshot(snapshot: str, restore_script: str, marker: str):
    """Once per snapshot; "latest" only on a host that has restored none yet (after a restore the newest
    snapshot is this host's own backup, and taking it again would undo nothing but cost a restart)."""
    done = (host.get_fact(FileContents, path=marker) or [""])[0].strip()
    if done and (snapshot == "latest" or done[:8] == snapshot[:8]):
        host.noop(f"the dev data was restored from snapshot {done} already; name another snapshot id to restore it")
        return
    yield reported(f"{restore_script} --snapshot {snapshot}")


@operation()
def restore_archive(archive: str, restore_script: str, marker: str):
    """Once per archive: a rerun with the same archive finds it restored and does nothing."""
    digest = host.get_fact(Sha256File, path=archive)
    done = host.get_fact(FileContents, path=marker)
    if digest and done and done[0].strip() == digest:
        host.noop(f"{archive} was restored already")
        return
    yield reported(f"{restore_script} {archive}")


@deploy("Restore")
def restore_data():
    """With restore_from set: the dev data comes back from a backup before the service starts."""
    d = host.data
    if not d.restore_from:
        return []
    if d.restore_from == "latest" or is_snapshot_id(d.restore_from):
        return [restore_snapshot(name=f"Restore the dev data from snapshot {d.restore_from} of {d.backup_repository}",
                                 snapshot=d.restore_from, restore_script=d.dev_restore_script,
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
                            restore_script=d.dev_restore_script,
                            marker=f"{d.bastion_state_dir}/restored-from.sha256")]
