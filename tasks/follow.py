from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, systemd

from tasks import jinja, template


@deploy("Follow the branch")
def follow_branch():
    """Push to v2 and it deploys: a timer fetches the branch and goes through the restart path,
    rolling back a commit that does not come up."""
    d = host.data
    files.template(name=f"Script {d.dev_follow_script}", src=template("usr/local/sbin/hacs-dev-follow.j2"),
                   dest=d.dev_follow_script, user="root", group="root", mode="755")
    units = [
        files.template(name=f"Unit {d.dev_follow_unit}.{kind}",
                       src=template(f"etc/systemd/system/hacs-dev-follow.{kind}.j2"),
                       dest=f"/etc/systemd/system/{d.dev_follow_unit}.{kind}", user="root", group="root", mode="644",
                       jinja_env_kwargs=jinja())
        for kind in ("service", "timer")
    ]
    reload = systemd.daemon_reload(name="systemd reads the follow units", _if=lambda: any(u.did_change() for u in units))
    systemd.service(name=f"{d.dev_follow_unit}.timer enabled and waiting", service=f"{d.dev_follow_unit}.timer",
                    running=True, enabled=True)
    systemd.service(name=f"{d.dev_follow_unit}.timer takes its new schedule", service=f"{d.dev_follow_unit}.timer",
                    running=True, restarted=True, _if=lambda: reload.did_change())
