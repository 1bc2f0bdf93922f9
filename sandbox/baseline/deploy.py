"""Fixture deploy: make a sandbox look like the live droplet before the dev environment exists.

Not part of the product: it lays what production looks like (see shared/notes/hacs-app.md), so
that every test of the dev deploy can show production was left alone.
"""
from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.operations import apt, files, git, server, systemd

HERE = Path(__file__).parent
d = host.data
root = str(Path(d.production_checkout).parent)

apt.packages(name="Production's packages", packages=["nginx", "nodejs", "npm", "git", "openssl", "curl"],
             update=True, cache_time=3600)

files.directory(name="Data volume", path=root)
git.repo(name="Production checkout (main)", src=d.dev_repo_url, dest=d.production_checkout,
         branch="main", pull=False)
files.directory(name="Production data", path=d.production_data_dir, mode="750")
for rel, text in {
    "projects/coordination-system-v2.json": '{"id": "coordination-system-v2", "status": "active"}\n',
    "instances/Foundation.json": '{"name": "Foundation", "role": "developer"}\n',
    "messages/inbox-lupo.json": '[{"from": "Bastion", "text": "dev environment coming"}]\n',
}.items():
    files.directory(name=f"Production data dir for {rel}", path=str(Path(d.production_data_dir, rel).parent))
    files.put(name=f"Production data {rel}", src=StringIO(text), dest=f"{d.production_data_dir}/{rel}")
files.directory(name="Production backups", path=d.production_backups_dir)
files.put(name="A production backup", src=StringIO("backup of 2025-11-09\n"),
          dest=f"{d.production_backups_dir}/production-data-2025-11-09.tar.gz")
files.directory(name="Old production checkout", path=d.production_old_checkout)
files.put(name="Old checkout content", src=StringIO("the checkout production ran from before\n"),
          dest=f"{d.production_old_checkout}/README.md")

cert_dir = str(Path(d.tls_certificate).parent)
files.directory(name="Let's Encrypt live directory", path=cert_dir)
server.shell(
    name="Self-signed stand-in for the Let's Encrypt certificate",
    commands=[f"test -s {d.tls_certificate} || openssl req -x509 -newkey rsa:2048 -nodes -days 3650 "
              f"-subj /CN={d.server_name} -addext subjectAltName=DNS:{d.server_name} "
              f"-keyout {d.tls_certificate_key} -out {d.tls_certificate} 2>/dev/null"],
)

unit = files.template(name="Production unit", src=str(HERE / "templates/mcp-coordination.service.j2"),
                      dest=f"/etc/systemd/system/{d.production_unit}")
systemd.service(name="Production service running", service=d.production_unit, running=True,
                enabled=True, daemon_reload=unit.did_change)

site = files.template(name="Production nginx site", src=str(HERE / "templates/smoothcurves-nexus.j2"),
                      dest=d.production_nginx_site)
files.link(name="Production site enabled", path=f"/etc/nginx/sites-enabled/{Path(d.production_nginx_site).name}",
           target=d.production_nginx_site)
files.link(name="No default site", path="/etc/nginx/sites-enabled/default", present=False)
server.shell(name="nginx -t", commands=["nginx -t"])
systemd.service(name="nginx serving production", service="nginx.service", running=True, enabled=True,
                reloaded=True)
