"""Previews of the team's branches (docs/previews.md): hacs-previews and its settings, the units of a preview (a
template each: the server, its door, its install) and the reconcile's, started by a delivery (the webhook writes
the file its path unit watches) and by a timer. nginx's location is the dev snippet's (tasks/nginx.py)."""
import io
import os
import tarfile
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files

from tasks import REPO, jinja, template, units
from tasks.backup_rules import local_repository

PREVIEW_UNITS = ["hacs-preview@.service", "hacs-preview-door@.socket", "hacs-preview-door@.service",
                 "hacs-preview-fetch@.service", "hacs-preview-install@.service", "hacs-preview-check@.service"]
CATALOG = "/usr/local/share/bastion/preview-catalog.tar"


def catalog_archive(folder: Path) -> io.BytesIO:
    """The catalog a preview's data starts with, as one archive: the same bytes for the same files, so an
    unchanged catalog is no upload."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).parts[0] != "README.md"):
            info = tarfile.TarInfo(str(path.relative_to(folder)))
            info.size, info.mode, info.mtime = path.stat().st_size, 0o644, 0
            tar.addfile(info, io.BytesIO(path.read_bytes()))
    archive.seek(0)
    return archive


@deploy("Previews of the team's branches")
def serve_previews():
    d = host.data
    for script in (d.preview_script,):
        files.put(name=f"Script {script}", src=str(REPO / "files" / script.lstrip("/")), dest=script,
                  user="root", group="root", mode="755")
    source = d.dev_catalog_source
    catalog = CATALOG if source and not str(source).startswith("host:") else ""
    if catalog:
        files.directory(name="bastion's shared files", path=str(Path(CATALOG).parent), mode="755")
        files.put(name="The catalog a preview starts with", src=catalog_archive(REPO / source), dest=CATALOG,
                  user="root", group="root", mode="644")
    files.template(name=f"Its settings {d.preview_config}", src=template("etc/bastion/previews.json.j2"),
                   dest=d.preview_config, user="root", group="root", mode="644", preview_catalog=catalog)
    files.directory(name="The previews' directories", path=d.preview_root, user="root", group="root", mode="755")
    files.directory(name="The previews' state", path=d.preview_state_dir, user="root", group="root", mode="755")
    repository = local_repository(d.backup_repository)
    # One writable mount for the dev checkout and the previews where they share a parent (/srv): a preview's
    # node_modules are then hard links to the dev environment's, not a copy.
    shared = os.path.commonpath([d.dev_checkout, d.preview_root])
    trees = [shared] if shared != "/" else [d.dev_checkout, d.preview_root]
    writable = [*trees, f"/var/lib/{d.dev_user}", d.preview_runtime_dir, d.backup_cache_dir,
                *([repository] if repository else [])]
    written = [
        files.template(name=f"Unit {unit}", src=template(f"etc/systemd/system/{unit}.j2"),
                       dest=f"/etc/systemd/system/{unit}", user="root", group="root", mode="644",
                       jinja_env_kwargs=jinja())
        for unit in PREVIEW_UNITS
    ]
    written += [
        files.template(name=f"Unit {d.preview_reconcile_unit}.{kind}",
                       src=template(f"etc/systemd/system/hacs-previews.{kind}.j2"),
                       dest=f"/etc/systemd/system/{d.preview_reconcile_unit}.{kind}", user="root", group="root",
                       mode="644", jinja_env_kwargs=jinja(), writable_for_previews=writable)
        for kind in ("service", "path", "timer")
    ]
    units.enabled_and_current([f"{d.preview_reconcile_unit}.path", f"{d.preview_reconcile_unit}.timer"], written,
                              "the previews' units")
