import json
import re
import warnings

import pytest


def curl(host, url: str, name: str, *options: str) -> str:
    """An HTTPS request on the host itself, to its own nginx or port, by name (no DNS needed)."""
    return host.check_output(f"curl -sk --max-time 10 {' '.join(options)} --resolve {name}:443:127.0.0.1 {url}")


@pytest.fixture(scope="module")
def production(production_on_host):
    return production_on_host


def test_the_production_unit_is_enabled_and_running(host, settings):
    unit = host.service(settings.production_unit)
    assert unit.is_enabled
    assert unit.is_running


def test_production_is_what_the_settings_expect(production):
    """Checkout, data root, secrets file, branch, sites: one line per difference, naming the setting."""
    assert production.found, "no production unit or process on production_port"
    assert not production.differences, "\n".join(production.differences)


def test_production_runs_what_its_unit_says(production):
    """A unit pointed at another checkout or data root than the process runs on: the next restart moves
    production."""
    assert not production.unit_disagrees, "\n".join(production.unit_disagrees)


def test_production_listens_on_loopback_only_and_nginx_on_80_and_443(host, settings):
    listening = host.check_output(f"ss -Htln 'sport = :{settings.production_port}' | awk '{{print $4}}'").split()
    assert listening, f"nothing listens on {settings.production_port}"
    assert all(address.rsplit(":", 1)[0] in ("127.0.0.1", "[::1]", "[::ffff:127.0.0.1]") for address in listening), \
        listening
    for port in (80, 443):
        assert host.socket(f"tcp://0.0.0.0:{port}").is_listening, port


def test_production_answers_healthy_on_its_port_and_through_nginx(host, settings):
    direct = json.loads(host.check_output(f"curl -sk --max-time 10 https://localhost:{settings.production_port}/health"))
    assert direct["status"] == "healthy"
    proxied = json.loads(curl(host, f"https://{settings.server_name}/health", settings.server_name))
    assert proxied["status"] == "healthy"


def test_both_sites_are_what_nginx_loads_and_nexus_is_the_default(host, production):
    """By nginx -T: which file serves each name on 443; the team's proxy client sends the IP as Host, so
    nexus's site must be the default server."""
    assert host.run("nginx -t").rc == 0
    for site in (production.site, production.art_site):
        enabled = host.file(f"/etc/nginx/sites-enabled/{site.rsplit('/', 1)[1]}")
        assert enabled.exists and enabled.linked_to == site, site
    assert production.default_site == production.site


@pytest.mark.parametrize("name_setting, site_attribute", [
    ("server_name", "site"), ("production_art_server_name", "art_site")])
def test_certificates_name_their_site_and_are_not_about_to_expire(host, settings, production, name_setting,
                                                                  site_attribute):
    """The certificate each site serves (Let's Encrypt, or a self-signed one on a host without DNS)."""
    name = getattr(settings, name_setting)
    site = host.file(getattr(production, site_attribute)).content_string
    [certificate] = {match for match in re.findall(r"^\s*ssl_certificate\s+([^;\s]+);", site, re.MULTILINE)}
    ends = host.check_output(f"date -d \"$(openssl x509 -enddate -noout -in {certificate} | cut -d= -f2)\" +%s")
    days = (int(ends) - int(host.check_output("date +%s"))) / 86400
    assert days > 0, f"{certificate} expired {-days:.0f} days ago"
    if days < settings.production_certificate_warn_days:
        warnings.warn(f"{certificate} expires in {days:.0f} days: renew it (certbot renew)", stacklevel=1)
    names = host.check_output(f"openssl x509 -noout -ext subjectAltName -in {certificate}")
    assert f"DNS:{name}" in names


def test_the_static_site_answers(host, settings):
    name = settings.production_art_server_name
    status = curl(host, f"https://{name}/", name, "-o /dev/null", "-w '%{http_code}'")
    assert status == "200"


def test_the_other_services_of_the_droplet_run(host, settings):
    """Named, not managed: bastion only looks."""
    stopped = [unit for unit in settings.production_other_units if not host.service(unit).is_running]
    assert stopped == []
