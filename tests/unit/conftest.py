"""The fast tier: no sandbox, no network, seconds. Pure functions of bastion (settings rules, nginx text,
production learnt from a host's report, batchssh's batch) and facts' shell commands, on inputs made here."""
from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2 import Environment, FileSystemLoader

from sandbox.layouts import LAYOUTS
from tests.settings import load

FIXTURE_TEMPLATES = Path(__file__).resolve().parents[2] / "sandbox" / "baseline" / "templates"
P = SimpleNamespace(name="smoothcurves.nexus", port=3444, art_name="smoothcurves.art", art_root="/var/www/smoothcurves.art",
                    certificate="/etc/letsencrypt/live/smoothcurves.nexus/fullchain.pem",
                    key="/etc/letsencrypt/live/smoothcurves.nexus/privkey.pem",
                    art_certificate="/etc/letsencrypt/live/smoothcurves.art/fullchain.pem",
                    checkout="/mnt/coordinaton_mcp_data/Human-Adjacent-Coordination", data_dir="/mnt/coordinaton_mcp_data")


def rendered(name: str, **values) -> str:
    jinja = Environment(loader=FileSystemLoader(str(FIXTURE_TEMPLATES)))
    return jinja.get_template(name).render(p=SimpleNamespace(**{**vars(P), **values}))


def nginx_dump(sites: dict[str, str]) -> str:
    """What `nginx -T` prints for nginx.conf including these sites-enabled files, in this order."""
    parts = ["# configuration file /etc/nginx/nginx.conf:", "http {", "    include /etc/nginx/sites-enabled/*;", "}"]
    for name, text in sites.items():
        parts += [f"# configuration file /etc/nginx/sites-enabled/{name}:", text]
    return "\n".join(parts)


@pytest.fixture
def today():
    """The settings, as bastion expects the droplet of today."""
    return load()


@pytest.fixture
def diary():
    """The settings, as bastion expects the diary's droplet."""
    return load(LAYOUTS["2025"].settings)
