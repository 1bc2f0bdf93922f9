"""Production on a new host (production.py), as the droplet runs it today: the checkout of main with its
secrets file, the data root (the volume root since the V1 -> V2 cutover), the unit as the droplet has it,
the 2026 site and smoothcurves.art under their real file names, their certificates. Never over a host
that has production it did not build (the live droplet), unless its address is named in
production_rebuild_host. deploy.py never calls any of this."""
from pathlib import Path

from pyinfra import host, logger
from pyinfra.api import deploy, operation
from pyinfra.facts.files import Directory, File, FileContents
from pyinfra.operations import apt, files, git, server, systemd

from batchssh import read_only
from tasks import template, units
from tasks.backup_rules import backup_settings_problems, snapshot_text
from tasks.backups import backup_host_problems
from tasks.certificates import acme_ca_bundle, certificates_from_certbot, chosen_site, site_with_certificate
from tasks.deploy_run import run_script
from tasks.facts import DirectoryEntries, production
from tasks.health import quote
from tasks.nginx import has_certificate, reload_nginx
from tasks.rules import refuse, tls_settings_problems

BUILT_MARK = "production-built-by-bastion"


@deploy("Production preflight")
def refuse_unless_new_host():
    d = host.data
    address = d.get("ssh_hostname") or host.name
    prod = production(d)
    found = [f"{what} {path}" for what, path, fact in (
        ("unit", f"/etc/systemd/system/{d.production_unit}", File), ("checkout", prod.checkout, Directory),
        ("site", prod.site, File)) if host.get_fact(fact, path=path)]
    if prod.found and not found:
        found.append(f"a server on port {d.production_port} (PID {prod.pid})")
    built_here = host.get_fact(File, path=f"{d.bastion_state_dir}/{BUILT_MARK}")
    problems = []
    if found and not built_here and d.production_rebuild_host != address:
        problems.append(f"production_rebuild_host: {address} already has production ({', '.join(found)}); "
                        f"production.py builds new hosts only. To build over it anyway, name it: "
                        f"--data production_rebuild_host={address}")
    if host.get_fact(File, path=d.dev_nginx_site):
        problems.append(f"dev_nginx_site: {d.dev_nginx_site} serves {d.server_name} already (the dev deploy ran first); "
                        f"run production.py before deploy.py on a new host, or remove that site")
    problems += tls_settings_problems(d) + (backup_settings_problems(d) or backup_host_problems(d))
    refuse(host.name, problems, "production preflight")


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


@operation()
def restore_production_data(snapshot: str, data: str, entries: list[str], marker: str):
    """Production's data from the backup repository, into a data root that holds none of the app's data
    yet, once: what is there is never replaced."""
    done = host.get_fact(FileContents, path=marker)
    if done:
        host.noop(f"production's data was restored from snapshot {done[0]} already")
        return
    present = set(host.get_fact(DirectoryEntries, path=data)) & set(entries)
    if present:
        host.noop(f"{data} holds {', '.join(sorted(present))} already: production_restore_from is for a new host, "
                  f"nothing was replaced")
        return
    yield from run_script("hacs-production-restore", [snapshot])


