"""Production learnt from a host's report: the unit, the process on its port, git, nginx -T."""
from tasks import production_view
from tests.settings import load
from tests.unit.conftest import nginx_dump, rendered

VOLUME = "/mnt/coordinaton_mcp_data"
CHECKOUT = f"{VOLUME}/Human-Adjacent-Coordination"


def report_of_today(unit_checkout=CHECKOUT, cwd=CHECKOUT, listener=True) -> list[str]:
    """What ProductionReport prints on the droplet of today."""
    lines = ["@@ unit", "LoadState=loaded", "ActiveState=active", "MainPID=812", "User=root",
             f"WorkingDirectory={unit_checkout}",
             f"Environment=NODE_ENV=production SSE_PORT=3444 SSE_HOST=localhost V2_DATA_ROOT={VOLUME}/",
             f"EnvironmentFiles={CHECKOUT}/secrets.env (ignore_errors=no)",
             "FragmentPath=/etc/systemd/system/mcp-coordination.service", "@@ listeners"]
    if listener:
        lines.append(f"812\troot\t{cwd}\tnode src/streamable-http-server.js \tmcp-coordination.service\t{VOLUME}/\tlocalhost")
    lines += ["@@ addresses", "[::1]:3444", "@@ git", f"{CHECKOUT}\tmain\thttps://github.com/LupoGrigi0/Human-Adjacent-Coordination.git",
              "@@ nginx"]
    lines += nginx_dump({"smoothcurves-nexus": rendered("2026/smoothcurves-nexus.j2"),
                         "smoothcurves.art": rendered("2026/smoothcurves.art.j2")}).splitlines()
    lines += ["@@ enabled", "/etc/nginx/sites-enabled/smoothcurves-nexus\t/etc/nginx/sites-available/smoothcurves-nexus",
              "/etc/nginx/sites-enabled/smoothcurves.art\t/etc/nginx/sites-available/smoothcurves.art"]
    return lines


def test_todays_droplet_matches_the_defaults():
    view = production_view.learn(load(), production_view.parse_report(report_of_today()))
    assert (view.found, view.active, view.pid, view.user) == (True, True, "812", "root")
    assert (view.checkout, view.data_root, view.branch) == (CHECKOUT, VOLUME, "main")
    assert view.secrets_file == f"{CHECKOUT}/secrets.env"
    assert view.site == "/etc/nginx/sites-available/smoothcurves-nexus"
    assert view.art_site == "/etc/nginx/sites-available/smoothcurves.art"
    assert view.default_site == view.site
    assert view.listening == ["[::1]:3444"]
    assert view.differences == [] and view.unit_disagrees == []
    assert f"{VOLUME}/v2-dev" in view.leftovers and CHECKOUT not in view.leftovers


def test_settings_of_v1_on_a_host_of_today_name_each_difference_and_go_by_the_host():
    v1 = load({"production_checkout": f"{VOLUME}/production", "production_data_dir": f"{VOLUME}/production-data",
               "production_secrets_file": None, "production_art_site": "/etc/nginx/sites-available/smoothcurves-art"})
    view = production_view.learn(v1, production_view.parse_report(report_of_today()))
    assert (view.checkout, view.data_root) == (CHECKOUT, VOLUME)
    assert view.differences == [
        f"production_checkout={VOLUME}/production: the host's production has {CHECKOUT} (the working directory of "
        f"mcp-coordination.service, PID 812); bastion goes by the host",
        f"production_data_dir={VOLUME}/production-data: the host's production has {VOLUME} (V2_DATA_ROOT of "
        f"mcp-coordination.service, PID 812); bastion goes by the host",
        f"production_secrets_file=None: the host's production has {CHECKOUT}/secrets.env (EnvironmentFile of "
        f"mcp-coordination.service); bastion goes by the host",
        "production_art_site=/etc/nginx/sites-available/smoothcurves-art: the host's production has "
        "/etc/nginx/sites-available/smoothcurves.art (the site nginx serves smoothcurves.art from on 443); "
        "bastion goes by the host",
    ]


def test_a_unit_pointed_elsewhere_than_its_running_process_is_named():
    report = report_of_today(unit_checkout="/srv/elsewhere")
    view = production_view.learn(load(), production_view.parse_report(report))
    assert view.checkout == CHECKOUT, "what runs is what counts"
    assert view.unit_disagrees == [
        "production_checkout: mcp-coordination.service says WorkingDirectory=/srv/elsewhere, but its PID 812 runs in "
        f"{CHECKOUT}; a restart would move production"]


def test_a_stopped_production_is_known_by_its_unit_and_a_blank_host_by_the_settings():
    stopped = production_view.learn(load(), production_view.parse_report(report_of_today(listener=False)))
    assert (stopped.found, stopped.pid, stopped.data_root) == (True, None, VOLUME)
    blank = production_view.learn(load(), production_view.parse_report(["@@ unit", "LoadState=not-found"]))
    assert (blank.found, blank.checkout, blank.data_root, blank.differences) == (False, CHECKOUT, VOLUME, [])


def test_leftovers_inside_the_data_root_and_present_only():
    view = production_view.learn(load(), production_view.parse_report(report_of_today()))
    present = [f"{VOLUME}/v2-dev", f"{VOLUME}/production"]
    assert production_view.leftovers_inside(view, present) == [f"{VOLUME}/production", f"{VOLUME}/v2-dev"]


def test_on_the_diarys_droplet_its_production_paths_are_not_leftovers():
    report = [line.replace(CHECKOUT, f"{VOLUME}/production").replace(f"V2_DATA_ROOT={VOLUME}/",
                                                                     f"V2_DATA_ROOT={VOLUME}/production-data/")
              for line in report_of_today()]
    report = [line.replace(f"\t{VOLUME}/\t", f"\t{VOLUME}/production-data/\t") for line in report]
    defaults_on_the_old_host = production_view.learn(load(), production_view.parse_report(report))
    assert defaults_on_the_old_host.data_root == f"{VOLUME}/production-data"
    assert f"{VOLUME}/production-data" not in defaults_on_the_old_host.leftovers
    assert f"{VOLUME}/production" not in defaults_on_the_old_host.leftovers
    assert f"{VOLUME}/v2-dev" in defaults_on_the_old_host.leftovers


def test_on_a_host_without_production_the_dev_sites_own_server_block_is_not_productions():
    """A droplet of the previews' own (no production): nginx serves the name from bastion's dev site, which a
    second deploy must not take for production's (it would include the dev snippet in it, and keep certbot away)."""
    dev_site = "server {\n    listen 443 ssl;\n    server_name smoothcurves.nexus;\n}\n"
    report = ["@@ unit", "LoadState=not-found", "@@ nginx", *nginx_dump({"hacs-dev": dev_site}).splitlines(),
              "@@ enabled", "/etc/nginx/sites-enabled/hacs-dev\t/etc/nginx/sites-available/hacs-dev"]
    view = production_view.learn(load(), production_view.parse_report(report))
    assert view.site == "/etc/nginx/sites-available/smoothcurves-nexus" and view.differences == []
