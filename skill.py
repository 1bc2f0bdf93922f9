"""Render the team's hacs-coordination-dev client skill for a target, from the same settings as nginx.

    pyinfra inventory.py skill.py        -> skills/HOST/hacs-coordination-dev/SKILL.md

The endpoint it names is built from server_name and dev_url_path, the values the nginx snippet
serves, so the two cannot drift apart. Reads nothing from the host and changes nothing there.
"""
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pyinfra import host, logger

d = host.data
base = f"https://{d.server_name}{d.dev_url_path}"
templates = Environment(loader=FileSystemLoader("templates"), undefined=StrictUndefined, keep_trailing_newline=True)
text = templates.get_template("skills/hacs-coordination-dev/SKILL.md.j2").render(
    host=host, endpoint=base, health=f"{base}/health", status=f"{base}/_deploy/status")
target = Path("skills") / host.name / "hacs-coordination-dev" / "SKILL.md"
target.parent.mkdir(parents=True, exist_ok=True)
target.write_text(text)
logger.info(f"{host.print_prefix}wrote {target} (endpoint {base})")
