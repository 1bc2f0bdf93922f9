"""The dev server's dependencies, installed so that no code of a commit runs outside the server's
containment: a fetch that runs none and extracts the tree (hacs-dev-fetch), then the scripts on that tree in a
unit with the server's namespaces and no network (hacs-dev-install), both through the restart path
(`hacs-dev-restart --deps-only`)."""
from pyinfra import host
from pyinfra.api import deploy, operation
from pyinfra.facts.files import FileContents, Sha256File
from pyinfra.operations import files

from tasks import REPO, jinja, template, units
from tasks.facts import MissingPaths, NotOwnDirectories


@operation()
def npm_ci_when_lock_changed(checkout: str, restart_script: str, tree: list[str]):
    """Through the restart path when package-lock.json differs from what was last installed, or when the
    directories the units bind writable are missing or not the checkout's own (it refuses those)."""
    lock = host.get_fact(Sha256File, path=f"{checkout}/package-lock.json")
    installed = host.get_fact(FileContents, path=f"{checkout}/node_modules/.bastion-lock.sha256")
    paths = [f"{checkout}/{name}" for name in tree]
    unready = host.get_fact(MissingPaths, paths=paths) + host.get_fact(NotOwnDirectories, paths=paths)
    if not unready and (not lock or (installed and installed[0].strip() == lock)):
        host.noop("dependencies match package-lock.json")
        return
    yield f"{restart_script} --deps-only"


@deploy("Dependencies")
def install_dependencies():
    d = host.data
    for script in (d.dev_lockfile_check, d.dev_install_scripts):
        files.put(name=f"Script {script}", src=str(REPO / "files" / script.lstrip("/")),
                  dest=script, user="root", group="root", mode="755")
    written = [files.template(name=f"Unit {unit}", src=template(f"etc/systemd/system/{unit}.j2"),
                              dest=f"/etc/systemd/system/{unit}", user="root", group="root", mode="644",
                              jinja_env_kwargs=jinja())
               for unit in (d.dev_fetch_unit, d.dev_install_unit)]
    units.reload_if_changed(written, "the install's units")
    return [npm_ci_when_lock_changed(name="npm ci when package-lock.json changed",
                                     checkout=d.dev_checkout, restart_script=d.dev_restart_script,
                                     tree=[*d.dev_app_writes, "node_modules"])]
