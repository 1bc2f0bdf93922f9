"""An operation's commands and uploads sent to the host as one request, where pyinfra sends them one by one.

pyinfra runs an operation's commands one at a time and decides each one's success before it asks the operation
for the next, so a connector alone cannot send them together: over 100 ms, a file put with its owner and mode
(an upload, chown, chmod) waited three round trips. `install()` wraps pyinfra's _run_host_op: for a host on
batchssh, the operation's command generator is read ahead by the connector (BatchedSSHConnector.grouped), which
plans each command and upload it can run in a group and, when pyinfra executes the first of them, sends them
all; the interpreter on the host (pipe.py) runs them in order until the first that fails and answers each, and
pyinfra's calls are answered from there, in order. pyinfra sees what it saw: each command's status and output,
the failed one named with its output, none after it run. What cannot go in a group is executed by pyinfra as
before, after the group before it: a Python callback, a command that needs a pty, stdin, a timeout, sudo or
other success codes than 0, and every command of an operation with retries or continue_on_error. An operation
that reads a fact after its first commands gets it after they ran (the group is sent first).

Upstream, the same without a wrapper: in pyinfra.api.operations._run_host_op, hand the connector an
operation's commands as they come (e.g. an optional `Connector.run_commands(commands)` returning each one's
status and output up to the first that failed), when the operation has no _retries and no continue_on_error.
"""
from __future__ import annotations

import importlib

from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS

pyinfra_operations = importlib.import_module("pyinfra.api.operations")
pyinfras_run_host_op = pyinfra_operations._run_host_op


def run_host_op_grouped(state, host, op_hash: str) -> bool:
    """pyinfra's _run_host_op, the operation's commands read through the connector's grouped() where it has one."""
    grouped = getattr(host.connector, "grouped", None)
    op_data = state.get_op_data_for_host(host, op_hash)
    arguments = op_data.global_arguments
    if grouped is None or arguments.get("_retries") or arguments.get("_continue_on_error"):
        return pyinfras_run_host_op(state, host, op_hash)
    base = {key: arguments[key] for key in CONNECTOR_ARGUMENT_KEYS if key in arguments}
    generate = op_data.command_generator
    op_data.command_generator = lambda: grouped(generate(), lambda command: {**base, **command.connector_arguments},
                                                op_hash)
    try:
        return pyinfras_run_host_op(state, host, op_hash)
    finally:
        op_data.command_generator = generate


def install() -> None:
    pyinfra_operations._run_host_op = run_host_op_grouped
