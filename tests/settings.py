"""The settings a host is checked against: group_data/all.py, as the deploy reads it, with the
overrides of a run (pyinfra's --data, which parses JSON: null, lists, numbers)."""
import json
import runpy
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent


def parse_value(text: str):
    """As pyinfra parses a --data value (pyinfra_cli.util.parse_cli_arg). Not imported: importing pyinfra_cli
    patches the whole process with gevent (its subprocess then refuses stdin=None beside input=), and the tests
    drive sandboxes with subprocess; tests/unit/test_settings.py holds this copy to pyinfra's own."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return json.loads(text)
    except ValueError:
        return text


def load(overrides: dict | None = None) -> SimpleNamespace:
    values = runpy.run_path(str(REPO / "group_data" / "all.py"))
    values = {k: v for k, v in values.items() if not k.startswith("_")}
    return SimpleNamespace(**{**values, **(overrides or {})})


def from_arguments(pairs: list[str]) -> dict:
    """KEY=VALUE pairs (the tests' --data) as a dict."""
    return {key: parse_value(value) for key, value in (pair.split("=", 1) for pair in pairs)}
