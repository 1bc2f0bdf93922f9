"""Where the V2 dev environment stands on a target. Read-only: facts only, no operation.

    pyinfra inventory.py status.py                              plain text for people
    pyinfra inventory.py status.py --data status_format=json    JSON on stdout for scripts

Deployed and upstream commit, the commit the running server started on (recorded by its unit: the
app's /health names none), service state and uptime, health through nginx as the app reports it
(status, version), the last sync of the follow timer and its outcome, the age of the newest backup.
"""
import json
import sys

from pyinfra import host
from pyinfra.api import FactBase
from pyinfra.facts.git import GitLocalCommit, GitRemoteBranchCommit

d = host.data


class KeyValues(FactBase):
    """key=value lines a command prints."""

    default = dict

    def command(self, script):
        return script

    def process(self, output):
        return dict(line.split("=", 1) for line in output if "=" in line)


service = host.get_fact(KeyValues, script=(
    f"systemctl show -p ActiveState -p SubState -p NRestarts -p ActiveEnterTimestamp --timestamp=unix {d.dev_unit}; "
    f"echo now=$(date +%s); echo running_commit=$(cat {d.dev_runtime_dir}/commit 2>/dev/null)"))
health = host.get_fact(KeyValues, script=(
    f"printf 'reply=%s\\n' \"$(curl -sk --max-time 5 --resolve {d.server_name}:443:127.0.0.1 "
    f"https://{d.server_name}{d.dev_url_path}/health)\""))
follow = host.get_fact(KeyValues, script=f"cat {d.bastion_state_dir}/follow.state 2>/dev/null || true")
backup = host.get_fact(KeyValues, script=(
    f"newest=$(ls -1 {d.dev_backups_dir}/v2-dev-data-*.tar.gz 2>/dev/null | sort | tail -n 1); "
    f"if [ -n \"$newest\" ]; then echo name=$(basename $newest); echo age=$(( $(date +%s) - $(stat -c %Y $newest) )); fi"))

try:
    served = json.loads(health.get("reply") or "{}")
except ValueError:
    served = {"status": "unreadable", "reply": health.get("reply", "")[:200]}
started = service.get("ActiveEnterTimestamp", "").lstrip("@")
report = {
    "host": host.name,
    "deployed_commit": host.get_fact(GitLocalCommit, repo=d.dev_checkout),
    "upstream_commit": host.get_fact(GitRemoteBranchCommit, repo=d.dev_checkout, branch=d.dev_branch),
    "service": {
        "unit": d.dev_unit,
        "state": f"{service.get('ActiveState', 'unknown')} ({service.get('SubState', '?')})",
        "uptime_seconds": int(service["now"]) - int(started) if started.isdigit() and service.get("now") else None,
        "restarts": int(service.get("NRestarts") or 0),
        "running_commit": service.get("running_commit") or None,
    },
    "health_through_nginx": {
        "url": f"https://{d.server_name}{d.dev_url_path}/health",
        "healthy": served.get("status") == "healthy" and str(served.get("port")) == str(d.dev_port),
        "version": served.get("version"),
    },
    "last_sync": ({key: follow[key] for key in ("checked_at", "outcome", "deployed", "upstream", "failed_commit", "reason")
                   if follow.get(key)} or None),
    "newest_backup": {"name": backup["name"], "age_seconds": int(backup["age"])} if backup.get("name") else None,
}
report["up_to_date"] = bool(report["deployed_commit"]) and report["deployed_commit"] == report["upstream_commit"]


def short(commit):
    return commit[:12] if commit else "none"


def age(seconds):
    if seconds is None:
        return "unknown"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


if d.status_format == "json":
    print(json.dumps(report, indent=2))
else:
    sync = report["last_sync"]
    lines = [
        f"{host.name}: V2 dev environment",
        f"  commit     deployed {short(report['deployed_commit'])}, upstream {short(report['upstream_commit'])}"
        f" ({'up to date' if report['up_to_date'] else 'behind or diverged'})",
        f"  service    {d.dev_unit} {report['service']['state']}, up {age(report['service']['uptime_seconds'])},"
        f" {report['service']['restarts']} restarts, started on {short(report['service']['running_commit'])}",
        f"  health     {report['health_through_nginx']['url']}: "
        + ("healthy" if report["health_through_nginx"]["healthy"] else "NOT healthy")
        + (f" (version {report['health_through_nginx']['version']})" if report["health_through_nginx"]["version"] else ""),
        "  last sync  " + (f"{sync.get('checked_at')}: {sync.get('outcome')}" if sync else "never (follow timer not run yet)"),
    ]
    if sync and sync.get("failed_commit"):
        lines.append(f"  failed     {short(sync['failed_commit'])}: {sync.get('reason') or 'no reason recorded'}")
    backup_info = report["newest_backup"]
    lines.append("  backup     " + (f"{backup_info['name']}, {age(backup_info['age_seconds'])} old" if backup_info
                                    else "none yet"))
    print("\n".join(lines))
sys.stdout.flush()
