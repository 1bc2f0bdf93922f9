"""Where the V2 dev environment stands on a target. Read-only: facts only, no operation.

    pyinfra inventory.py status.py                              plain text for people
    pyinfra inventory.py status.py --data status_format=json    JSON on stdout for scripts

Deployed and upstream commit, the commit the running server started on (recorded by its unit: the
app's /health names none) and its verdict, service state and uptime, health through nginx as the app reports
it (status, version), the last sync of the follow timer and its outcome; the newest snapshot in the backup
repository (its age, and whether the repository is off the host), the last backup run and the last check;
production's newest snapshot (its age and the paths it covers) and its last backup run.
"""
import json
import os
import shlex
import sys
import time

from pyinfra import host

from tasks.backup_rules import off_host, snapshot_time
from tasks.facts import CheckoutGit, production
from tasks.facts import ReportedValues as KeyValues

d = host.data

service = host.get_fact(KeyValues, script=(
    f"systemctl show -p ActiveState -p SubState -p NRestarts -p ActiveEnterTimestamp --timestamp=unix {d.dev_unit}; "
    f"echo now=$(date +%s); c=$(cat {d.dev_runtime_dir}/commit 2>/dev/null); case $c in *[!0-9a-f]*) c='';; esac; "
    f"echo running_commit=$c; [ -n \"$c\" ] && sed 's/^/verdict_/' {d.bastion_state_dir}/verdicts/$c 2>/dev/null; true"))
health = host.get_fact(KeyValues, script=(
    f"printf 'reply=%s\\n' \"$(curl -sk --max-time 5 --resolve {d.server_name}:443:127.0.0.1 "
    f"https://{d.server_name}{d.dev_url_path}/health)\""))
# As the checkout's owner: root's git never runs in it.
checkout = host.get_fact(CheckoutGit, checkout=d.dev_checkout, branch=d.dev_branch)
# Who holds a token for the door: the names in the digests' map (never a token; the host has none).
holders = host.get_fact(KeyValues, script=(
    f"printf 'holders=%s\\n' \"$(sed -n 's/^[0-9a-f]* \\([^;]*\\);$/\\1/p' {d.dev_door_tokens_file} 2>/dev/null "
    f"| grep -vx bastion | sort | tr '\\n' ' ')\""))
follow = host.get_fact(KeyValues, script=f"cat {d.bastion_state_dir}/follow.state 2>/dev/null || true")
# Production's commit and since when it runs, and the last promotion (promote.py).
promoted = host.get_fact(KeyValues, script=(
    f"c={shlex.quote(production(d).checkout)}; [ -d \"$c/.git\" ] && echo commit=$(setpriv --reuid=$(stat -c %u \"$c\") "
    f"--regid=$(stat -c %g \"$c\") --clear-groups env GIT_OPTIONAL_LOCKS=0 git -c core.fsmonitor=false "
    f"-c core.hooksPath=/dev/null -C \"$c\" rev-parse HEAD 2>/dev/null); "
    f"systemctl show -p ActiveEnterTimestamp --timestamp=unix {shlex.quote(production(d).unit)}; "
    f"sed 's/^/last_/' {d.promote_state_dir}/promote.state 2>/dev/null; true"))
# The previews as the team's status page shows them (the follow path and the reconcile write it).
page = host.get_fact(KeyValues, script=(
    f"printf 'page=%s\\n' \"$(tr -d '\\n' < {d.dev_status_dir}/status.json 2>/dev/null)\""))
bounds = host.get_fact(KeyValues, script=(
    f"systemctl show -p MemoryCurrent -p MemoryMax -p TasksCurrent -p TasksMax {d.dev_slice}; "
    f"echo disk_free=$(df --output=avail -B1 {d.dev_data_dir} 2>/dev/null | tail -n 1 | tr -d ' '); "
    f"sed 's/^/last_/' {d.bastion_state_dir}/bounds.state 2>/dev/null; true"))
backup = host.get_fact(KeyValues, script=(
    f"sed 's/^/run_/' {d.bastion_state_dir}/backup.state 2>/dev/null; "
    f"sed 's/^/check_/' {d.bastion_state_dir}/backup-check.state 2>/dev/null; echo now=$(date +%s); "
    f"sed 's/^/production_run_/' {d.bastion_state_dir}/production-backup.state 2>/dev/null; "
    f"command -v {d.backup_restic_command} >/dev/null && echo newest=$(timeout 60 {d.backup_restic_command} snapshots "
    f"--no-lock --json --latest 1 --host {d.backup_snapshot_host} --tag hacs-dev 2>&1 | tr '\\n' ' ') && "
    f"echo production_newest=$(timeout 60 {d.backup_restic_command} snapshots --no-lock --json --latest 1 "
    f"--host {d.backup_snapshot_host} --tag production,routine 2>&1 | tr '\\n' ' ')"))

