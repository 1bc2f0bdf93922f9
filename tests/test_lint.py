"""What the project writes is linted: its Python with ruff (pyproject.toml), its shell scripts with
shellcheck, the templated ones as the deploy renders them with the default settings."""
import subprocess
import sys
from types import SimpleNamespace

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from sandbox.host import ensure_packages
from tasks import TEMPLATES
from tasks.production_view import Production
from tests.settings import REPO, load

SCRIPTS = sorted(path for where in ("usr/local/sbin", "deploy-run", "dev_checkout/git-hooks", "checks")
                 for path in TEMPLATES.glob(f"{where}/*.j2"))
RENDERED = [t for t in SCRIPTS if not t.read_text().startswith("#!/usr/bin/python3")]
PYTHON = [t for t in SCRIPTS if t not in RENDERED]
# The variables a task passes besides host.data, and the other settings' ways of rendering a script.
VARIANTS = {
    "bastion-restic.j2": [
        ({"sftp": None}, {}),
        ({"sftp": {"login": "backup@backup-host", "port": "2222"}},
         {"backup_repository": "sftp://backup@backup-host:2222//srv/restic/droplet", "backup_ssh_key": "key",
          "backup_ssh_known_hosts": "known_hosts"}),
        ({"sftp": {"login": "restic@backup-host", "port": None}},
         {"backup_repository": "sftp:restic@backup-host:/srv/restic/droplet", "backup_ssh_key": "key",
          "backup_append_only": True}),
    ],
    "hacs-dev-backup.j2": [({}, {}), ({}, {"backup_append_only": True})],
    "hacs-production-backup.j2": [({}, {}), ({}, {"backup_append_only": True})],
    "bastion-repository-prune.j2": [({"path": "/srv/restic/droplet"}, {})],
    "bastion-repository-check.j2": [({"path": "/srv/restic/droplet"}, {})],
}
# What the tasks pass every script: production as the host of today shows it, its leftovers, its site.
VOLUME = "/mnt/coordinaton_mcp_data"
TODAY = Production(unit="mcp-coordination.service", found=True, checkout=f"{VOLUME}/Human-Adjacent-Coordination",
                   data_root=VOLUME, secrets_file=f"{VOLUME}/Human-Adjacent-Coordination/secrets.env")
COMMON = {"production": TODAY, "leftovers": [f"{VOLUME}/v2-dev", f"{VOLUME}/production-data"],
          "site": "/etc/nginx/sites-available/smoothcurves-nexus"}
CASES = [(template, variables, settings) for template in RENDERED
         for variables, settings in VARIANTS.get(template.name, [({}, {})])]
PLAIN = [REPO / "bastion", REPO / ".ci" / "run", *sorted((REPO / "tasks" / "commands").glob("*.sh"))]
# The programs bastion ships as they are (files/): the Python ones are not *.py, so ruff is given them by name.
SHIPPED_PYTHON = sorted(path for path in (REPO / "files").rglob("*")
                        if path.is_file() and path.suffix != ".py" and path.read_bytes().startswith(b"#!/usr/bin/python3"))


def run(argv, **kwargs):
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kwargs)


def render(template, tmp_path, variables=(), settings=()):
    jinja = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, keep_trailing_newline=True)
    script = tmp_path / template.stem
    data = SimpleNamespace(**{**vars(load()), **dict(settings)})
    script.write_text(jinja.get_template(str(template.relative_to(TEMPLATES))).render(host=SimpleNamespace(data=data),
                                                                                       **COMMON, **dict(variables)))
    return script


@pytest.fixture(scope="module")
def shellcheck():
    ensure_packages({"shellcheck": "shellcheck"})
    return "shellcheck"


def test_python_passes_ruff():
    done = run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("template,variables,settings", CASES,
                         ids=[f"{t.name}{'+' + ','.join(s) if s else ''}" for t, _, s in CASES])
def test_rendered_script_passes_shellcheck(template, variables, settings, shellcheck, tmp_path):
    done = run([shellcheck, "--format=gcc", str(render(template, tmp_path, variables.items(), settings.items()))])
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("template", PYTHON, ids=[t.name for t in PYTHON])
def test_rendered_python_script_passes_ruff(template, tmp_path):
    done = run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "--config",
                str(REPO / "pyproject.toml"), str(render(template, tmp_path.resolve()))])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("script", SHIPPED_PYTHON, ids=[s.name for s in SHIPPED_PYTHON])
def test_shipped_python_passes_ruff(script):
    done = run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", str(script)])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("script", PLAIN, ids=[s.name for s in PLAIN])
def test_project_script_passes_shellcheck(script, shellcheck):
    done = run([shellcheck, "--format=gcc", "--shell=bash", str(script)])
    assert done.returncode == 0, done.stdout
