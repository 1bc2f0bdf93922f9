from pyinfra import host
from pyinfra.api import deploy, operation
from pyinfra.operations import files, systemd

from tasks import jinja, template, units
from tasks.facts import InHostNetwork, UnitFailed


@operation()
def clear_failed_state(unit: str):
    """A crash-looping earlier commit leaves the unit failed (start limit hit): this is a new attempt."""
    if host.get_fact(UnitFailed, unit=unit):
        yield f"systemctl reset-failed {unit}"
    else:
        host.noop(f"{unit} is not in a failed state")


@deploy("Service")
def run_dev_service(restart_after=()):
    """The dev server's unit and its door (a socket systemd holds, carried into the server's own network
    namespace): enabled, running, restarted only when unit, code or dependencies changed."""
    d = host.data
    unit = files.template(name=f"Unit {d.dev_unit}", src=template("etc/systemd/system/mcp-coordination-dev.service.j2"),
                          dest=f"/etc/systemd/system/{d.dev_unit}", user="root", group="root", mode="644",
                          jinja_env_kwargs=jinja())
    door = [files.template(name=f"Unit {d.dev_proxy_unit}.{kind}", src=template(f"etc/systemd/system/hacs-dev-proxy.{kind}.j2"),
                           dest=f"/etc/systemd/system/{d.dev_proxy_unit}.{kind}", user="root", group="root", mode="644")
            for kind in ("socket", "service")]
    units.reload_if_changed([unit, *door], "the dev server's units")
    for name in (d.dev_unit, f"{d.dev_proxy_unit}.socket"):
        clear_failed_state(name=f"{name} not left failed", unit=name)
    # A server that does not come up is reported once, with its journal, by the health gate.
    started = systemd.service(name=f"{d.dev_unit} enabled and running", service=d.dev_unit,
                              running=True, enabled=True, _ignore_errors=True)
    changes = [unit, *door, *restart_after]
    outside = host.get_fact(InHostNetwork, unit=d.dev_unit)
    systemd.service(
        name=f"Restart {d.dev_unit} on the new unit, code or dependencies",
        service=d.dev_unit, running=True, restarted=True, _ignore_errors=True,
        # A unit started just now already runs the new code.
        _if=lambda: not started.did_change() and (outside or any(op.did_change() for op in changes)),
    )
    # Only once the server runs in its own network namespace: before, a server of an older unit may still
    # hold the port on the host.
    # Bound to the server, the door opens once it answers; a server that does not come up fails it too, and
    # the health gate reports why.
    systemd.service(name=f"{d.dev_proxy_unit}.socket listens on {d.dev_listen_address}:{d.dev_port}",
                    service=f"{d.dev_proxy_unit}.socket", running=True, enabled=True, _ignore_errors=True)
    systemd.service(name=f"{d.dev_proxy_unit} takes its new unit", service=f"{d.dev_proxy_unit}.service",
                    running=False, _if=lambda: any(op.did_change() for op in [unit, *door]))