try:
    served = json.loads(health.get("reply") or "{}")
except ValueError:
    served = {"status": "unreadable", "reply": health.get("reply", "")[:200]}
started = service.get("ActiveEnterTimestamp", "").lstrip("@")


def newest_snapshot(listing: str, now: str):
    """restic's JSON list of the newest snapshot -> its id, time and age; a listing that is not JSON is
    restic's error, reported as it is."""
    try:
        snapshots = json.loads(listing)
    except ValueError:
        return {"error": listing.strip()[-300:] or "no answer from restic"}
    if not snapshots:
        return None
    newest = max(snapshots, key=lambda snapshot: snapshot["time"])
    taken = int(snapshot_time(newest["time"]))
    return {"id": newest["short_id"], "time": newest["time"][:19] + "Z", "tags": newest.get("tags", []),
            "paths": newest.get("paths", []), "age_seconds": int(now) - taken if now.isdigit() else None}


def number(text):
    """systemd's and df's figures; None where there is none (systemd says [not set] or infinity)."""
    return int(text) if text and text.isdigit() else None


def since_of(stamp: str):
    stamp = stamp.lstrip("@")
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(stamp))) if stamp.isdigit() and stamp != "0" else None


def previews_of(text: str) -> list:
    try:
        return json.loads(text or "{}").get("previews") or []
    except ValueError:
        return []


def outcome(prefix: str):
    found = {key[len(prefix):]: value for key, value in backup.items() if key.startswith(prefix)}
    return {key: found[key] for key in ("finished_at", "repository", "outcome", "result") if key in found} or None


