"""production.py's certificates: certbot obtains them from an ACME server when there are none to restore."""
from tests import harness
from tests.acme import served_chain_verifies


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
