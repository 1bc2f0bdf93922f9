"""The backup host (backup_host.py): the repository's user and directory, the droplet's key forced into
an append-only restic server for that path, and the repository's upkeep (retention, check) by timers of
its own, so that root on the droplet can add and read snapshots but never delete or overwrite one."""
import subprocess
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.server import Users
from pyinfra.operations import apt, files, server

from tasks import backup_rules, facts, jinja, rules, template, units
from tasks.operator_secrets import local_file, made_here, secret_copy


def droplet_public_key() -> str:
    """The public half of backup_ssh_key, from the private key itself (no .pub file needed)."""
    done = subprocess.run(["ssh-keygen", "-y", "-f", str(local_file("backup_ssh_key"))], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        rules.refuse(host.name, [f"backup_ssh_key={host.data.backup_ssh_key}: not a private key ssh-keygen reads "
                                 f"({done.stderr.strip()}); give the key deploy.py gives the droplet"], "backup host")
    return done.stdout.strip()


def append_only_line(key: str, path: str) -> str:
    """authorized_keys: this key runs nothing but the append-only server of one path, whatever it asks."""
    command = f"rclone serve restic --stdio --append-only --config '' -q {path}"
    return f'restrict,command="{command}" {key}'


@deploy("Backup host")
def keep_the_repository():
    d = host.data
    problems = backup_rules.backup_host_settings_problems(d)
    if not problems:  # each a unit's line: then whether this host's systemd reads it as a calendar
        keys = backup_rules.BACKUP_HOST_SCHEDULES
        problems = backup_rules.schedule_problems(d, host.get_fact(facts.CalendarsReadable,
                                                                   specs=[getattr(d, key) for key in keys]), keys)
    rules.refuse(host.name, problems, "backup host")
    target = backup_rules.sftp_target(d.backup_repository)
    user, path = target["user"], target["path"]
    key = droplet_public_key()

    missing = [name for name in d.backup_host_packages if name not in host.get_fact(DebPackages)]
    apt.packages(name="restic and rclone from the distribution", packages=d.backup_host_packages,
                 update=bool(missing), cache_time=d.apt_cache_max_age_seconds)
    home = (host.get_fact(Users).get(user) or {}).get("home") or f"/home/{user}"
    server.user(name=f"Repository user {user}", user=user, home=home, create_home=True, shell="/bin/sh",
                comment="restic repository of the SmoothCurves droplet (bastion)")
    for parent in reversed(Path(path).parents[:-1]):
        files.directory(name=f"{parent} (kept as it is when there)", path=str(parent), present=True)
    files.directory(name=f"Repository {path}", path=path, user=user, group=user, mode="700")
    files.directory(name=f"{home}/.ssh", path=f"{home}/.ssh", user=user, group=user, mode="700")
    keys = f"{home}/.ssh/authorized_keys"
    # The key's line, wherever it was and whatever options it had, becomes the append-only one (base64
    # holds no character that grep's basic regular expressions take for an operator).
    files.line(name="The droplet's key: append-only, nothing else", path=keys,
               line=key.split()[1], replace=append_only_line(key, path))
    files.file(name=f"{keys} is {user}'s alone", path=keys, user=user, group=user, mode="600")

    # The operator's password (made here when this is the first run of all): the upkeep opens the
    # repository with it, and the droplet's deploy copies the same one.
    files.directory(name="Backup host configuration (root only)", path=d.backup_host_config_dir,
                    user="root", group="root", mode="700")
    secret_copy(name=f"Repository password in {d.backup_host_config_dir}", src=str(made_here("backup_password_file")),
                dest=f"{d.backup_host_config_dir}/password")
    scripts = {d.backup_host_prune_script: "bastion-repository-prune", d.backup_host_check_script: "bastion-repository-check"}
    for dest, source in scripts.items():
        files.template(name=f"Script {dest}", src=template(f"usr/local/sbin/{source}.j2"), dest=dest,
                       user="root", group="root", mode="755", jinja_env_kwargs=jinja(), path=path)
    timers = {d.backup_host_prune_unit: ("bastion-repository-prune", d.backup_host_prune_script,
                                         d.backup_host_prune_schedule, "Forget and prune by the retention policy"),
              d.backup_host_check_unit: ("bastion-repository-check", d.backup_host_check_script,
                                         d.backup_host_check_schedule, "Check")}
    written = [
        files.template(name=f"Unit {unit}.{kind}", src=template(f"etc/systemd/system/{source}.{kind}.j2"),
                       dest=f"/etc/systemd/system/{unit}.{kind}", user="root", group="root", mode="644",
                       jinja_env_kwargs=jinja(), path=path, user_name=user, script=script, schedule=schedule,
                       what=what)
        for unit, (source, script, schedule, what) in timers.items()
        for kind in ("service", "timer")
    ]
    units.enabled_and_current([f"{unit}.timer" for unit in timers], written, "the repository's timers")
