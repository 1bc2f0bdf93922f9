"""What production is on a host, learnt from the host: pure functions over what tasks/facts.py's
ProductionReport read there (the unit, the process on production_port, its checkout, nginx -T).

The production_* settings are what bastion expects. Where the host shows something else, bastion goes by
the host and says so in one line naming the setting and the host's value: the droplet moved once already
(the V1 -> V2 cutover of 2025-12-24) without anybody telling the settings.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tasks import nginx_text

# Where the app writes when its unit sets no V2_DATA_ROOT (src/v2/config.js).
APP_DEFAULT_DATA_ROOT = "/mnt/coordinaton_mcp_data"


def clean(path: str | None) -> str | None:
    """A path without trailing slashes (V2_DATA_ROOT is written with one)."""
    if not path:
        return None
    return str(PurePosixPath(path)) if path.strip("/") else "/"


def inside(path: str, other: str) -> bool:
    """path and other overlap: one is, contains or lies inside the other."""
    a, b = PurePosixPath(path), PurePosixPath(other)
    return a == b or b in a.parents or a in b.parents


def within(path: str, root: str) -> bool:
    return PurePosixPath(root) == PurePosixPath(path) or PurePosixPath(root) in PurePosixPath(path).parents


def relation(path: str, other: str) -> str:
    a, b = PurePosixPath(path), PurePosixPath(other)
    return "is" if a == b else "lies inside" if b in a.parents else "contains"


@dataclass
class Production:
    """Production as bastion goes by it: the host's where it showed them, the settings' elsewhere."""

    unit: str
    found: bool = False              # a unit of that name, or a process on production_port
    active: bool = False
    pid: str | None = None
    user: str | None = None
    checkout: str = ""
    data_root: str = ""
    secrets_file: str | None = None
    branch: str | None = None
    remote: str | None = None
    site: str | None = None          # sites-available file whose server block serves server_name on 443
    art_site: str | None = None
    default_site: str | None = None  # the file of nginx's default server for 443
    listening: list[str] = field(default_factory=list)
    environment: dict = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    # The unit names another checkout or data root than its running process uses: the next restart moves
    # production (someone edited the unit). One line each.
    unit_disagrees: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)

    def paths(self) -> dict[str, str]:
        """Production's own paths, by the setting that names each: a dev path may overlap none."""
        found = {"production_checkout": self.checkout, "production_data_dir": self.data_root}
        if self.secrets_file:
            found["production_secrets_file"] = self.secrets_file
        return found


# What facts.PORT_LISTENERS prints of each process on a port, tab-separated.
LISTENER = ("pid", "user", "cwd", "cmdline", "unit", "data_root", "sse_host")


def listeners(lines) -> list[dict]:
    return [dict(zip(LISTENER, (line.split("\t") + [""] * len(LISTENER))[:len(LISTENER)], strict=True))
            for line in lines if line.strip()]


def parse_report(lines: list[str]) -> dict:
    """ProductionReport's output (sections opened by '@@ name') -> unit, listeners, git, nginx, enabled."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in lines:
        if line.startswith("@@ "):
            current = line[3:].strip()
            sections.setdefault(current, [])
        elif current is not None:
            sections[current].append(line)
    unit = dict(line.split("=", 1) for line in sections.get("unit", []) if "=" in line)
    git = {}
    for line in sections.get("git", []):
        path, _, rest = line.partition("\t")
        branch, _, remote = rest.partition("\t")
        git[path] = {"branch": branch or None, "remote": remote or None}
    enabled = {}
    for line in sections.get("enabled", []):
        link, _, target = line.partition("\t")
        enabled[link] = target
    return {"unit": unit, "listeners": listeners(sections.get("listeners", [])),
            "addresses": [a for a in sections.get("addresses", []) if a], "git": git,
            "nginx": "\n".join(sections.get("nginx", [])), "enabled": enabled}


def environment_of(unit: dict) -> dict:
    """systemctl show's Environment= (space-separated, quoted where needed) as a dict."""
    try:
        words = shlex.split(unit.get("Environment", ""))
    except ValueError:
        words = unit.get("Environment", "").split()
    return dict(word.split("=", 1) for word in words if "=" in word)


def environment_file_of(unit: dict) -> str | None:
    """The first EnvironmentFiles= path ('PATH (ignore_errors=yes)' in systemctl show)."""
    value = unit.get("EnvironmentFiles", "").strip()
    return value.split()[0].lstrip("-") if value else None


