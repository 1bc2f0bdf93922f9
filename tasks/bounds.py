"""Bounds: what the dev environment may use of a droplet it shares with production. The slice every dev
unit runs in (memory, processes, CPU, IO), the disk floor below which the dev server is stopped, and the
cap on the app's own log files. The server's own limits (nice, RLIMIT_NPROC, OOM score) are in its unit."""
from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files

from tasks import jinja, template, units


@deploy("Bounds")
def bound_the_dev_environment():
    d = host.data
    slice_unit = files.template(name=f"Slice {d.dev_slice}", src=template("etc/systemd/system/hacs-dev.slice.j2"),
                                dest=f"/etc/systemd/system/{d.dev_slice}", user="root", group="root", mode="644")
    files.template(name="The app's log files rotated and capped", src=template("etc/logrotate.d/hacs-dev.j2"),
                   dest=d.dev_logrotate_conf, user="root", group="root", mode="644")
    files.template(name=f"Script {d.dev_bounds_script}", src=template("usr/local/sbin/hacs-dev-bounds.j2"),
                   dest=d.dev_bounds_script, user="root", group="root", mode="755")
    written = [
        files.template(name=f"Unit {d.dev_bounds_unit}.{kind}", src=template(f"etc/systemd/system/hacs-dev-bounds.{kind}.j2"),
                       dest=f"/etc/systemd/system/{d.dev_bounds_unit}.{kind}", user="root", group="root", mode="644",
                       jinja_env_kwargs=jinja())
        for kind in ("service", "timer")
    ]
    units.enabled_and_current([f"{d.dev_bounds_unit}.timer"], [slice_unit, *written], "the dev environment's bounds")
