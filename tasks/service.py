from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, systemd

from tasks import template


@deploy("Service")
def run_dev_service(restart_after=()):
    """The dev server's unit: enabled, running, restarted only when unit, code or dependencies changed."""
    d = host.data
    unit = files.template(name=f"Unit {d.dev_unit}", src=template("etc/systemd/system/mcp-coordination-dev.service.j2"),
                          dest=f"/etc/systemd/system/{d.dev_unit}", user="root", group="root", mode="644")
    systemd.daemon_reload(name="systemd reads the changed unit", _if=unit.did_change)
    started = systemd.service(name=f"{d.dev_unit} enabled and running", service=d.dev_unit,
                              running=True, enabled=True)
    changes = [unit, *restart_after]
    systemd.service(
        name=f"Restart {d.dev_unit} on the new unit, code or dependencies",
        service=d.dev_unit, running=True, restarted=True,
        # A unit started just now already runs the new code.
        _if=lambda: not started.did_change() and any(op.did_change() for op in changes),
    )
