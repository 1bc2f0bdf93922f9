"""Fixture deploy: make a sandbox look like one of the droplets before the dev environment exists.

    pyinfra -y inventory.py sandbox/baseline/deploy.py --data layout=2026     (or 2025)

Not part of the product and reading none of its settings: it lays what the droplet is (see
sandbox/layouts.py and shared/notes/), so that every test of a bastion run can show production, its
services and its leftovers were left alone.
"""
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

from pyinfra import host
from pyinfra.operations import apt, files, git, server, systemd

HERE = Path(__file__).parent
VOLUME = "/mnt/coordinaton_mcp_data"
layout = str(host.data.get("layout") or "2026")  # --data parses 2026 as a number
p = SimpleNamespace(
    name="smoothcurves.nexus", port=3444, art_name="smoothcurves.art", art_root="/var/www/smoothcurves.art",
    certificate="/etc/letsencrypt/live/smoothcurves.nexus/fullchain.pem",
    key="/etc/letsencrypt/live/smoothcurves.nexus/privkey.pem",
    art_certificate="/etc/letsencrypt/live/smoothcurves.art/fullchain.pem",
    upstream=host.data.dev_repo_url,
)


def lay(files_by_path: dict[str, str], why: str, mode: str | None = None):
    """Files with content, their directories made first."""
    for path, text in files_by_path.items():
        files.directory(name=f"{why}: {Path(path).parent}", path=str(Path(path).parent))
        files.put(name=f"{why}: {path}", src=StringIO(text), dest=path, **({"mode": mode} if mode else {}))


def certificates():
    """Self-signed stand-ins laid out as certbot lays out its own (the sandbox has no DNS): the files in
    archive/NAME/*1.pem, live/NAME/* symlinks to them, renewal/NAME.conf."""
    for name, certificate in ((p.name, p.certificate), (p.art_name, p.art_certificate)):
        live, archive = str(Path(certificate).parent), f"/etc/letsencrypt/archive/{name}"
        files.directory(name=f"Let's Encrypt directories of {name}", path=archive)
        files.directory(name=f"Let's Encrypt live directory of {name}", path=live)
        server.shell(name=f"Self-signed stand-in for the Let's Encrypt certificate of {name}", commands=[
            f"test -s {archive}/fullchain1.pem || {{ openssl req -x509 -newkey rsa:2048 -nodes -days 90 -subj /CN={name} "
            f"-addext subjectAltName=DNS:{name} -keyout {archive}/privkey1.pem -out {archive}/cert1.pem 2>/dev/null && "
            f"cp {archive}/cert1.pem {archive}/fullchain1.pem && cp {archive}/cert1.pem {archive}/chain1.pem; }}",
            *[f"ln -sfn ../../archive/{name}/{part}1.pem {live}/{part}.pem"
              for part in ("cert", "chain", "fullchain", "privkey")]])
        lay({f"/etc/letsencrypt/renewal/{name}.conf":
             f"# renew_before_expiry = 30 days\nversion = 2.1.0\narchive_dir = {archive}\ncert = {live}/cert.pem\n"
             f"privkey = {live}/privkey.pem\nchain = {live}/chain.pem\nfullchain = {live}/fullchain.pem\n\n"
             f"[renewalparams]\nauthenticator = nginx\ninstaller = nginx\nserver = https://acme-v02.api.letsencrypt.org/directory\n"},
            "certbot's renewal configuration")
    lay({f"{p.art_root}/index.html": "<!doctype html><title>Smooth Curves</title><h1>Smooth Curves</h1>\n"},
        "smoothcurves.art")


def site(source: str, dest: str):
    files.template(name=f"Site {Path(dest).name}", src=str(HERE / "templates" / source), dest=dest, p=p)
    files.link(name=f"Site {Path(dest).name} enabled", path=f"/etc/nginx/sites-enabled/{Path(dest).name}", target=dest)


def unit(source: str, name: str, **kwargs):
    written = files.template(name=f"Unit {name}", src=str(HERE / "templates" / source),
                             dest=f"/etc/systemd/system/{name}", p=p, **kwargs)
    systemd.service(name=f"{name} running", service=name, running=True, enabled=True, daemon_reload=written.did_change)


