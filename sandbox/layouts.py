"""The two droplets a sandbox can look like before the dev environment exists.

"2026" is the droplet as it is now (shared/notes/droplet-2026.md): production on main in
Human-Adjacent-Coordination, its data root the volume root, the 2025 directories left as leftovers,
the webhook service, Qdrant and an instance channel on loopback, the 2026 nginx site. bastion's defaults
describe it. "2025" is the droplet the diary describes (shared/notes/hacs-app.md): production in
production/ on production-data, the dev environment beside it in v2-dev. What bastion should expect of
each is `settings`: the --data of every run against it (none for 2026: the defaults are today's).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

VOLUME = "/mnt/coordinaton_mcp_data"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"


@dataclass(frozen=True)
class Layout:
    name: str
    settings: dict = field(default_factory=dict)
    # The real app main holds on the upstream (today's production code), or None for the stand-in.
    main_app: Path | None = None

    def pairs(self) -> list[str]:
        """The settings as KEY=VALUE, as pyinfra's --data parses them (JSON: null, lists)."""
        return [f"{key}={value if isinstance(value, str) else json.dumps(value)}" for key, value in self.settings.items()]

    def data_arguments(self) -> tuple[str, ...]:
        return tuple(word for pair in self.pairs() for word in ("--data", pair))


LAYOUTS = {
    "2026": Layout("2026", main_app=SHARED / "hacs-main" / "app"),
    "2025": Layout("2025", settings={
        "production_checkout": f"{VOLUME}/production",
        "production_data_dir": f"{VOLUME}/production-data",
        "production_secrets_file": None,
        "production_unit_description": "MCP Coordination System (production)",
        # The old checkout and production's own tar backups: production's, not live.
        "production_leftovers": [f"{VOLUME}/Human-Adjacent-Coordination", f"{VOLUME}/production-data-backups"],
        "production_other_units": [],
        # The diary's dev environment, beside production on the volume, on the branch of its day.
        "dev_branch": "v2",
        "dev_checkout": f"{VOLUME}/v2-dev",
        "dev_data_dir": f"{VOLUME}/v2-dev-data",
        "dev_backups_dir": f"{VOLUME}/v2-dev-backups",
        "backup_repository": f"{VOLUME}/v2-dev-backups/restic",
    }),
}
DEFAULT = "2026"


def named(name: str | None) -> Layout:
    if name not in (None, *LAYOUTS):
        raise SystemExit(f"sandbox layout {name!r}: give one of {', '.join(LAYOUTS)}")
    return LAYOUTS[name or DEFAULT]
