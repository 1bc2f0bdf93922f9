import re
import shlex
from pathlib import Path

from pyinfra import host, logger
from pyinfra.api import OperationError, deploy, operation
from pyinfra.facts.files import File, FileContents
from pyinfra.operations import files, server, systemd

from tasks import template
from tasks.deploy_run import run_script
from tasks.facts import NginxHasLoaded, PresentPaths, production
from tasks.nginx_text import dev_locations, includes_line, tls_server_name_line


@operation()
def include_in_server_block(site: str, server_name: str, snippet: str, url_path: str, state_dir: str):
    """One include line in the TLS server block: in place of a hand-made location for url_path (adoption;
    preflight made sure it is the simple one), else after server_name. The rest of the file untouched;
    the site as it was is kept for the nginx check to put back if nginx -t fails."""
    lines = host.get_fact(FileContents, path=site)
    if lines is None:
        raise OperationError(f"production_nginx_site={site}: no such file on the host; "
                             f"point it at the site that serves {server_name}")
    include = f"include {snippet};"
    if includes_line(lines, include):
        host.noop(f"{site} includes {snippet}")
        return
    number = tls_server_name_line(lines, server_name)
    if number is None:
        raise OperationError(f"production_nginx_site={site}: no server block listens on 443 for {server_name}; "
                             f"fix server_name or the site")
    kept = f"{state_dir}/{Path(site).name}"
    yield f"cp -p {site} {kept}.previous"
    hand_made = dev_locations(lines, url_path)
    if hand_made:
        (first, last), = hand_made
        indent = re.match(r"\s*", lines[first - 1]).group(0)
        yield f"cp -pn {site} {kept}.before-adoption; sed -i '{first},{last}c\\{indent}{include}' {site}"
    else:
        indent = re.match(r"\s*", lines[number - 1]).group(0)
        yield f"sed -i '{number}a\\{indent}{include}' {site}"


@operation(is_idempotent=False)
def nginx_test_or_roll_back(site: str):
    """nginx -t after a dev change; when it fails, what the change touched goes back and the deploy fails."""
    yield from run_script("hacs-dev-nginx-check", site=site)


@operation()
def self_signed_certificate(certificate: str, key: str, server_name: str):
    if host.get_fact(File, path=certificate):
        host.noop(f"{certificate} exists")
        return
    yield (f"mkdir -p {Path(certificate).parent} && openssl req -x509 -newkey rsa:2048 -nodes -days 825 "
           f"-subj '/CN={server_name} (self-signed by bastion)' -addext subjectAltName=DNS:{server_name} "
           f"-keyout {key} -out {certificate} 2>/dev/null && chmod 600 {key}")


def certificate_for(name: str, letsencrypt: str, playbook: str) -> tuple[str, str, list]:
    """The Let's Encrypt certificate of name when the host has it, else a self-signed one named so (and the
    operation that makes it): (certificate, key, changes)."""
    if has_certificate(letsencrypt):
        return letsencrypt, str(Path(letsencrypt).with_name("privkey.pem")), []
    certificate, key, changes = self_signed_for(name)
    logger.warning(f"{host.print_prefix}no certificate at {letsencrypt}: {name} is served with the self-signed "
                   f"{certificate}; once DNS points here, `certbot certonly --nginx -d {name}` and run {playbook} again")
    return certificate, key, changes


def has_certificate(path: str) -> bool:
    """certbot's live/ files are symlinks into archive/: present when what they point at is."""
    return path in host.get_fact(PresentPaths, paths=[path])


def self_signed_for(name: str) -> tuple[str, str, list]:
    """A self-signed certificate for name, clearly named so, and the operation that makes it when missing."""
    stem = f"{host.data.selfsigned_certificates_dir}/selfsigned-{name}"
    certificate, key = f"{stem}.crt", f"{stem}.key"
    return certificate, key, [self_signed_certificate(name=f"Self-signed certificate for {name}, named so",
                                                      certificate=certificate, key=key, server_name=name)]


def standalone_site(d) -> list:
    """A brand-new droplet has no production site: the dev endpoint gets its own server block."""
    certificate, key, changes = certificate_for(d.server_name, d.tls_certificate, "deploy.py")
    changes.append(files.template(name="Dev site of its own", src=template("etc/nginx/sites-available/hacs-dev.j2"),
                                  dest=d.dev_nginx_site, certificate=certificate, certificate_key=key,
                                  self_signed=certificate != d.tls_certificate, user="root", group="root", mode="644"))
    changes.append(files.link(name="Dev site enabled", path=f"/etc/nginx/sites-enabled/{Path(d.dev_nginx_site).name}",
                              target=d.dev_nginx_site))
    return changes


@deploy("nginx")
def publish_dev_endpoint(door: list):
    """/mcp/dev in production's server block: a dev-owned snippet plus one include line;
    nginx -t before any reload (also of the door's changes), and the previous snippet back if it fails."""
    d = host.data
    production_site = production(d).site
    files.directory(name="bastion state directory", path=d.bastion_state_dir, mode="755")
    snippet = files.template(name="Dev snippet", src=template("etc/nginx/snippets/hacs-dev.conf.j2"),
                             dest=d.dev_nginx_snippet, user="root", group="root", mode="644")
    http_level = files.template(name="What the snippet needs at nginx's http level",
                                src=template("etc/nginx/conf.d/hacs-dev.conf.j2"), dest=d.dev_nginx_http_conf,
                                user="root", group="root", mode="644")
    if host.get_fact(File, path=production_site):
        site = [include_in_server_block(name="Production server block includes the dev snippet",
                                        site=production_site, server_name=d.server_name,
                                        snippet=d.dev_nginx_snippet, url_path=d.dev_url_path,
                                        state_dir=d.bastion_state_dir)]
    else:
        site = standalone_site(d)
    # A run stopped between its changes and the reload leaves the reload to the next run.
    not_loaded = not host.get_fact(NginxHasLoaded, stamp=loaded_stamp(d))
    due = lambda: not_loaded or any(op.did_change() for op in [snippet, http_level, *site, *door])  # noqa: E731
    nginx_test_or_roll_back(name="nginx -t (or roll back)", site=production_site, _if=due)
    reload_nginx(due, [d.dev_nginx_snippet, d.dev_nginx_http_conf, production_site, d.dev_nginx_site,
                       d.dev_door_script, d.dev_door_tokens_file])


def loaded_stamp(d) -> str:
    return f"{d.bastion_state_dir}/nginx-loaded.sha256"


def reload_nginx(due, paths: list[str] | None = None, why: str = "", **service):
    """nginx reloaded when due, then what it loaded remembered (the SHA-256 of paths, those that exist; without
    paths, of the files the stamp already names)."""
    stamp = loaded_stamp(host.data)
    listed = " ".join(shlex.quote(p) for p in paths) if paths else f'$(cut -c67- {stamp} 2>/dev/null)'
    systemd.service(name=f"nginx reloaded{why}", service="nginx.service", running=True, reloaded=True, _if=due,
                    **service)
    server.shell(name="What nginx loaded, remembered",
                 commands=[f"for f in {listed}; do [ -f \"$f\" ] && sha256sum \"$f\"; done > {stamp}.new; "
                           f"mv {stamp}.new {stamp}"], _if=due)
