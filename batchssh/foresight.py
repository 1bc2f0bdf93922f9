"""Foresight: the operations after a group, run ahead on this machine to ride in the same request as a chain.

An operation's commands depend only on the facts it reads (and on this machine's files and settings, which do not
change during a run), so its command generator can be run before pyinfra executes it, each fact answered with
its last reading: BatchedSSHConnector._run_planned sends what it made as a link of a chain, with the digest of
each reading it was made from, and the host runs the link only if its facts read so there (pipe.py). What cannot
be foreseen ends the chain (docs/round-trips.md). These methods are the connector's (a mixin): they read its
last readings (_latest), the facts recorded per operation (_operation_facts) and its planned commands.
"""
from __future__ import annotations

from pyinfra import logger
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS
from pyinfra.connectors.util import CommandOutput, OutputLine

from batchssh import pipe

# How many operations one chain runs ahead at most (a bound on one request's size, not on correctness).
CHAIN_LIMIT = 64


class Unforeseeable(Exception):
    """An operation read ahead asked what cannot be answered before it runs (pyinfra's fact loader lets it through)."""


def _output(raw: tuple[int, bytes, bytes]) -> CommandOutput:
    _, out, err = raw
    return CommandOutput(_lines(out, "stdout") + _lines(err, "stderr"))


def _lines(raw: bytes, buffer: str) -> list[OutputLine]:
    """As pyinfra reads a channel: text lines without their newline."""
    text = raw.decode("utf-8", errors="replace")
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [OutputLine(buffer, part) for part in parts]


