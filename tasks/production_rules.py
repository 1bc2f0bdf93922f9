"""What the dev environment may never overlap of production, as tasks/production_view.py learnt it from the host:
its paths, its leftovers, a hand-made location in its site, a directory that is not bastion's. Pure functions, no
host and no pyinfra (tests/unit/test_rules.py). Each problem is one line: the setting, what is wrong, the fix."""
from __future__ import annotations

from tasks import nginx_text
from tasks.backup_rules import local_repository
from tasks.production_view import Production, inside, relation
from tasks.rules import DEV_PATHS


def production_overlaps(d, production: Production) -> list[str]:
    """A dev path (or an on-host repository) that is, contains or lies inside anything of production's: its
    checkout, data root (everything under it is production's, whatever its name), secrets, a leftover."""
    problems = []
    live = production.paths()
    expected = {key: getattr(d, key) for key in live if getattr(d, key, None)}
    repository = local_repository(str(d.backup_repository or ""))
    mine = {key: getattr(d, key) for key in DEV_PATHS if str(getattr(d, key, None) or "").startswith("/")}
    if repository:
        mine["backup_repository"] = repository
    for key, path in mine.items():
        overlaps = []
        for prod_key, prod_path in live.items():
            if inside(path, prod_path):
                overlaps.append(f"{relation(path, prod_path)} production's {prod_key} ({prod_path})")
        for prod_key, prod_path in expected.items():
            if prod_path != live.get(prod_key) and inside(path, prod_path):
                overlaps.append(f"{relation(path, prod_path)} {prod_key} ({prod_path})")
        for leftover in production.leftovers:
            if inside(path, leftover):
                overlaps.append(f"{relation(path, leftover)} the leftover {leftover} (production_leftovers: "
                                f"never bastion's)")
        if overlaps:
            problems.append(f"{key}={path}: {', '.join(overlaps)}; choose a path outside production, "
                            f"e.g. {safe_choice(d, key)}")
    return problems



def safe_choice(d, key: str) -> str:
    """A place of the dev environment's own, on the droplet's disk rather than production's volume."""
    return {"dev_checkout": f"{d.dev_home}/checkout", "dev_data_dir": f"{d.dev_home}/data",
            "dev_env_file": "/etc/hacs-dev/secrets.env", "dev_backups_dir": f"{d.dev_home}/backups",
            "backup_repository": "an off-host URL such as sftp:user@backup-host:/srv/restic/droplet"}[key]



def site_problems(d, site: str, lines: list[str]) -> list[str]:
    """A location for dev_url_path written by hand into production's site: adoption replaces it when it
    is the simple proxy the diary wrote; anything else is for a human."""
    blocks = nginx_text.dev_locations(lines, d.dev_url_path)
    where = f"production_nginx_site: {site} already has a location for {d.dev_url_path}"
    if len(blocks) > 1:
        return [f"{where} at lines {', '.join(str(first) for first, _ in blocks)}, made by hand; "
                f"keep at most one (bastion's snippet {d.dev_nginx_snippet} replaces it) and deploy again"]
    if not blocks:
        return []
    (first, last), = blocks
    why = nginx_text.not_a_simple_proxy(lines, (first, last), d.dev_port)
    if why:
        return [f"{where} (lines {first}-{last}) that is not the simple hand-made proxy: {why}; adapt it by hand "
                f"(bastion's snippet {d.dev_nginx_snippet} replaces it) and deploy again"]
    if not d.adopt:
        return [f"{where} (line {first}), made by hand; rerun with --data adopt=True to have it replaced by "
                f"bastion's snippet (add --dry to see the plan first), or remove that block yourself"]
    return []



def foreign_directory_problems(d, states: dict[str, dict]) -> list[str]:
    """dev_checkout or dev_data_dir that exist, hold something and are not bastion's: never taken over."""
    problems = []
    checkout, data = states.get("dev_checkout", {}), states.get("dev_data_dir", {})
    if checkout.get("exists") and not checkout.get("empty") and not checkout.get("git"):
        problems.append(f"dev_checkout={d.dev_checkout}: exists, holds files and is not a git checkout, so not "
                        f"bastion's; leave it be and choose a place of the dev environment's own, e.g. "
                        f"{safe_choice(d, 'dev_checkout')}")
    if data.get("exists") and not data.get("empty") and data.get("owner") != d.dev_user and not data.get("marked"):
        problems.append(f"dev_data_dir={d.dev_data_dir}: exists, holds files of {data.get('owner')} and is not "
                        f"bastion's ({d.dev_user}'s); leave it be and choose a place of the dev environment's own, e.g. "
                        f"{safe_choice(d, 'dev_data_dir')}")
    return problems
