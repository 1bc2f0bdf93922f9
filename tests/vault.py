"""The backup host of the tests: a sandbox of its own, reached from the droplet's sandbox over SFTP with
a key of its own, as an off-host restic repository is in real life (nothing on loopback pretends)."""
from __future__ import annotations

import subprocess

from sandbox.machine import Sandbox

USER = "restic"


class Vault:
    def __init__(self, name: str, subnet: str):
        self.machine = Sandbox(name, subnet)

    @property
    def key(self):
        return self.machine.state / "backup-key"

    @property
    def known_hosts(self):
        return self.machine.known_hosts

    def url(self, name: str = "droplet") -> str:
        return f"sftp:{USER}@{self.machine.address}:/srv/restic/{name}"

    def up(self) -> Vault:
        self.machine.up()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bastion-backup", "-f", str(self.key)],
                       check=True, stdin=subprocess.DEVNULL)
        public = self.key.with_suffix(".pub").read_text().strip()
        self.machine.ssh(
            f"useradd --create-home --shell /bin/sh {USER} && install -d -o {USER} -g {USER} -m 700 /srv/restic "
            f"~{USER}/.ssh && echo '{public}' > ~{USER}/.ssh/authorized_keys && "
            f"chown {USER}: ~{USER}/.ssh/authorized_keys && chmod 600 ~{USER}/.ssh/authorized_keys")
        return self

    def down(self):
        self.machine.down()

    def settings(self, name: str = "droplet") -> tuple[str, ...]:
        """The deploy's --data for a repository on this host."""
        return ("--data", f"backup_repository={self.url(name)}", "--data", f"backup_ssh_key={self.key}",
                "--data", f"backup_ssh_known_hosts={self.known_hosts}")

    @property
    def append_only_key(self):
        """The droplet's key to an append-only repository: a key of its own, since the host forces it."""
        key = self.machine.state / "append-only-key"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bastion-append-only", "-f", str(key)],
                           check=True, stdin=subprocess.DEVNULL)
        return key

    def append_only_settings(self, name: str) -> tuple[str, ...]:
        """The --data of a repository that backup_host.py keeps: for it, and for the droplet's deploy."""
        return ("--data", f"backup_repository={self.url(name)}", "--data", f"backup_ssh_key={self.append_only_key}",
                "--data", f"backup_ssh_known_hosts={self.known_hosts}", "--data", "backup_append_only=True")

    def ssh(self, command: str, **kwargs) -> subprocess.CompletedProcess:
        return self.machine.ssh(command, **kwargs)

    def reachable(self, yes: bool):
        """The backup host reachable or not, as when it is down or the network to it is: its veth's host
        side (the project's own) down or up."""
        subprocess.run(["ip", "link", "set", self.machine.veth, "up" if yes else "down"], check=True)
