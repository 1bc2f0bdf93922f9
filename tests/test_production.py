"""production.py: production on a new host, never over the live one (issue: the whole droplet as code)."""
import time

from tests import harness


def test_a_host_that_has_production_is_refused_and_nothing_changes(pristine, settings):
    harness.mark(pristine)
    run = harness.deploy(pristine, "--data", "production_restore_from=yesterday", deploy_file="production.py")
    assert run.returncode != 0
    assert (f"production_rebuild_host: {pristine.address} already has production "
            f"(unit /etc/systemd/system/{settings.production_unit}, checkout {settings.production_checkout}, "
            f"site {settings.production_nginx_site}); production.py builds new hosts only") in run.output
    assert "production_restore_from=yesterday: give latest or a snapshot id" in run.output
    assert "nothing on the host was changed" in run.output
    assert harness.changed_since_mark(pristine) == []


def test_a_blank_host_becomes_the_droplet_with_two_commands(blank, settings, figures):
    blank.up()
    started = time.monotonic()
    production = harness.deploy(blank, "--data", f"dev_repo_url={blank.upstream_url}", deploy_file="production.py",
                                env=harness.by_address(blank))
    assert production.returncode == 0, production.output[-5000:]
    assert "self-signed" in production.output
    dev = harness.deploy(blank, "--data", f"dev_repo_url={blank.upstream_url}", env=harness.by_address(blank))
    assert dev.returncode == 0, dev.output[-5000:]
    figures["blank host to production and dev (no data to restore): production.py + deploy.py"] = \
        f"{time.monotonic() - started:.1f} s"
    for suite in ("tests/verify_production", "tests/verify"):
        done = harness.verify_suite(blank, suite=suite)
        assert done.returncode == 0, done.stdout[-4000:]
    # Both converged: production.py keeps the dev include, neither undoes the other.
    for deploy_file in ("production.py", "deploy.py"):
        again = harness.deploy(blank, "--data", f"dev_repo_url={blank.upstream_url}", deploy_file=deploy_file,
                               env=harness.by_address(blank))
        assert again.returncode == 0 and again.changed == [], (deploy_file, again.output[-3000:])
    assert "SELF-SIGNED" in blank.ssh(f"cat {settings.selfsigned_certificates_dir}/selfsigned-{settings.server_name}.crt | "
                                      f"openssl x509 -noout -subject | tr a-z A-Z").stdout
