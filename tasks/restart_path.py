from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server

from tasks import template


@deploy("Restart path")
def install_restart_path():
    """The scripts that update and restart the dev server, root-owned so the service user can run
    but never change them, and the one sudo rule that lets it restart its own unit."""
    d = host.data
    scripts = {d.dev_restart_script: "usr/local/sbin/hacs-dev-restart.j2",
               d.dev_update_script: "usr/local/sbin/hacs-dev-update.j2"}
    for script, source in scripts.items():
        files.template(
            name=f"Script {script}",
            src=template(source),
            dest=script, user="root", group="root", mode="755",
        )
    rule = files.template(
        name="sudo rule: the service user may run the restart script",
        src=template("etc/sudoers.d/hacs-dev.j2"),
        dest="/etc/sudoers.d/hacs-dev", user="root", group="root", mode="440",
    )
    server.shell(
        name="visudo accepts the sudo rule",
        commands=["visudo -cq -f /etc/sudoers.d/hacs-dev || { rm -f /etc/sudoers.d/hacs-dev; exit 1; }"],
        _if=rule.did_change,
    )