class Foresight:
    """The connector's foresight of the operations after the one it runs (see the module's docstring)."""

    def _foreseen_links(self) -> list[tuple[str, list, list, list]]:
        """The operations after this one, up to the first that cannot be foreseen: each with the facts to read before
        it ([command, expected reading or None, loose]), its items, and its group (its items, with the facts it
        reads after its first commands where it reads them: ["fact", command, expected reading])."""
        order = self.host.op_hash_order
        current = self._grouping or self.host.current_op_hash
        if current not in order:
            return []
        links, done = [], [(current, [entry[:3] for entry in self._planned])]
        for operation in order[order.index(current) + 1:][:CHAIN_LIMIT]:
            foreseen = self._foresee(operation, done)
            if foreseen is None:
                break
            facts, items, loose, mid = foreseen
            asked = dict(facts) | {command: raw for _, command, raw in mid}
            recorded = [(command, None, False) for command in self._facts_of(operation) if command not in asked]
            group = [entry for at, item in enumerate([*items, None]) for entry in
                     [["fact", command, raw] for position, command, raw in mid if position == at] +
                     ([["item", item]] if item is not None else [])]
            links.append((operation, [(command, raw, command in loose) for command, raw in facts] + recorded, items, group))
            done.append((operation, items))
        return links

    def _foresee(self, operation: str, done: list[tuple[str, list]]) -> tuple[list, list] | None:
        """The operation's facts and items, with each fact answered by its last reading: its command generator run
        ahead, as pyinfra will run it. Its condition (`_if`, e.g. a reload when a file changed) sees the operations
        before it in the chain as pyinfra will when it runs: done, and changed if they have commands. None when it
        cannot be: a fact never read, one read both before and after a command, a command that runs on its own, an
        operation with retries or continue_on_error, a condition that asks more of an operation ahead than that, or
        any error. A fact read after its first commands (systemd.service: whether a unit is enabled, after starting
        it) is foreseen where it is read: the host reads it there, between the commands."""
        op_data = self.state.get_op_data_for_host(self.host, operation)
        arguments = op_data.global_arguments
        known = self._foreseen.get(operation)
        if known is not None and not arguments.get("_if") and \
                all(self._latest.get(command) == raw for command, raw in [*known[0], *[m[1:] for m in known[3]]]):
            return known
        if any(arguments.get(key) for key in ("_retries", "_continue_on_error")):
            return None
        foreseeing = self._generated(operation, done)
        if foreseeing is None or foreseeing["unknown"] or foreseeing["items"] is None:
            return None
        facts, items = foreseeing["facts"], foreseeing["items"]
        self._foreseen[operation] = (facts, items, self._loose(operation, done, facts, items), foreseeing["mid"])
        return self._foreseen[operation]

    def _loose(self, operation: str, done, facts: list, items: list) -> frozenset[str]:
        """The facts whose stat lines' times and size the operation's commands do not depend on: its commands are the
        same with them all set to 0 and to the far future (a parent directory a file was just written into reads
        otherwise, and the operation only asks whether it is there)."""
        stats = [command for command, (_, out, _) in facts if pipe.loosened(out) != out]
        for value in (b"0", b"9999999999"):
            if not stats:
                break
            changed = {command: (raw[0], pipe.loosened(raw[1], value), raw[2]) for command, raw in facts if command in stats}
            foreseeing = self._generated(operation, done, readings=changed)
            if foreseeing is None or foreseeing["unknown"] or foreseeing["items"] != items:
                return frozenset()
        return frozenset(stats)

    def _facts_of(self, operation: str, discover: bool = True) -> list[str]:
        """The fact commands the operation reads: as in earlier runs, or else as it asks them when its command
        generator runs ahead with each fact never read answered by its default (what it reads where nothing of it
        is there yet), its condition not asked, its commands not kept."""
        recorded = self._operation_facts.get(operation)
        if recorded is not None:
            return recorded
        if operation not in self._discovered:
            if not discover:
                return []
            foreseeing = self._generated(operation, [], discovering=True)
            self._discovered[operation] = [] if foreseeing is None else \
                [command for command, _ in foreseeing["facts"]] + [command for _, command, _ in foreseeing["mid"]] + \
                foreseeing["unknown"]
        return self._discovered[operation]

    def _never_read(self, after: str | None, tail: list[str]) -> list[str]:
        order = self.host.op_hash_order
        remaining = order[order.index(after):] if after in order else []
        return list(dict.fromkeys(command for operation in remaining for command in self._facts_of(operation)
                                  if command not in self._latest and command not in tail))

    def _generated(self, operation: str, done: list[tuple[str, list]], discovering: bool = False,
                   readings: dict | None = None) -> dict | None:
        """The operation's command generator run ahead, each fact it asks answered by its last reading (pyinfra's log
        quiet meanwhile, the host's current operation and the operations in `done` put back as they were): the facts
        ([command, reading]) and items it made, and the facts it asked that were never read; None on any error."""
        op_data = self.state.get_op_data_for_host(self.host, operation)
        arguments = op_data.global_arguments
        base = {key: arguments[key] for key in CONNECTOR_ARGUMENT_KEYS if key in arguments}
        host, state = self.host, self.state
        current = (host.in_op, host.current_op_hash, host.current_op_global_arguments, host.current_op_deploy_data)
        self._foreseeing = foreseeing = {"facts": [], "mid": [], "items": [], "unknown": [], "discovering": discovering,
                                         "readings": readings or {}}
        executing, state.is_executing = state.is_executing, state.is_executing and not discovering  # no condition
        metas = [state.get_op_data_for_host(host, ahead).operation_meta for ahead, _ in done]
        for meta, (_, ahead_items) in zip(metas, done, strict=True):
            meta._success, meta._commands = True, ahead_items
        commands = op_data.command_generator()
        quiet, logger.disabled = logger.disabled, True
        # A fact that fails to load fails the host in pyinfra: run ahead, that is not the host's state, only a reason
        # not to foresee the operation.
        failed, active = set(state.failed_hosts), set(state.active_hosts)
        try:
            for command in commands:
                item = self._item(command, {**base, **command.connector_arguments})
                if item is None and not discovering:
                    return None
                foreseeing["items"].append(item)
        except Exception:  # an operation may raise on facts that change before it runs: it is not foreseen
            return None if not discovering else foreseeing
        finally:
            commands.close()
            for meta in metas:
                del meta._success, meta._commands  # not complete: pyinfra completes it when it runs
            logger.disabled = quiet
            state.is_executing = executing
            if state.failed_hosts != failed:
                state.failed_hosts.intersection_update(failed)
                state.active_hosts.update(active)
                foreseeing["items"] = None
            self._foreseeing = None
            host.in_op, host.current_op_hash, host.current_op_global_arguments, host.current_op_deploy_data = current
        return foreseeing

    def _foreseen_fact(self, actual: str | None, arguments):
        """A fact asked by an operation run ahead: its last reading, noted where the operation read it (before its
        commands, or after the first ones). One never read, or with sudo, or read both before and after a command,
        cannot be foreseen (Unforeseeable, noted even if the operation catches it); while discovering, it answers
        with nothing (the fact's default: nothing there yet), and is noted."""
        foreseeing = self._foreseeing
        after = bool(foreseeing["items"]) and not foreseeing["discovering"]
        read = {command for command, _ in foreseeing["facts"]} | {command for _, command, _ in foreseeing["mid"]}
        usable = actual is not None and not self._sudo_asked(arguments) and not (after and actual in read)
        raw = (foreseeing["readings"].get(actual) or self._latest.get(actual)) if usable else None
        if raw is None:
            if actual is not None:
                foreseeing["unknown"].append(actual)
            if foreseeing["discovering"]:
                return True, CommandOutput([])  # no output: the fact's default (a failed one would fail the host)
            raise Unforeseeable(actual)
        if after:
            foreseeing["mid"].append((len(foreseeing["items"]), actual, raw))
        else:
            foreseeing["facts"].append((actual, raw))
        codes = arguments.get("_success_exit_codes")
        return (raw[0] in codes if codes else raw[0] == 0), _output(raw)
