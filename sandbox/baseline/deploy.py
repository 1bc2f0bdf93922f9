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

for name, certificate in ((d.server_name, d.tls_certificate), (d.production_art_server_name,
                                                                 d.production_art_certificate)):
    cert_dir = str(Path(certificate).parent)
    files.directory(name=f"Let's Encrypt live directory of {name}", path=cert_dir)
    server.shell(
        name=f"Self-signed stand-in for the Let's Encrypt certificate of {name}",
        commands=[f"test -s {certificate} || openssl req -x509 -newkey rsa:2048 -nodes -days 90 "
                  f"-subj /CN={name} -addext subjectAltName=DNS:{name} "
                  f"-keyout {cert_dir}/privkey.pem -out {certificate} 2>/dev/null"],
    )
files.directory(name="smoothcurves.art document root", path=d.production_art_root)
files.put(name="smoothcurves.art front page", src=StringIO("<!doctype html><title>Smooth Curves</title><h1>Smooth Curves</h1>\n"),
          dest=f"{d.production_art_root}/index.html")
files.template(name="smoothcurves.art site", src=str(HERE / "templates/smoothcurves-art.j2"), dest=d.production_art_site)
files.link(name="smoothcurves.art site enabled", path=f"/etc/nginx/sites-enabled/{Path(d.production_art_site).name}",
           target=d.production_art_site)

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
