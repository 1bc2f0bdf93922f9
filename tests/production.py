"""Production's state as the tests compare it before and after a dev deploy."""
from __future__ import annotations

from tests.settings import load


def snapshot(host) -> dict:
    """Checksums of every production file, the site, the certificate, and the service's start."""
    s = load()
    paths = " ".join([s.production_checkout, s.production_data_dir, s.production_backups_dir,
                      s.production_old_checkout, s.production_art_root, s.production_art_site])
    files = host.check_output(f"find {paths} -type f -not -path '*/.git/*' -print0 | sort -z | "
                              f"xargs -0 sha256sum")
    site_lines = host.file(s.production_nginx_site).content_string.splitlines()
    service = host.check_output(
        f"systemctl show {s.production_unit} -p InvocationID -p ExecMainStartTimestamp -p NRestarts -p MainPID")
    return {
        "files": files,
        "git_head": host.check_output(f"git -C {s.production_checkout} rev-parse HEAD"),
        "site_without_dev_include": [line for line in site_lines
                                     if line.strip() != f"include {s.dev_nginx_snippet};"],
        "site_dev_includes": sum(line.strip() == f"include {s.dev_nginx_snippet};" for line in site_lines),
        "certificate": host.check_output(f"sha256sum {s.tls_certificate} {s.tls_certificate_key}"),
        "service": service,
    }
