"""Production's state as the tests compare it before and after a bastion run: every file of it with its
content, owner and mode (so a chmod or chown shows too), the top-level entries of its data root, the unit,
the sites, the team's hooks, the certificates, and the service's start."""
from __future__ import annotations

# The team's files beside production that no bastion run may touch.
TEAM_FILES = ["/etc/webhook.conf", "/etc/nginx/claw-instances", "/mnt/paula"]


def snapshot(host, s) -> dict:
    dev = [s.dev_checkout, s.dev_data_dir, s.dev_backups_dir]
    if s.backup_repository.startswith("/"):
        dev.append(s.backup_repository)
    roots = [s.production_checkout, s.production_data_dir, s.production_art_root, *s.production_leftovers,
             *TEAM_FILES, f"/etc/systemd/system/{s.production_unit}",
             s.production_art_site]
    # The app's own log files grow with every request production answers (the checks' included).
    prune = " ".join(f"-path {path} -prune -o" for path in [*dev, f"{s.production_checkout}/logs"])
    listing = (f"find {' '.join(roots)} {prune} -path '*/.git' -prune -o -path '*/node_modules' -prune -o "
               f"-type f -printf '%p %u:%g %m\\n' 2>/dev/null | sort")
    files = host.check_output(f"{listing} | while read -r path owner mode; do "
                              f"echo \"$(sha256sum < \"$path\" | cut -c1-64) $owner $mode $path\"; done")
    site_lines = host.file(s.production_nginx_site).content_string.splitlines()
    service = host.check_output(
        f"systemctl show {s.production_unit} -p InvocationID -p ExecMainStartTimestamp -p NRestarts -p MainPID")
    return {
        "files": files,
        "top_level": host.check_output(f"ls -la --time-style=+ {s.production_data_dir} | tail -n +2 | "
                                       f"grep -v ' \\.\\.\\?$'"),
        "git_head": host.check_output(f"git -c safe.directory='*' -C {s.production_checkout} rev-parse HEAD"),
        "site_without_dev_include": [line for line in site_lines
                                     if line.strip() != f"include {s.dev_nginx_snippet};"],
        "site_dev_includes": sum(line.strip() == f"include {s.dev_nginx_snippet};" for line in site_lines),
        "certificate": host.check_output(f"sha256sum {s.tls_certificate} {s.tls_certificate_key}"),
        "service": service,
    }
