"""production.py: production on a new host, never over the live one (issue: the whole droplet as code)."""
import time

from tests import harness
from tests.acme import served_chain_verifies


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


def test_production_comes_first_on_a_new_host(blank):
    """After deploy.py, the dev endpoint has a site of its own for the same name: production.py says so and
    changes nothing, rather than putting a second server block for it beside the first."""
    blank.up()
    upstream = ("--data", f"dev_repo_url={blank.upstream_url}")
    harness.deployed(blank, *upstream, env=harness.by_address(blank))
    harness.mark(blank)
    run = harness.deploy(blank, *upstream, deploy_file="production.py", env=harness.by_address(blank))
    assert run.returncode != 0
    assert "run production.py before deploy.py on a new host, or remove that site" in run.output
    assert harness.changed_since_mark(blank) == []


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


def test_a_host_dns_points_at_obtains_its_certificates_with_certbot_and_renews_them(blank, acme, settings):
    """No certificate to restore, production_tls_obtain=True: certbot gets both names' certificates from the
    ACME server (pebble, answering its challenge on port 80 of this host), nginx serves them at once, and
    certbot's timer is there to renew them. A second run changes nothing."""
    blank.up()
    target, upstream = harness.by_address(blank), ("--data", f"dev_repo_url={blank.upstream_url}")
    acme.point(blank.address)
    # The CA not reachable (a port nothing listens on): the run fails with certbot's reason, named by the
    # setting, and the sites serve their self-signed certificates meanwhile.
    early = harness.deploy(blank, *upstream, *acme.settings(), "--data",
                           f"production_acme_server={acme.directory.replace(':14000', ':14009')}",
                           deploy_file="production.py", env=target)
    assert early.returncode != 0 and "production_tls_obtain: certbot could not get smoothcurves.nexus" in early.output, \
        early.output[-3000:]
    assert "SELF-SIGNED" in blank.ssh(f"openssl s_client -connect 127.0.0.1:443 -servername {settings.server_name} "
                                      f"</dev/null 2>/dev/null | openssl x509 -noout -subject | tr a-z A-Z").stdout
    run = harness.deploy(blank, *upstream, *acme.settings(), deploy_file="production.py", env=target)
    assert run.returncode == 0, run.output[-5000:]
    roots = acme.roots()
    for name in (settings.server_name, settings.production_art_server_name):
        assert acme_verifies(blank, name, roots), f"{name}: not served with a certificate the ACME server issued"
    assert blank.ssh(f"readlink {settings.tls_certificate}").stdout.strip().startswith("../../archive/")
    assert blank.ssh("systemctl is-enabled certbot.timer").stdout.strip() == "enabled"
    renewal = blank.ssh(f"cat /etc/letsencrypt/renewal/{settings.server_name}.conf").stdout
    assert f"server = {acme.directory}" in renewal and "authenticator = nginx" in renewal
    renewed = blank.ssh(f"systemctl start certbot.service && ls /etc/letsencrypt/archive/{settings.server_name}", check=False)
    assert renewed.returncode == 0, "certbot's own unit runs with the CA production.py was given"
    again = harness.deploy(blank, *upstream, *acme.settings(), deploy_file="production.py", env=target)
    assert again.returncode == 0 and again.changed == [], again.output[-3000:]


def acme_verifies(sandbox, name: str, roots: str) -> bool:
    return "Verify return code: 0 (ok)" in served_chain_verifies(sandbox, name, roots).stdout
