"""The same batch for testinfra: its ssh backend, with the commands a verify run asked last time sent in
one round at its first command and answered from there. A check suite only reads, so every command is
one a batch may answer; one it did not hold goes over SSH and is remembered for the next run.

    host = batched(testinfra_host)    # any ssh:// host; other backends are returned as they are
"""
from __future__ import annotations

import copy
import subprocess
import sys

from testinfra.backend.ssh import SshBackend
from testinfra.host import Host

from batchssh import BATCH, batch_answers, batch_input, count, record_file, remember, remembered

_hosts: dict[tuple, Host] = {}


class BatchedSshBackend(SshBackend):
    NAME = "batchssh"

    @classmethod
    def taking_over(cls, backend: SshBackend) -> BatchedSshBackend:
        """This backend with the settings of testinfra's own (host, user, port, ssh_config...)."""
        batched_backend = copy.copy(backend)
        batched_backend.__class__ = cls
        batched_backend._start()
        return batched_backend

    def _start(self):
        # Which suite runs (tests/verify, tests/verify_production) says which commands it asks.
        suite = [word for word in sys.argv[1:] if not word.startswith("-")]
        self._record = record_file("testinfra", self.host.name, str(self.host.port), str(self.ssh_config), *suite)
        self._asked: list[str] = []
        self._answers: dict[str, tuple[int, bytes, bytes]] | None = None
        self._counts = {"host": self.host.name, "remote_commands": 0, "answered_from_batch": 0, "batch_bytes": 0,
                        "argv": ["testinfra"]}

    def _ask_all(self) -> None:
        commands = remembered(self._record)
        self._answers = {}
        if not commands:
            return
        cmd, cmd_args = self._build_ssh_command(BATCH)
        self._counts["remote_commands"] += 1
        done = subprocess.run(self.quote(" ".join(cmd), *cmd_args), shell=True,
                              input=batch_input(commands).encode(), capture_output=True)
        self._counts["batch_bytes"] = len(done.stdout)
        self._answers = batch_answers(done.stdout, commands)

    def run(self, command: str, *args: str, **kwargs):
        actual = self.get_command(command, *args)
        if self._answers is None:
            self._ask_all()
        if actual not in self._asked:
            self._asked.append(actual)
            remember(self._record, self._asked)
        if actual in self._answers:
            self._counts["answered_from_batch"] += 1
            status, out, err = self._answers[actual]
            return self.result(status, self.encode(actual), out, err)
        self._counts["remote_commands"] += 1
        return super().run(command, *args, **kwargs)

    def report(self) -> None:
        count(self._counts)


def batched(host: Host) -> Host:
    """The host, its commands answered from one batch when it is reached over ssh://."""
    backend = host.backend
    if type(backend) is not SshBackend:
        return host
    key = (backend.hostname, backend.ssh_config, backend.ssh_identity_file)
    if key not in _hosts:
        _hosts[key] = Host(BatchedSshBackend.taking_over(backend))
    return _hosts[key]


def report_all() -> None:
    for host in _hosts.values():
        host.backend.report()
