"""Production on a new host (production.py): the checkout of main, its data directories, the unit, both
nginx sites and their certificates. Never on the live droplet by accident: a host that already has a
production unit, checkout or site, and was not built by production.py, is refused unless its address
is named in production_rebuild_host. deploy.py never calls any of this."""
import sys
from pathlib import Path

from pyinfra import host
from pyinfra.api import FactBase, deploy, operation
from pyinfra.facts.files import Directory, File, FileContents
from pyinfra.operations import apt, files, git, server, systemd

from batchssh import read_only
from tasks import jinja, reported, template
from tasks.backups import is_snapshot_id
from tasks.health import quote
from tasks.nginx import certificate_for
from tasks.preflight import PreflightFailed, backup_host_problems, backup_settings_problems

BUILT_MARK = "production-built-by-bastion"


@deploy("Production preflight")
def refuse_unless_new_host():
    d = host.data
    address = d.get("ssh_hostname") or host.name
    found = [f"{what} {path}" for what, path, fact in (
        ("unit", f"/etc/systemd/system/{d.production_unit}", File), ("checkout", d.production_checkout, Directory),
        ("site", d.production_nginx_site, File)) if host.get_fact(fact, path=path)]
    built_here = host.get_fact(File, path=f"{d.bastion_state_dir}/{BUILT_MARK}")
    problems = []
    if found and not built_here and d.production_rebuild_host != address:
        problems.append(f"production_rebuild_host: {address} already has production ({', '.join(found)}); "
                        f"production.py builds new hosts only. To build over it anyway, name it: "
                        f"--data production_rebuild_host={address}")
    if host.get_fact(File, path=d.dev_nginx_site):
        problems.append(f"dev_nginx_site: {d.dev_nginx_site} serves {d.server_name} already (the dev deploy ran first); "
                        f"run production.py before deploy.py on a new host, or remove that site")
    problems += backup_settings_problems(d) or backup_host_problems(d)
    if d.production_restore_from and d.production_restore_from != "latest" and not is_snapshot_id(d.production_restore_from):
        problems.append(f"production_restore_from={d.production_restore_from}: give latest or a snapshot id "
                        f"(`bastion-restic snapshots --tag production` lists them)")
    if problems:
        lines = "\n".join(f"  {problem}" for problem in problems)
        print(f"production preflight on {host.name}: nothing on the host was changed:\n{lines}", file=sys.stderr, flush=True)
        raise PreflightFailed(2)


@operation()
def placeholder_page(root: str, server_name: str):
    """A front page only where there is none: the site's real content is restored, never overwritten."""
    if host.get_fact(FileContents, path=f"{root}/index.html") is not None:
        host.noop(f"{root} has its front page")
        return
    yield (f"printf '%s\\n' '<!doctype html><title>{server_name}</title><p>{server_name}: content to be restored.' "
           f"> {root}/index.html")


@operation()
def production_is_healthy(port: int, server_name: str, timeout: int):
    """Production answers on its port and through nginx (the app may take a few seconds to make its certificate)."""
    if not host.state.is_executing:
        return
    check = (f"for i in $(seq {timeout * 2}); do curl -sk --max-time 3 https://localhost:{port}/health | grep -q healthy && "
             f"curl -sk --max-time 3 --resolve {server_name}:443:127.0.0.1 https://{server_name}/health | grep -q healthy "
             f"&& exit 0; sleep 0.5; done; echo 'production is not healthy on port {port} and through nginx'; exit 1")
    with read_only(host):
        healthy, output = host.run_shell_command(check)
    if healthy:
        host.noop(f"port {port} and https://{server_name}/health answer healthy")
        return
    yield f"echo {quote(output.stdout)} >&2; systemctl status --no-pager {host.data.production_unit} >&2; exit 1"


@deploy("Production packages")
def install_packages():
    apt.packages(name="Production's packages, and restic", packages=host.data.production_packages, update=True,
                 cache_time=3600)


class DirectoryEntries(FactBase):
    """How many entries a directory holds (0 when it is missing)."""

    def command(self, path):
        return f"ls -A {path} 2>/dev/null | wc -l"

    def process(self, output):
        return int(output[0]) if output else 0


