"""What the project writes is linted: its Python with ruff (pyproject.toml), its shell scripts with
shellcheck, the templated ones as the deploy renders them with the default settings."""
import subprocess
import sys
from types import SimpleNamespace

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from sandbox.host import ensure_packages
from tasks import TEMPLATES
from tests.settings import REPO, load

RENDERED = sorted([*TEMPLATES.glob("usr/local/sbin/*.j2"), *TEMPLATES.glob("dev_checkout/git-hooks/*.j2")])
PLAIN = [REPO / "bastion", REPO / ".ci" / "run"]


def run(argv, **kwargs):
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kwargs)


@pytest.fixture(scope="module")
def shellcheck():
    ensure_packages({"shellcheck": "shellcheck"})
    return "shellcheck"


def test_python_passes_ruff():
    done = run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("template", RENDERED, ids=[t.name for t in RENDERED])
def test_rendered_script_passes_shellcheck(template, shellcheck, tmp_path):
    jinja = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, keep_trailing_newline=True)
    script = tmp_path / template.stem
    script.write_text(jinja.get_template(str(template.relative_to(TEMPLATES))).render(host=SimpleNamespace(data=load())))
    done = run([shellcheck, "--format=gcc", str(script)])
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("script", PLAIN, ids=[s.name for s in PLAIN])
def test_project_script_passes_shellcheck(script, shellcheck):
    done = run([shellcheck, "--format=gcc", str(script)])
    assert done.returncode == 0, done.stdout
