"""The settings a host is checked against: group_data/all.py, as the deploy reads it."""
import runpy
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent


def load() -> SimpleNamespace:
    values = runpy.run_path(str(REPO / "group_data" / "all.py"))
    return SimpleNamespace(**{k: v for k, v in values.items() if not k.startswith("_")})
