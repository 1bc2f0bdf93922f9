"""The tests' ACME server: Debian's pebble (Let's Encrypt's test CA) on the backup host's sandbox, reached by
certbot on the droplet sandboxes as Let's Encrypt is in real life. Pebble checks each challenge over HTTP
on port 80 of the name, which the backup host resolves (its /etc/hosts) to the sandbox asking."""
from __future__ import annotations

import json
import subprocess

from tests.vault import Vault

NAMES = ("smoothcurves.nexus", "smoothcurves.art")
CONFIG = "/etc/pebble"


class Pebble:
    def __init__(self, vault: Vault):
        self.vault = vault
        self.ca_bundle = vault.machine.state / "acme-ca.pem"

    @property
    def directory(self) -> str:
        return f"https://{self.vault.machine.address}:14000/dir"

    def settings(self) -> tuple[str, ...]:
        """production.py's --data for a host whose DNS points at it, with this CA."""
        return ("--data", "production_tls_obtain=True", "--data", f"production_acme_server={self.directory}",
                "--data", f"production_acme_ca_bundle={self.ca_bundle}")

    def up(self) -> Pebble:
        address = self.vault.machine.address
        steps = [
            "set -e", "command -v pebble >/dev/null || apt-get install -y -q pebble >/dev/null",
            f"mkdir -p {CONFIG}", f"cd {CONFIG}",
            # Pebble's own TLS (the ACME endpoint), signed by a CA of the tests' that certbot is given.
            "openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=bastion-tests-acme-ca "
            "-keyout ca.key -out ca.pem 2>/dev/null",
            "openssl req -newkey rsa:2048 -nodes -subj /CN=pebble -keyout key.pem -out server.csr 2>/dev/null",
            f"printf 'subjectAltName=IP:{address},IP:127.0.0.1\\n' > san",
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 -extfile san "
            "-out cert.pem 2>/dev/null",
            f"echo '{json.dumps(self.config())}' > config.json",
            "systemd-run --quiet --unit=pebble -E PEBBLE_VA_NOSLEEP=1 -E PEBBLE_WFE_NONCEREJECT=0 "
            f"pebble -config {CONFIG}/config.json",
            f"for i in $(seq 50); do curl -sf --cacert ca.pem -o /dev/null {self.directory} && break; sleep 0.2; done",
        ]
        self.vault.ssh("; ".join(steps))
        self.ca_bundle.write_text(self.vault.ssh(f"cat {CONFIG}/ca.pem").stdout)
        return self

    @staticmethod
    def config() -> dict:
        return {"pebble": {"listenAddress": "0.0.0.0:14000", "managementListenAddress": "0.0.0.0:15000",
                           "certificate": f"{CONFIG}/cert.pem", "privateKey": f"{CONFIG}/key.pem", "httpPort": 80,
                           "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": False}}

    def point(self, address: str):
        """DNS, as pebble sees it: the droplet's names at this address."""
        self.vault.ssh(f"sed -i '/smoothcurves/d' /etc/hosts && echo '{address} {' '.join(NAMES)}' >> /etc/hosts")

    def roots(self) -> str:
        """Pebble's issuing root (made fresh at each start): what a client that trusts this CA trusts."""
        return self.vault.ssh(f"curl -sf --cacert {CONFIG}/ca.pem https://127.0.0.1:15000/roots/0").stdout

    def down(self):
        self.vault.ssh("systemctl stop pebble", check=False)


def served_chain_verifies(sandbox, name: str, roots: str) -> subprocess.CompletedProcess:
    """The certificate nginx serves for name, verified against pebble's root (valid TLS, as a browser checks)."""
    sandbox.ssh(f"cat > /root/acme-roots.pem <<'EOF'\n{roots}EOF")
    return sandbox.ssh(f"openssl s_client -connect 127.0.0.1:443 -servername {name} -verify_return_error "
                       f"-CAfile /root/acme-roots.pem </dev/null 2>&1 | grep -E '^Verify return code'", check=False)
