import shlex
from pathlib import Path

from pyinfra import host
from pyinfra.api import FileUploadCommand, deploy, operation
from pyinfra.facts.files import File
from pyinfra.operations import files

from tasks import REPO
from tasks.facts import CatalogFiles

CATALOG_FOLDERS = CatalogFiles.folders


def local_catalog(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for name in CATALOG_FOLDERS for p in (folder / name).rglob("*")
                  if p.is_file())


@operation()
def seed_catalog(source: str, data_dir: str, owner: str):
    """Add the catalog files the data directory lacks; a file that is there, edited or not, is kept."""
    present = set(host.get_fact(CatalogFiles, root=data_dir))
    if source.startswith("host:"):
        origin = source[len("host:"):]
        missing = [f for f in host.get_fact(CatalogFiles, root=origin) if f not in present]
    else:
        origin = str(REPO / source)
        missing = [f for f in local_catalog(Path(origin)) if f not in present]
    if not missing:
        host.noop(f"{data_dir} has the catalog of {source}")
        return
    targets = [f"{data_dir}/{name}" for name in missing]
    # Every folder below data_dir, parents too: install -d would leave unnamed parents root's.
    folders = sorted({f"{data_dir}/{parent}" for name in missing for parent in Path(name).parents if str(parent) != "."})
    yield f"install -d -o {owner} -g {owner} -m 750 {' '.join(map(shlex.quote, folders))}"
    for name, target in zip(missing, targets, strict=True):
        if source.startswith("host:"):
            yield f"cp --no-clobber {shlex.quote(f'{origin}/{name}')} {shlex.quote(target)}"
        else:
            yield FileUploadCommand(f"{origin}/{name}", target)
    quoted = " ".join(map(shlex.quote, targets))
    yield f"chown {owner}:{owner} {quoted} && chmod 640 {quoted}"


@deploy("Isolated data")
def create_data_directory():
    """The dev data directory and the secrets file: created when missing, never emptied or rewritten."""
    d = host.data
    files.directory(name="Dev data directory", path=d.dev_data_dir,
                    user=d.dev_user, group=d.dev_user, mode="750")
    files.directory(name="Secrets directory", path=str(Path(d.dev_env_file).parent),
                    user="root", group=d.dev_user, mode="750")
    # touch=False: an existing file keeps its content and time; only owner and mode are enforced.
    # root's, not the service user's: systemd reads it for the unit, and no commit can change what it holds.
    files.file(name="Secrets file (root, 0600, content never touched)", path=d.dev_env_file,
               user="root", group="root", mode="600", touch=False)
    hub_secret(name="The event hub's secret (root's, the service user reads it)", path=d.dev_hub_secret_file,
               group=d.dev_user)
    files.file(name="The event hub's secret: root's, 0640", path=d.dev_hub_secret_file, user="root", group=d.dev_user,
               mode="640", touch=False)


@operation()
def hub_secret(path: str, group: str):
    """Made once, on the host (it never leaves it); kept as it is after that."""
    if host.get_fact(File, path=path):
        host.noop(f"{path} exists")
        return
    yield (f"umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > {path}.new && "
           f"chown root:{group} {path}.new && chmod 640 {path}.new && mv {path}.new {path}")


@deploy("Catalog")
def seed_role_catalog():
    """Roles and personalities the V2 tools need (take_on_role, adopt_personality): the first deploy
    seeds them, later ones add only what is missing. Runs after a restore or an adoption, so what came
    back with the data counts as there."""
    d = host.data
    if d.dev_catalog_source:
        seed_catalog(name=f"Catalog from {d.dev_catalog_source}", source=d.dev_catalog_source,
                     data_dir=d.dev_data_dir, owner=d.dev_user)