@deploy("Production")
def build_production():
    d = host.data
    checkout, data = d.production_checkout, d.production_data_dir
    files.directory(name="bastion state directory", path=d.bastion_state_dir, mode="755")
    files.file(name="Marked as built by production.py", path=f"{d.bastion_state_dir}/{BUILT_MARK}")
    files.directory(name=f"Data root {data}", path=data, mode="755")
    code = git.repo(name=f"Production checkout ({d.production_branch})", src=d.production_repo_url or d.dev_repo_url,
                    dest=checkout, branch=d.production_branch, pull=False)
    libraries = server.shell(name="npm ci when the checkout is new", commands=[
        f"cd {checkout} && if [ -f package-lock.json ]; then npm ci --omit=dev; fi"], _if=code.did_change)
    restored = []
    if d.production_restore_from:
        snapshot = snapshot_text(d.production_restore_from)
        restored = [restore_production_data(
            name=f"Production's data from snapshot {snapshot} of {d.backup_repository}",
            snapshot=snapshot, data=data, entries=d.v2_data_entries,
            marker=f"{d.bastion_state_dir}/production-restored-from.snapshot")]
    if d.production_secrets_file:
        # The unit's EnvironmentFile: created empty when the restore brought none; its content never touched.
        files.file(name=f"Secrets file {d.production_secrets_file} (0600, content never touched)",
                   path=d.production_secrets_file, mode="600")
    unit = files.template(name=f"Unit {d.production_unit}", src=template("etc/systemd/system/mcp-coordination.service.j2"),
                          dest=f"/etc/systemd/system/{d.production_unit}", mode="644")
    units.reload_if_changed([unit], "the production unit")
    systemd.service(name=f"{d.production_unit} enabled and running", service=d.production_unit, running=True,
                    enabled=True)
    systemd.service(name=f"{d.production_unit} restarted on a new unit or code", service=d.production_unit,
                    running=True, restarted=True, _if=lambda: any(op.did_change() for op in (unit, code, libraries, *restored)))
    publish_sites(d, certificates_may_come=bool(restored) and bool(d.production_tls_dir))
    production_is_healthy(name="Production healthy, directly and through nginx", port=d.production_port,
                          server_name=d.server_name, timeout=d.production_health_timeout_seconds)
    for what, why in d.production_not_rebuilt.items():
        logger.warning(f"{host.print_prefix}not rebuilt by production.py: {what} ({why})")


def nginx_reloaded_after(changes: list, why: str):
    changed = lambda: any(op.did_change() for op in changes)  # noqa: E731
    server.shell(name=f"nginx -t{why}", commands=["nginx -t"], _if=changed)
    reload_nginx(changed, why=why, enabled=True)


def publish_sites(d, certificates_may_come: bool):
    """Both sites under the droplet's own file names; nexus first in sites-enabled, so it stays the default
    443 server (the team's proxy client sends the IP as Host). On a host told that DNS points here
    (production_tls_obtain), certbot then obtains the certificates it has not got, and the sites serve them."""
    dev_include = f"include {d.dev_nginx_snippet};" if host.get_fact(File, path=d.dev_nginx_snippet) else None
    may_come = certificates_may_come or d.production_tls_obtain
    names = {d.server_name: (d.tls_certificate, d.production_nginx_site, "etc/nginx/sites-available/smoothcurves-nexus.j2",
                             {"dev_include": dev_include}),
             d.production_art_server_name: (d.production_art_certificate, d.production_art_site,
                                            "etc/nginx/sites-available/smoothcurves.art.j2", {})}
    sites = [op for name, (letsencrypt, site, source, context) in names.items()
             for op in site_with_certificate(name, source, site, letsencrypt, may_come, **context)]
    sites += [
        files.directory(name="smoothcurves.art document root", path=d.production_art_root, mode="755"),
        files.directory(name="Per-instance routes (claw instances)", path=d.production_claw_routes_dir, mode="755"),
        placeholder_page(name="smoothcurves.art front page (only if none)", root=d.production_art_root,
                         server_name=d.production_art_server_name),
        *[files.link(name=f"Site {Path(site).name} enabled", path=f"/etc/nginx/sites-enabled/{Path(site).name}",
                     target=site) for site in (d.production_nginx_site, d.production_art_site)],
        files.link(name="nginx's default site disabled", path="/etc/nginx/sites-enabled/default", present=False),
    ]
    nginx_reloaded_after(sites, "")
    if not d.production_tls_obtain:
        return
    obtained = certificates_from_certbot(
        name="Certificates from certbot for the names the host has none of",
        names={name: letsencrypt for name, (letsencrypt, *_rest) in names.items()},
        server_url=d.production_acme_server, ca_bundle=acme_ca_bundle(d), email=d.production_acme_email)
    chosen = [chosen_site(name, site, letsencrypt, _if=obtained.did_change)
              for name, (letsencrypt, site, *_rest) in names.items() if not has_certificate(letsencrypt)]
    nginx_reloaded_after(chosen, ", serving the certificates certbot obtained")
    systemd.service(name="certbot's renewal timer", service="certbot.timer", running=True, enabled=True)
