from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, systemd

from tasks import jinja, template


@deploy("Backups")
def schedule_backups():
    """Timestamped, checked backups of the dev data on a timer, and the scripts that restore them."""
    d = host.data
    files.directory(name="Backups directory", path=d.dev_backups_dir, user="root", group="root", mode="700")
    for script, source in {d.dev_backup_script: "usr/local/sbin/hacs-dev-backup.j2",
                           d.dev_restore_script: "usr/local/sbin/hacs-dev-restore.j2"}.items():
        files.template(name=f"Script {script}", src=template(source), dest=script,
                       user="root", group="root", mode="755")
    units = [
        files.template(name=f"Unit {d.dev_backup_unit}.{kind}",
                       src=template(f"etc/systemd/system/hacs-dev-backup.{kind}.j2"),
                       dest=f"/etc/systemd/system/{d.dev_backup_unit}.{kind}", user="root", group="root", mode="644",
                       jinja_env_kwargs=jinja())
        for kind in ("service", "timer")
    ]
    systemd.daemon_reload(name="systemd reads the backup units", _if=lambda: any(u.did_change() for u in units))
    systemd.service(name=f"{d.dev_backup_unit}.timer enabled and waiting", service=f"{d.dev_backup_unit}.timer",
                    running=True, enabled=True)
