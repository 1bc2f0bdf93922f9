from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import files, server

from tasks import REPO, jinja, template, units
from tasks.facts import production


@deploy("Follow the branch")
def follow_branch():
    """Push to the branch and it deploys: a timer (and the webhook's delivery) fetches it and goes through the
    restart path, rolling back a commit that does not come up or whose verdict fails."""
    d = host.data
    for script in (d.dev_follow_script, d.dev_verdict_script):
        files.put(name=f"Script {script}", src=str(REPO / "files" / script.lstrip("/")),
                  dest=script, user="root", group="root", mode="755")
    files.template(name=f"Its settings {d.dev_follow_config}", src=template("etc/bastion/follow.json.j2"),
                   dest=d.dev_follow_config, user="root", group="root", mode="644")
    # What the team reads at dev_url_path/_deploy/status: written after each look, here once if there is none.
    status = files.template(name=f"Script {d.dev_status_script}", src=template("usr/local/sbin/hacs-dev-status.j2"),
                            dest=d.dev_status_script, user="root", group="root", mode="755", production=production(d))
    files.directory(name="The status page's directory (nginx reads it)", path=d.dev_status_dir, mode="755")
    if not host.get_fact(File, path=f"{d.dev_status_dir}/status.json"):
        server.shell(name="The status page, first written", commands=[d.dev_status_script])
    else:
        server.shell(name="The status page, in the new script's form", commands=[d.dev_status_script],
                     _if=status.did_change)
    written = [
        files.template(name=f"Unit {d.dev_follow_unit}.{kind}",
                       src=template(f"etc/systemd/system/hacs-dev-follow.{kind}.j2"),
                       dest=f"/etc/systemd/system/{d.dev_follow_unit}.{kind}", user="root", group="root", mode="644",
                       jinja_env_kwargs=jinja())
        for kind in ("service", "timer")
    ]
    written.append(files.template(name=f"Unit {d.again_unit}@.service (a delivery's look, after the one under way)",
                                  src=template("etc/systemd/system/bastion-again@.service.j2"),
                                  dest=f"/etc/systemd/system/{d.again_unit}@.service", user="root", group="root",
                                  mode="644"))
    units.enabled_and_current([f"{d.dev_follow_unit}.timer"], written, "the follow units")