def learn(d, report: dict) -> Production:
    """Production from the host's report, the settings (d) filling what the host did not show."""
    unit = report["unit"]
    loaded = unit.get("LoadState") == "loaded"
    environment = environment_of(unit) if loaded else {}
    listener = _production_listener(report["listeners"], unit.get("MainPID"))
    found = loaded or listener is not None
    view = Production(unit=d.production_unit, found=found, active=unit.get("ActiveState") == "active",
                      listening=report["addresses"], environment=environment)
    view.pid = listener["pid"] if listener else None
    view.user = (listener or {}).get("user") or unit.get("User") or ("root" if loaded else None)
    checkout = clean((listener or {}).get("cwd")) or clean(unit.get("WorkingDirectory") if loaded else None)
    data_root = clean((listener or {}).get("data_root")) or clean(environment.get("V2_DATA_ROOT"))
    if found and not data_root:
        data_root = APP_DEFAULT_DATA_ROOT
    view.checkout = checkout or clean(d.production_checkout)
    view.data_root = data_root or clean(d.production_data_dir)
    view.secrets_file = (environment_file_of(unit) if loaded else None) or d.production_secrets_file
    git = report["git"].get(view.checkout, {})
    view.branch, view.remote = git.get("branch"), git.get("remote")

    servers = nginx_text.servers_of_dump(report["nginx"])
    enabled = report["enabled"]

    def available(server):
        return enabled.get(server.file, server.file) if server else None

    nexus = nginx_text.serving(servers, d.server_name)
    art = nginx_text.serving(servers, d.production_art_server_name)
    view.site = available(nexus) if nexus and d.server_name in nexus.names else None
    if view.site == d.dev_nginx_site:
        view.site = None  # a host without production: the dev environment's own site serves the name, not production
    view.art_site = available(art) if art and d.production_art_server_name in art.names else None
    view.default_site = available(nginx_text.default_server(servers))

    if loaded and listener:
        unit_checkout, unit_root = clean(unit.get("WorkingDirectory")), clean(environment.get("V2_DATA_ROOT"))
        if unit_checkout and unit_checkout != clean(listener.get("cwd")):
            view.unit_disagrees.append(f"production_checkout: {d.production_unit} says WorkingDirectory={unit_checkout}, "
                                       f"but its PID {view.pid} runs in {listener.get('cwd')}; a restart would move production")
        if unit_root and listener.get("data_root") and unit_root != clean(listener["data_root"]):
            view.unit_disagrees.append(f"production_data_dir: {d.production_unit} says V2_DATA_ROOT={unit_root}, "
                                       f"but its PID {view.pid} writes to {listener['data_root']}; a restart would move "
                                       f"production")
    source = f"{d.production_unit}" + (f", PID {view.pid}" if view.pid else "")
    if found:
        view.differences += _differ("production_checkout", d.production_checkout, checkout,
                                    f"the working directory of {source}")
        view.differences += _differ("production_data_dir", d.production_data_dir, data_root,
                                    f"V2_DATA_ROOT of {source}")
        if loaded:
            view.differences += _differ("production_secrets_file", d.production_secrets_file,
                                        environment_file_of(unit), f"EnvironmentFile of {d.production_unit}")
        if view.branch and view.branch != d.production_branch:
            view.differences.append(f"production_branch={d.production_branch}: the host's production checkout "
                                    f"{view.checkout} is on {view.branch}")
    if servers:
        view.differences += _differ("production_nginx_site", d.production_nginx_site, view.site,
                                    f"the site nginx serves {d.server_name} from on 443")
        view.differences += _differ("production_art_site", d.production_art_site, view.art_site,
                                    f"the site nginx serves {d.production_art_server_name} from on 443")
    view.site = view.site or d.production_nginx_site
    view.art_site = view.art_site or d.production_art_site
    # A leftover that is (or holds) what production runs on now is production's live part, not a leftover.
    view.leftovers = [clean(path) for path in d.production_leftovers
                      if not inside(path, view.checkout) and not within(view.data_root, path)]
    return view


def _production_listener(listeners: list[dict], main_pid: str | None) -> dict | None:
    """The process that serves production's port: the unit's main process when it is among them."""
    if not listeners:
        return None
    return next((p for p in listeners if p["pid"] == main_pid), listeners[0])


def _differ(setting: str, expected, found, where: str) -> list[str]:
    if not found or (expected and clean(str(expected)) == clean(str(found))):
        return []
    return [f"{setting}={expected}: the host's production has {found} ({where}); bastion goes by the host"]


def leftovers_inside(view: Production, present: list[str]) -> list[str]:
    """The leftovers that exist on the host (present) and lie inside production's data root: left out of its
    routine backup, taken off the host once by a snapshot of their own."""
    return [path for path in view.leftovers if path in present and within(path, view.data_root)]
