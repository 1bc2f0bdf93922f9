"""The settings a host is checked against: group_data/all.py, as the deploy reads it, with the
overrides of a run (pyinfra's --data, read by pyinfra's own parser: booleans, numbers, JSON)."""
import runpy
from pathlib import Path
from types import SimpleNamespace

from pyinfra_cli.util import parse_cli_arg  # how pyinfra itself reads a --data value

REPO = Path(__file__).resolve().parent.parent


def load(overrides: dict | None = None) -> SimpleNamespace:
    values = runpy.run_path(str(REPO / "group_data" / "all.py"))
    values = {k: v for k, v in values.items() if not k.startswith("_")}
    return SimpleNamespace(**{**values, **(overrides or {})})


def from_arguments(pairs: list[str]) -> dict:
    """KEY=VALUE pairs (the tests' --data) as a dict."""
    return {key: parse_cli_arg(value) for key, value in (pair.split("=", 1) for pair in pairs)}