report = {
    "host": host.name,
    "deployed_commit": checkout.get("head"),
    "upstream_commit": checkout.get("origin"),
    "service": {
        "unit": d.dev_unit,
        "state": f"{service.get('ActiveState', 'unknown')} ({service.get('SubState', '?')})",
        "uptime_seconds": int(service["now"]) - int(started) if started.isdigit() and service.get("now") else None,
        "restarts": int(service.get("NRestarts") or 0),
        "running_commit": service.get("running_commit") or None,
        "verdict": service.get("verdict_verdict"),
        "verdict_reason": service.get("verdict_reason") or None,
    },
    "door": {"token_holders": (holders.get("holders") or "").split()},
    "previews": previews_of(page.get("page", "")),
    "production": {
        "commit": promoted.get("commit") or None,
        "since": since_of(promoted.get("ActiveEnterTimestamp", "")),
        "last_promotion": ({key: promoted.get(f"last_{key}") for key in ("outcome", "from", "to", "by", "snapshot",
                                                                        "outage_ms", "reason", "finished_at")}
                           if promoted.get("last_phase") else None),
    },
    "health_through_nginx": {
        "url": f"https://{d.server_name}{d.dev_url_path}/health",
        "healthy": served.get("status") == "healthy" and str(served.get("port")) == str(d.dev_port),
        "version": served.get("version"),
    },
    "last_sync": ({key: follow[key] for key in ("checked_at", "outcome", "deployed", "upstream", "failed_commit", "reason")
                   if follow.get(key)} or None),
    "bounds": {
        "slice": d.dev_slice,
        "memory_bytes": number(bounds.get("MemoryCurrent")), "memory_max_bytes": number(bounds.get("MemoryMax")),
        "tasks": number(bounds.get("TasksCurrent")), "tasks_max": number(bounds.get("TasksMax")),
        "disk_free_bytes": number(bounds.get("disk_free")), "disk_floor": d.dev_disk_floor,
        "last_stop": ({key[len("last_"):]: value for key, value in bounds.items() if key.startswith("last_")} or None),
    },
    "backup": {
        "repository": d.backup_repository,
        "off_host": off_host(d.backup_repository),
        "append_only": bool(d.backup_append_only),
        "newest_snapshot": newest_snapshot(backup["newest"], backup.get("now", "")) if "newest" in backup else None,
        "last_run": outcome("run_"),
        "last_check": outcome("check_"),
    },
    "production_backup": {
        "newest_snapshot": (newest_snapshot(backup["production_newest"], backup.get("now", ""))
                            if "production_newest" in backup else None),
        "last_run": outcome("production_run_"),
    },
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
        f"  verdict    {report['service']['verdict'] or 'not judged yet'}"
        + (f": {report['service']['verdict_reason']}" if report["service"]["verdict_reason"] else ""),
        f"  health     {report['health_through_nginx']['url']}: "
        + ("healthy" if report["health_through_nginx"]["healthy"] else "NOT healthy")
        + (f" (version {report['health_through_nginx']['version']})" if report["health_through_nginx"]["version"] else ""),
        "  last sync  " + (f"{sync.get('checked_at')}: {sync.get('outcome')}" if sync else "never (follow timer not run yet)"),
        "  door       tokens of " + (", ".join(report["door"]["token_holders"]) or "nobody yet (./bastion token issue NAME)"),
    ]
    if sync and sync.get("failed_commit"):
        lines.append(f"  failed     {short(sync['failed_commit'])}: {sync.get('reason') or 'no reason recorded'}")
    now = report["production"]
    last = now["last_promotion"]
    lines.append(f"  production {short(now['commit'])} since {now['since'] or '?'}"
                 + (f"; last promotion {last['outcome']}: {short(last['from'])} -> {short(last['to'])} at "
                    f"{last['finished_at'] or '?'}" + (f" ({last['reason']})" if last.get("reason") else "")
                    if last else "; never promoted by bastion"))
    for preview in report["previews"]:
        lines.append(f"  preview    {preview['branch']} at {preview['url']}: {short(preview['commit'])} {preview['state']}, "
                     f"verdict {preview['verdict'] or 'none'}"
                     + (f"; failed {short(preview['failed']['commit'])}: {preview['failed']['reason']}"
                        if preview["failed"] else ""))
    bound = report["bounds"]

    def size(value):
        return f"{value / 2**20:.0f} MiB" if value is not None else "?"

    lines.append(f"  bounds     {bound['slice']}: memory {size(bound['memory_bytes'])} of {size(bound['memory_max_bytes'])}, "
                 f"tasks {bound['tasks'] if bound['tasks'] is not None else '?'} of {bound['tasks_max'] or '?'}, "
                 f"disk {size(bound['disk_free_bytes'])} free (floor {bound['disk_floor']})")
    if bound["last_stop"]:
        lines.append(f"  stopped    {bound['last_stop'].get('at')} on {short(bound['last_stop'].get('commit'))}: "
                     f"{bound['last_stop'].get('reason')}")
    backup = report["backup"]
    newest = backup["newest_snapshot"]
    where = (f"in {backup['repository']} (off the host)" if backup["off_host"] else
             f"in {backup['repository']}, ON THIS HOST: it does not survive the droplet (set backup_repository)")
    if newest and "error" in newest:
        lines.append(f"  backup     repository not readable: {newest['error']}")
    else:
        lines.append("  backup     " + (f"newest snapshot {newest['id']}, {age(newest['age_seconds'])} old, " if newest
                                        else "no snapshot yet, ") + where)
    if backup["append_only"]:
        lines[-1] += "; append-only from here"
    for label, key in (("last run", "last_run"), ("last check", "last_check")):
        run = backup[key]
        if key == "last_check" and backup["append_only"]:
            lines.append(f"  {label:<10} on the backup host (bastion-repository-check.timer; backup_host.py)")
            continue
        elsewhere = run and run.get("repository") not in (None, backup["repository"])
        lines.append(f"  {label:<10} " + (f"{run.get('finished_at')}: {run.get('result') or run.get('outcome')}"
                                          + (f" (of the earlier repository {run['repository']})" if elsewhere else "")
                                          if run else "never"))
    production = report["production_backup"]
    newest = production["newest_snapshot"]
    if newest and "error" not in newest:
        # Its data root's entries relative to it; what lies elsewhere (certbot's state) as it is.
        data = [path for path in newest["paths"] if not path.startswith("/etc/")] or newest["paths"]
        root = os.path.commonpath(data) if len(data) > 1 else os.path.dirname(data[0])
        lines.append(f"  production newest snapshot {newest['id']}, {age(newest['age_seconds'])} old, of {root}: "
                     + " ".join(os.path.relpath(path, root) if path in data else path for path in newest["paths"]))
    else:
        lines.append("  production no snapshot of production's data yet")
    run = production["last_run"]
    lines.append(f"  {'prod. run':<10} " + (f"{run.get('finished_at')}: {run.get('result') or run.get('outcome')}"
                                            if run else "never"))
    print("\n".join(lines))
sys.stdout.flush()