def droplet_2025():
    """The diary's droplet: production in production/ on production-data, an older checkout beside it."""
    p.checkout, p.data_dir = f"{VOLUME}/production", f"{VOLUME}/production-data"
    files.directory(name="Data volume", path=VOLUME)
    git.repo(name="Production checkout (main)", src=p.upstream, dest=p.checkout, branch="main", pull=False)
    files.directory(name="Production data", path=p.data_dir, mode="750")
    lay({f"{p.data_dir}/projects/coordination-system-v2.json": '{"id": "coordination-system-v2", "status": "active"}\n',
         f"{p.data_dir}/instances/Foundation.json": '{"name": "Foundation", "role": "developer"}\n',
         f"{p.data_dir}/messages/inbox-lupo.json": '[{"from": "Bastion", "text": "dev environment coming"}]\n',
         f"{VOLUME}/production-data-backups/production-data-2025-11-09.tar.gz": "backup of 2025-11-09\n",
         f"{VOLUME}/Human-Adjacent-Coordination/README.md": "the checkout production ran from before\n"},
        "Production")
    certificates()
    site("2025/smoothcurves.art.j2", "/etc/nginx/sites-available/smoothcurves.art")
    unit("2025/mcp-coordination.service.j2", "mcp-coordination.service")
    site("2025/smoothcurves-nexus.j2", "/etc/nginx/sites-available/smoothcurves-nexus")


LEFTOVERS_2026 = {
    # V1's checkout and data, kept after the cutover; v2-dev lost its .git somewhere along the way.
    f"{VOLUME}/production/README.md": "V1 production checkout, defunct since 2025-12-24\n",
    f"{VOLUME}/production/data/projects.json": '{"projects": ["coordination-system"]}\n',
    f"{VOLUME}/production-data/projects/coordination-system-v2.json": '{"id": "coordination-system-v2", "v": 1}\n',
    f"{VOLUME}/production-data-backups/production-data-2025-11-09.tar.gz": "V1 backup of 2025-11-09\n",
    f"{VOLUME}/production-backups/2025-12-20.tar.gz": "backup of 2025-12-20\n",
    f"{VOLUME}/v2-dev/src/streamable-http-server.js": "// the 2025 dev server's code, no longer a checkout\n",
    f"{VOLUME}/v2-dev/secrets.env": "WAKE_API_KEY=leftover-dev-key\n",
    f"{VOLUME}/v2-dev-data/instances/Bastion-0001/preferences.json": '{"instanceId": "Bastion-0001"}\n',
    f"{VOLUME}/v2-data/roles/Developer/role.json": '{"roleId": "Developer", "v": "2025"}\n',
}
DATA_2026 = {
    # Production's live data, at the volume root ("consolidated" at the cutover).
    "instances/Lupo-f63b/preferences.json": '{"instanceId": "Lupo-f63b", "name": "Lupo", "role": "Executive"}\n',
    "instances/Lupo-f63b/diary.md": "# Lupo Diary\n\nThe cutover went well.\n",
    "instances/Crossing-a1b2/preferences.json":
        '{"instanceId": "Crossing-a1b2", "name": "Crossing", "channelPort": 21000}\n',
    # Each instance's home holds its credentials (shared/notes/team-2026.md), every value marked PRODSECRET, and
    # what is personal, marked PRODPERSONAL: none of it may reach dev.
    "instances/Lupo-f63b/.claude/.credentials.json":
        '{"claudeAiOauth": {"accessToken": "sk-ant-oat01-PRODSECRET-lupo", "refreshToken": "sk-ant-ort01-PRODSECRET-r", '
        '"expiresAt": 1767225600000, "scopes": ["user:inference"]}}\n',
    "instances/Lupo-f63b/.env": "TELEGRAM_BOT_TOKEN=7012345678:PRODSECRET-telegram\n",
    "instances/Lupo-f63b/.codex/auth.json": '{"OPENAI_API_KEY": "sk-PRODSECRET-codex"}\n',
    "instances/Lupo-f63b/.claude/projects/-mnt-coordinaton-mcp-data/session.jsonl": '{"text": "PRODPERSONAL transcript"}\n',
    "instances/Lupo-f63b/mail/new/1.eml": "Subject: PRODPERSONAL mail\n",
    "instances/Crossing-a1b2/openfang/.env": "OPENROUTER_API_KEY=sk-or-v1-PRODSECRET-openfang\nANTHROPIC_API_KEY=PRODSECRET-a\n",
    "instances/Crossing-a1b2/zeroclaw/bearer-token.txt": "zc_PRODSECRET_bearer\n",
    "auth-keys/Lupo-f63b.json": '{"keyHash": "PRODSECRET-hash"}\n',
    "projects/coordination-system-v2/project.json": '{"projectId": "coordination-system-v2", "status": "active"}\n',
    "roles/Developer/role.json": '{"roleId": "Developer", "description": "Builds HACS (production catalog)"}\n',
    "roles/Developer/wisdom/01.md": "# Developer wisdom (production)\n",
    "personalities/Phoenix/personality.json": '{"personalityId": "Phoenix"}\n',
    "permissions/permissions.json": '{"Executive": ["*"]}\n',
    "default/README.md": "# defaults\n",
    "template-project/README.md": "# template project\n",
    "wake-logs/Crossing-a1b2.log": "woke 2026-11-30\n",
    "config/hacs.json": '{"mode": "production"}\n',
    "vacation/koans.json": '[{"koan": "What is the sound of one instance bootstrapping?"}]\n',
    "shared-config/claude/.credentials.json": '{"token": "production-claude-credentials"}\n',
    ".hub-secret": "production-hub-secret-0123456789\n",
    "qdrant-storage/collections/diaries/segment.bin": "qdrant index, rebuildable\n",
    "backups/production-data-2026-11-30.tar.gz": "the team's nightly tarball\n",
}


