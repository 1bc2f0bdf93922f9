from pyinfra import host
from pyinfra.api import deploy, operation
from pyinfra.facts.files import FileContents, Sha256File


@operation()
def npm_ci_when_lock_changed(checkout: str, restart_script: str):
    """npm ci --omit=dev only when package-lock.json differs from what was last installed."""
    lock = host.get_fact(Sha256File, path=f"{checkout}/package-lock.json")
    installed = host.get_fact(FileContents, path=f"{checkout}/node_modules/.bastion-lock.sha256")
    if lock and installed and installed[0].strip() == lock:
        host.noop("dependencies match package-lock.json")
        return
    yield f"{restart_script} --deps-only"


@deploy("Dependencies")
def install_dependencies():
    d = host.data
    return [npm_ci_when_lock_changed(name="npm ci when package-lock.json changed",
                                     checkout=d.dev_checkout, restart_script=d.dev_restart_script)]
