import re

from pyinfra import host
from pyinfra.api import OperationError, deploy, operation
from pyinfra.facts.files import FileContents
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


@operation()
def include_in_server_block(site: str, server_name: str, snippet: str):
    """One include line after server_name in the TLS server block; the rest of the file untouched."""
    lines = host.get_fact(FileContents, path=site)
    if lines is None:
        raise OperationError(f"production_nginx_site={site}: no such file on the host; point it at the site that serves {server_name}")
    include = f"include {snippet};"
    if any(line.split("#", 1)[0].strip() == include for line in lines):
        host.noop(f"{site} includes {snippet}")
        return
    number = tls_server_name_line(lines, server_name)
    if number is None:
        raise OperationError(f"production_nginx_site={site}: no server block listens on 443 for {server_name}; fix server_name or the site")
    indent = re.match(r"\s*", lines[number - 1]).group(0)
    yield f"sed -i '{number}a\\{indent}{include}' {site}"


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
    include = include_in_server_block(name="Production server block includes the dev snippet",
                                      site=d.production_nginx_site, server_name=d.server_name,
                                      snippet=d.dev_nginx_snippet)
    changed = lambda: snippet.did_change() or include.did_change()  # noqa: E731
    server.shell(name="nginx -t (or roll back)", commands=[d.dev_nginx_check_script], _if=changed)
    systemd.service(name="nginx reloaded", service="nginx.service", running=True, reloaded=True, _if=changed)
