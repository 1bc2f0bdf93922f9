"""Two of pyinfra's own costs per operation, which a no-op deploy.py (112 operations) paid in local CPU, made
once, each held equal to pyinfra's by tests/unit/test_batchssh.py; `install()` puts them in place.

- The order of operations: pyinfra reads the line numbers of the deploy code that called each operation from
  inspect.stack(), which reads every frame's source line from disk to build its context (~2,200 frames, most
  of a second). The same numbers from the frames themselves: their file once per code object, their line by
  the position of the current instruction, as inspect.getframeinfo has it. Upstream, the same change in
  pyinfra.api.util.get_operation_order_from_stack: walk sys._getframe() instead of inspect.stack().
- The global arguments' names and types: typing.get_type_hints(AllArguments) evaluated again for every
  operation and fact (~460 times, 0.4 s); a TypedDict's hints do not change. Upstream: functools.cache on
  pyinfra.api.arguments.all_global_arguments.
"""
from __future__ import annotations

import importlib
import inspect
import itertools
import sys

import pyinfra

# By their modules' names: pyinfra.api's own `operation` (the decorator) hides the module of that name.
pyinfra_operation = importlib.import_module("pyinfra.api.operation")
pyinfra_util = importlib.import_module("pyinfra.api.util")
pyinfra_arguments = importlib.import_module("pyinfra.api.arguments")
pyinfra_facts = importlib.import_module("pyinfra.api.facts")

_filenames: dict = {}


def _filename(code) -> str:
    name = _filenames.get(code)
    if name is None:
        name = _filenames[code] = inspect.getsourcefile(code) or inspect.getfile(code)
    return name


def _lineno(frame) -> int:
    if frame.f_lasti >= 0:
        start = next(itertools.islice(frame.f_code.co_positions(), frame.f_lasti // 2, None))[0]
        if start is not None:
            return start
    return frame.f_lineno


def operation_order_from_frames(state, frame=None) -> list[int]:
    """pyinfra's get_operation_order_from_stack, for the stack below `frame` (default: the caller's)."""
    frames = []
    frame = frame or sys._getframe(1)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()
    start = 0
    if state.current_deploy_filename:  # not on the stack: none (pyinfra's loop ends on its own frame, skipped)
        start = next((at for at, each in enumerate(frames) if _filename(each.f_code) == state.current_deploy_filename),
                     len(frames))
    numbers = [state.current_op_file_number] if pyinfra.is_cli else []
    numbers += [_lineno(each) for each in frames[start:]
                if not _filename(each.f_code).startswith(pyinfra_util.PYINFRA_INSTALL_DIR)]
    return numbers


pyinfras_global_arguments = pyinfra_arguments.all_global_arguments
_global_arguments: list = []


def global_arguments_once() -> list:
    """pyinfra's all_global_arguments(), evaluated once (a new list each call, as pyinfra's is)."""
    if not _global_arguments:
        _global_arguments.extend(pyinfras_global_arguments())
    return list(_global_arguments)


def install() -> None:
    pyinfra_operation.get_operation_order_from_stack = operation_order_from_frames
    pyinfra_arguments.all_global_arguments = global_arguments_once
    pyinfra_facts.all_global_arguments = global_arguments_once
