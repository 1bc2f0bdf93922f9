"""systemd units written by a concern: systemd reads them again only when one changed, and what runs
from them is restarted only then (as Ansible's handlers do); nothing restarts for nothing."""
from pyinfra.operations import systemd


def reload_if_changed(written: list, what: str):
    """daemon-reload after any of the written unit files changed; the operation, to chain restarts on."""
    return systemd.daemon_reload(name=f"systemd reads {what}", _if=lambda: any(op.did_change() for op in written))


def enabled_and_current(services: list[str], written: list, what: str):
    """Each service (a timer, usually) enabled and running, and restarted when its unit files changed."""
    reload = reload_if_changed(written, what)
    for service in services:
        systemd.service(name=f"{service} enabled and running", service=service, running=True, enabled=True)
        systemd.service(name=f"{service} takes its new unit", service=service, running=True, restarted=True,
                        _if=reload.did_change)
    return reload
