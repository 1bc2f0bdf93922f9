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
    rule_file = f"/etc/sudoers.d/{d.dev_user}"
    rule = files.template(
        name="sudo rule: the service user may run the restart script",
        src=template("etc/sudoers.d/hacs-dev.j2"),
        dest=rule_file, user="root", group="root", mode="440",
    )
    server.shell(
        name="visudo accepts the sudo rule",
        # A rule sudo cannot parse would break sudo for everyone: it never stays in place.
        commands=[f"visudo -cq -f {rule_file} || {{ rm -f {rule_file}; exit 1; }}"],
        _if=rule.did_change,
    )
