"""The house in order: every task module imports alone (no cycle hides behind another's import), none
imports inside a function, preflight only gathers, and the pure modules carry no pyinfra."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

TASKS = Path(__file__).resolve().parents[2] / "tasks"
MODULES = sorted(p.stem for p in TASKS.glob("*.py") if p.stem != "__init__")
PURE = ("rules", "production_view", "nginx_text")


@pytest.mark.parametrize("module", MODULES)
def test_each_task_module_imports_alone_in_a_fresh_interpreter(module):
    done = subprocess.run([sys.executable, "-c", f"import tasks.{module}"], cwd=TASKS.parent, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("module", MODULES)
def test_no_import_inside_a_function(module):
    tree = ast.parse((TASKS / f"{module}.py").read_text())
    inner = [node.lineno for function in ast.walk(tree) if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
             for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom)]
    assert inner == [], f"tasks/{module}.py imports inside a function at lines {inner}"


@pytest.mark.parametrize("module", PURE)
def test_the_pure_modules_need_no_pyinfra(module):
    done = subprocess.run([sys.executable, "-c", f"import sys, tasks.{module}; "
                                                 f"print(sorted(m for m in sys.modules if m.startswith('pyinfra')))"],
                          cwd=TASKS.parent, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_preflight_is_short_and_changes_nothing():
    source = (TASKS / "preflight.py").read_text()
    assert len(source.splitlines()) < 150
    assert "pyinfra.operations" not in source, "preflight gathers and checks; a step of its own changes"


def test_nothing_imports_preflight_but_the_playbooks():
    importers = [p.name for p in TASKS.glob("*.py") if "preflight" in p.read_text() and "import" in p.read_text()
                 and any("preflight" in line for line in p.read_text().splitlines() if line.startswith(("from", "import")))]
    assert importers == []
