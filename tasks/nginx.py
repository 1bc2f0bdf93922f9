import re
from pathlib import Path

from pyinfra import host, logger
from pyinfra.api import OperationError, deploy, operation
from pyinfra.facts.files import File, FileContents
from pyinfra.operations import files, server, systemd

from tasks import template


def tls_server_name_line(lines: list[str], server_name: str) -> int | None:
    """1-based number of the server_name line in the server block that serves server_name on 443."""
    depth, block, found = 0, None, None
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0]
        if depth == 0 and re.match(r"\s*server\s*\{", line):
            block = {"listen_443": False, "server_name_line": None}
        elif depth == 1 and block is not None:
            if re.match(r"\s*listen\s+(\S*:)?443\b", line):
                block["listen_443"] = True
            if re.match(rf"\s*server_name\s+([^;]*\s)?{re.escape(server_name)}[\s;]", line):
                block["server_name_line"] = number
        depth += line.count("{") - line.count("}")
        if depth == 0 and block is not None:
            if block["listen_443"] and block["server_name_line"]:
                found = block["server_name_line"]
            block = None
    return found


def dev_locations(lines: list[str], url_path: str) -> list[tuple[int, int]]:
    """(first, last) 1-based line numbers of each location block for url_path written into a site."""
    blocks = []
    for start, raw in enumerate(lines):
        if not re.match(rf"\s*location\s+(=\s*)?{re.escape(url_path)}/?\s*\{{", raw.split("#", 1)[0]):
            continue
        depth = 0
        for end in range(start, len(lines)):
            code = lines[end].split("#", 1)[0]
            depth += code.count("{") - code.count("}")
            if depth <= 0:
                blocks.append((start + 1, end + 1))
                break
    return blocks


def not_a_simple_proxy(lines: list[str], block: tuple[int, int], port: int) -> str | None:
    """None when the block only proxies to the dev port on loopback (what the diary wrote); else why not."""
    first, last = block
    body = " ".join(line.split("#", 1)[0] for line in lines[first - 1:last])
    inner = body[body.index("{") + 1:body.rindex("}")]
    statements = [part.strip() for part in inner.split(";") if part.strip()]
    foreign = [stmt for stmt in statements if not stmt.startswith("proxy_") or "{" in stmt]
    if foreign:
        return f"it also has `{foreign[0][:60]}`"
    passes = [stmt for stmt in statements if stmt.startswith("proxy_pass")]
    if len(passes) != 1 or not re.fullmatch(rf"proxy_pass\s+http://(localhost|127\.0\.0\.1):{port}/?", passes[0]):
        return f"it does not proxy to the dev port {port} on this host"
    return None


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
    if any(line.split("#", 1)[0].strip() == include for line in lines):
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
    if host.get_fact(File, path=letsencrypt):
        return letsencrypt, str(Path(letsencrypt).with_name("privkey.pem")), []
    stem = f"{host.data.selfsigned_certificates_dir}/selfsigned-{name}"
    certificate, key = f"{stem}.crt", f"{stem}.key"
    logger.warning(f"{host.print_prefix}no certificate at {letsencrypt}: {name} is served with the self-signed "
                   f"{certificate}; once DNS points here, `certbot certonly --nginx -d {name}` and run {playbook} again")
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
def publish_dev_endpoint():
    """/mcp/dev in production's server block: a dev-owned snippet plus one include line;
    nginx -t before any reload, and the previous snippet back if it fails."""
    d = host.data
    files.directory(name="bastion state directory", path=d.bastion_state_dir, mode="755")
    files.template(name="nginx check-or-roll-back script", src=template("usr/local/sbin/hacs-dev-nginx-check.j2"),
                   dest=d.dev_nginx_check_script, user="root", group="root", mode="755")
    snippet = files.template(name="Dev snippet", src=template("etc/nginx/snippets/hacs-dev.conf.j2"),
                             dest=d.dev_nginx_snippet, user="root", group="root", mode="644")
    if host.get_fact(File, path=d.production_nginx_site):
        site = [include_in_server_block(name="Production server block includes the dev snippet",
                                        site=d.production_nginx_site, server_name=d.server_name,
                                        snippet=d.dev_nginx_snippet, url_path=d.dev_url_path,
                                        state_dir=d.bastion_state_dir)]
    else:
        site = standalone_site(d)
    changed = lambda: any(op.did_change() for op in [snippet, *site])  # noqa: E731
    server.shell(name="nginx -t (or roll back)", commands=[d.dev_nginx_check_script], _if=changed)
    systemd.service(name="nginx reloaded", service="nginx.service", running=True, reloaded=True, _if=changed)
