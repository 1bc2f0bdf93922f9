"""The certificates production.py serves: Let's Encrypt's when the host has them, a self-signed one named so
when it has none, and on a host that will have them within this run (a restore of certbot's state, or
certbot itself) the site chosen on the host once they are there. On a host without production, deploy.py's dev
site of its own gets its certificate from certbot the same way (obtain_dev_certificate)."""
from pathlib import Path

from pyinfra import host, logger
from pyinfra.api import deploy, operation
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd

from tasks import template, units
from tasks.facts import production
from tasks.nginx import certificate_for, has_certificate, reload_nginx, self_signed_for
from tasks.operator_secrets import local_file
from tasks.output import reported


def site_with_certificate(name: str, source: str, dest: str, letsencrypt: str, may_come: bool, **context) -> list:
    """A site with name's Let's Encrypt certificate when the host has it, else a self-signed one. When this
    very run may bring one (a restore of certbot's state, or certbot itself), both are rendered aside and
    the one to serve is chosen on the host when the run gets there, so the certificate is served at once."""
    key = str(Path(letsencrypt).with_name("privkey.pem"))
    if has_certificate(letsencrypt) or not may_come:
        certificate, certificate_key, changes = certificate_for(name, letsencrypt, "production.py")
        return [files.template(name=f"Site {name}", src=template(source), dest=dest, certificate=certificate,
                               certificate_key=certificate_key, mode="644", **context), *changes]
    stem = aside(dest)
    self_signed, self_signed_key, changes = self_signed_for(name)
    logger.warning(f"{host.print_prefix}no certificate at {letsencrypt} yet: {name} is served with it once the restore "
                   f"or certbot brings it, else with the self-signed {self_signed}")
    staged = [files.directory(name="Sites rendered aside", path=str(Path(stem).parent), mode="755"),
              files.template(name=f"Site {name} with its Let's Encrypt certificate, aside", src=template(source),
                             dest=f"{stem}.letsencrypt", certificate=letsencrypt, certificate_key=key, mode="644", **context),
              files.template(name=f"Site {name} with a self-signed certificate, aside", src=template(source),
                             dest=f"{stem}.self-signed", certificate=self_signed, certificate_key=self_signed_key,
                             mode="644", **context)]
    return [*staged, *changes, chosen_site(name, dest, letsencrypt)]


def aside(site: str) -> str:
    return f"{host.data.bastion_state_dir}/sites/{Path(site).name}"


def chosen_site(name: str, site: str, letsencrypt: str, **kwargs):
    stem = aside(site)
    return server.shell(name=f"Site {name}: its Let's Encrypt certificate when the host has it, else self-signed",
                        commands=[f"if [ -e {letsencrypt} ]; then cp {stem}.letsencrypt {site}; "
                                  f"else cp {stem}.self-signed {site}; fi; chmod 644 {site}"], **kwargs)


@operation()
def certificates_from_certbot(names: dict[str, str], server_url: str | None, ca_bundle: str | None, email: str | None):
    """certbot certonly for each name the host has no certificate of (the nginx authenticator answers the
    challenge on port 80 and puts the sites back as they were); certbot's timer renews them after."""
    missing = {name: path for name, path in names.items() if not has_certificate(path)}
    if not missing:
        host.noop("the host has a certificate for " + ", ".join(names))
        return
    options = ["--non-interactive", "--agree-tos", "--nginx", "--no-random-sleep-on-renew",
               f"--email {email}" if email else "--register-unsafely-without-email",
               *([f"--server {server_url}"] if server_url else [])]
    environment = f"REQUESTS_CA_BUNDLE={ca_bundle} " if ca_bundle else ""
    for name, path in missing.items():
        # A certbot that fails fails the run with its reason (DNS not here yet, the CA unreachable): the
        # sites keep the self-signed certificate they were given, nginx keeps serving.
        yield reported(f"[ -e {path} ] || {{ out=$({environment}certbot certonly {' '.join(options)} --cert-name {name} "
                       f"-d {name} 2>&1) || {{ echo \"production_tls_obtain: certbot could not get {name}'s certificate "
                       f"(does DNS point here?): $(printf '%s\\n' \"$out\" | grep -vE '^ *$|^Saving debug' | tail -n 3 "
                       f"| tr '\\n' ' ')\"; exit 1; }}; echo \"certificate for {name} obtained\"; }}")


def acme_ca_bundle(d) -> str | None:
    """The ACME server's CA on the host, for certbot and its timer, when the server is not Let's Encrypt's."""
    if not d.production_acme_ca_bundle:
        return None
    bundle = f"{d.backup_config_dir}/acme-ca.pem"
    files.put(name="The ACME server's CA, for certbot", src=str(local_file("production_acme_ca_bundle")), dest=bundle,
              mode="644")
    dropin = files.template(name="certbot's timer trusts it too",
                            src=template("etc/systemd/system/certbot.service.d/bastion-acme-ca.conf.j2"),
                            dest="/etc/systemd/system/certbot.service.d/bastion-acme-ca.conf", mode="644", bundle=bundle)
    units.reload_if_changed([dropin], "certbot's unit")
    return bundle


@deploy("The dev site's certificate")
def obtain_dev_certificate():
    """A host without production (the team's previews on a droplet of their own): once DNS points here
    (production_tls_obtain, as for production.py), certbot obtains server_name's certificate and the dev site
    of its own serves it; certbot's timer renews it."""
    d = host.data
    if not d.production_tls_obtain or host.get_fact(File, path=production(d).site):
        return
    missing = [name for name in d.tls_obtain_packages if name not in host.get_fact(DebPackages)]
    apt.packages(name="certbot and its nginx plugin", packages=d.tls_obtain_packages, update=bool(missing),
                 cache_time=d.apt_cache_max_age_seconds)
    if not has_certificate(d.tls_certificate):
        obtained = certificates_from_certbot(
            name=f"Certificate from certbot for {d.server_name}", names={d.server_name: d.tls_certificate},
            server_url=d.production_acme_server, ca_bundle=acme_ca_bundle(d), email=d.production_acme_email)
        key = str(Path(d.tls_certificate).with_name("privkey.pem"))
        site = files.template(name="Dev site with its Let's Encrypt certificate",
                              src=template("etc/nginx/sites-available/hacs-dev.j2"), dest=d.dev_nginx_site,
                              certificate=d.tls_certificate, certificate_key=key, self_signed=False, user="root", group="root",
                              mode="644", _if=obtained.did_change)
        server.shell(name="nginx -t, with the certificate", commands=["nginx -t"], _if=site.did_change)
        reload_nginx(site.did_change, [d.dev_nginx_site], why=", serving the certificate certbot obtained")
    systemd.service(name="certbot's renewal timer", service="certbot.timer", running=True, enabled=True)