@operation()
def restore_production_data(snapshot: str, data: str, script: str, marker: str):
    """Production's data from the backup repository, into an empty production_data_dir only, once: what
    is there is never replaced."""
    done = host.get_fact(FileContents, path=marker)
    if done:
        host.noop(f"production's data was restored from snapshot {done[0]} already")
        return
    if host.get_fact(DirectoryEntries, path=data):
        host.noop(f"{data} is not empty: production_restore_from is for a new host, nothing was replaced")
        return
    yield reported(f"{script} {snapshot}")


@deploy("Production")
def build_production():
    d = host.data
    files.directory(name="bastion state directory", path=d.bastion_state_dir, mode="755")
    files.file(name="Marked as built by production.py", path=f"{d.bastion_state_dir}/{BUILT_MARK}")
    code = git.repo(name=f"Production checkout ({d.production_branch})", src=d.production_repo_url or d.dev_repo_url,
                    dest=d.production_checkout, branch=d.production_branch, pull=False)
    libraries = server.shell(name="npm ci when the checkout is new", commands=[
        f"cd {d.production_checkout} && if [ -f package-lock.json ]; then npm ci --omit=dev; fi"], _if=code.did_change)
    for path in (d.production_data_dir, d.production_backups_dir):
        files.directory(name=f"Directory {path}", path=path, mode="750")
    restored = []
    if d.production_restore_from:
        files.template(name=f"Script {d.production_restore_script}", src=template("usr/local/sbin/hacs-production-restore.j2"),
                       dest=d.production_restore_script, user="root", group="root", mode="755", jinja_env_kwargs=jinja())
        restored = [restore_production_data(
            name=f"Production's data from snapshot {d.production_restore_from} of {d.backup_repository}",
            snapshot=d.production_restore_from, data=d.production_data_dir, script=d.production_restore_script,
            marker=f"{d.bastion_state_dir}/production-restored-from.snapshot")]
    unit = files.template(name=f"Unit {d.production_unit}", src=template("etc/systemd/system/mcp-coordination.service.j2"),
                          dest=f"/etc/systemd/system/{d.production_unit}", mode="644")
    systemd.daemon_reload(name="systemd reads the production unit", _if=unit.did_change)
    systemd.service(name=f"{d.production_unit} enabled and running", service=d.production_unit, running=True,
                    enabled=True)
    systemd.service(name=f"{d.production_unit} restarted on a new unit or code", service=d.production_unit,
                    running=True, restarted=True, _if=lambda: any(op.did_change() for op in (unit, code, libraries, *restored)))

    dev_include = f"include {d.dev_nginx_snippet};" if host.get_fact(File, path=d.dev_nginx_snippet) else None
    nexus_certificate, nexus_key, nexus_changes = certificate_for(d.server_name, d.tls_certificate, "production.py")
    art_certificate, art_key, art_changes = certificate_for(d.production_art_server_name, d.production_art_certificate,
                                                                "production.py")
    sites = [
        files.template(name="Site smoothcurves.nexus", src=template("etc/nginx/sites-available/smoothcurves-nexus.j2"),
                       dest=d.production_nginx_site, certificate=nexus_certificate, certificate_key=nexus_key,
                       dev_include=dev_include, mode="644"),
        files.template(name="Site smoothcurves.art", src=template("etc/nginx/sites-available/smoothcurves-art.j2"),
                       dest=d.production_art_site, certificate=art_certificate, certificate_key=art_key, mode="644"),
        files.directory(name="smoothcurves.art document root", path=d.production_art_root, mode="755"),
        placeholder_page(name="smoothcurves.art front page (only if none)", root=d.production_art_root,
                         server_name=d.production_art_server_name),
        *[files.link(name=f"Site {Path(site).name} enabled", path=f"/etc/nginx/sites-enabled/{Path(site).name}",
                     target=site) for site in (d.production_nginx_site, d.production_art_site)],
        files.link(name="nginx's default site disabled", path="/etc/nginx/sites-enabled/default", present=False),
        *nexus_changes, *art_changes,
    ]
    changed = lambda: any(op.did_change() for op in sites)  # noqa: E731
    server.shell(name="nginx -t", commands=["nginx -t"], _if=changed)
    systemd.service(name="nginx reloaded", service="nginx.service", running=True, enabled=True, reloaded=True,
                    _if=changed)
    production_is_healthy(name="Production healthy, directly and through nginx", port=d.production_port,
                          server_name=d.server_name, timeout=d.production_health_timeout_seconds)