def droplet_2026():
    """The droplet since the cutover: main in Human-Adjacent-Coordination on the volume root, leftovers,
    webhook, Qdrant and a channel on loopback, the 2026 site with its includes, smoothcurves.art."""
    p.checkout, p.data_dir = f"{VOLUME}/Human-Adjacent-Coordination", VOLUME
    files.directory(name="Data volume", path=VOLUME)
    git.repo(name="Production checkout (main)", src=p.upstream, dest=p.checkout, branch="main", pull=False)
    server.shell(name="Production's dependencies", commands=[
        f"cd {p.checkout} && test -d node_modules || npm ci --omit=dev --no-audit --no-fund --loglevel=error"])
    lay({f"{p.checkout}/secrets.env": "WAKE_API_KEY=production-wake-key-7c1e\n"}, "Production secrets", mode="600")
    lay({f"{VOLUME}/{rel}": text for rel, text in DATA_2026.items()}, "Production data")
    lay(LEFTOVERS_2026, "Leftovers")
    server.shell(name="A leftover owned by another user", commands=[f"chown -R 1234:1234 {VOLUME}/v2-dev-data"])
    lay({"/mnt/paula/public/index.html": "<h1>Paula</h1>\n",
         "/etc/nginx/claw-instances/crossing.conf": "location /claw/crossing/ {\n    proxy_pass http://127.0.0.1:18789/;\n}\n",
         "/usr/local/bin/paula-deploy.sh": "#!/bin/sh\ndate -u +%FT%TZ >> /var/log/paula-deploy.log\n",
         "/etc/webhook.conf": (HERE / "templates/2026/webhook.conf").read_text()}, "The team's services")
    files.file(name="paula-deploy runs", path="/usr/local/bin/paula-deploy.sh", mode="755")
    certificates()
    site("2026/smoothcurves.art.j2", "/etc/nginx/sites-available/smoothcurves.art")
    unit("2026/mcp-coordination.service.j2", "mcp-coordination.service")
    for name, port in (("qdrant.service", 6333), ("hacs-channel-21000.service", 21000)):
        unit("2026/loopback-listener.service.j2", name, port=port)
    systemd.service(name="webhook.service running", service="webhook.service", running=True, enabled=True)
    site("2026/smoothcurves-nexus.j2", "/etc/nginx/sites-available/smoothcurves-nexus")


packages = ["nginx", "nodejs", "npm", "git", "openssl", "curl", "certbot", "python3-certbot-nginx"]
packages += ["webhook"] if layout == "2026" else []
apt.packages(name="The droplet's packages", packages=packages, update=True, cache_time=3600)
files.link(name="No default site", path="/etc/nginx/sites-enabled/default", present=False)
droplet_2026() if layout == "2026" else droplet_2025()
server.shell(name="nginx -t", commands=["nginx -t"])
systemd.service(name="nginx serving production", service="nginx.service", running=True, enabled=True, reloaded=True)
