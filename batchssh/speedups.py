"""Three of pyinfra's own costs per operation, which a no-op deploy.py (112 operations) paid in local CPU, made
once, each held equal to pyinfra's by tests/unit/test_batchssh.py; `install()` puts them in place.

- The order of operations: pyinfra reads the line numbers of the deploy code that called each operation from
  inspect.stack(), which reads every frame's source line from disk to build its context (~2,200 frames, most
  of a second). The same numbers from the frames themselves: their file once per code object, their line by
  the position of the current instruction, as inspect.getframeinfo has it. Upstream, the same change in
  pyinfra.api.util.get_operation_order_from_stack: walk sys._getframe() instead of inspect.stack().
- The global arguments' names and types: typing.get_type_hints(AllArguments) evaluated again for every
  operation and fact (~460 times, 0.4 s); a TypedDict's hints do not change. Upstream: functools.cache on
  pyinfra.api.arguments.all_global_arguments.
- The templates: files.template compiles each template (and the partials it includes) from its source on every
  run (81 compiles, 0.25 s of a no-op). Compiled once and kept on this machine by jinja2's own bytecode cache,
  keyed by the source, as a loader's templates are. Upstream: a `bytecode_cache` in get_template's Environment
  and its from_string through a bucket of it (pyinfra.api.util.get_template).
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import itertools
import os
import sys
from pathlib import Path

import pyinfra
from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined

# By their modules' names: pyinfra.api's own `operation` (the decorator) hides the module of that name.
pyinfra_operation = importlib.import_module("pyinfra.api.operation")
pyinfra_util = importlib.import_module("pyinfra.api.util")
pyinfra_arguments = importlib.import_module("pyinfra.api.arguments")
pyinfra_facts = importlib.import_module("pyinfra.api.facts")
pyinfra_files = importlib.import_module("pyinfra.operations.files")

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


pyinfras_get_template = pyinfra_util.get_template
_bytecode_caches: dict[str, FileSystemBytecodeCache] = {}


def cache_dir(name: str) -> Path:
    """bastion's cache of NAME on the operator's machine (XDG's cache home as the run's environment names it)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bastion" / name


def _bytecode_cache() -> FileSystemBytecodeCache:
    directory = cache_dir("jinja")
    if str(directory) not in _bytecode_caches:
        directory.mkdir(parents=True, exist_ok=True)
        _bytecode_caches[str(directory)] = FileSystemBytecodeCache(str(directory))
    return _bytecode_caches[str(directory)]


def template_compiled_once(filename_or_io, jinja_env_kwargs=None):
    """pyinfra's get_template (the same Environment, the same per-run cache), its compiled code and its includes'
    from jinja2's bytecode cache on this machine: compiled again only when the source (or jinja2, or Python)
    changed."""
    jinja_env_kwargs = dict(jinja_env_kwargs or {})
    file_data = pyinfra_util.get_file_io(filename_or_io, mode="r")
    if file_data.cache_key and file_data.cache_key in pyinfra_util.TEMPLATES:
        return pyinfra_util.TEMPLATES[file_data.cache_key]
    with file_data as file_io:
        source = file_io.read()
    loader = jinja_env_kwargs.pop("loader", None) or FileSystemLoader(os.getcwd())
    cache = jinja_env_kwargs.pop("bytecode_cache", None) or _bytecode_cache()
    environment = Environment(undefined=StrictUndefined, keep_trailing_newline=True, loader=loader,
                              bytecode_cache=cache, **jinja_env_kwargs)
    # The options shape the code as much as the source does.
    options = repr(sorted((key, repr(value)) for key, value in jinja_env_kwargs.items()))
    bucket = cache.get_bucket(environment, "from_string:" + hashlib.sha256((options + source).encode()).hexdigest(),
                              None, source)
    if bucket.code is None:
        bucket.code = environment.compile(source)
        cache.set_bucket(bucket)
    template = environment.template_class.from_code(environment, bucket.code, environment.make_globals(None), None)
    if file_data.cache_key:
        pyinfra_util.TEMPLATES[file_data.cache_key] = template
    return template


def install() -> None:
    pyinfra_operation.get_operation_order_from_stack = operation_order_from_frames
    pyinfra_arguments.all_global_arguments = global_arguments_once
    pyinfra_facts.all_global_arguments = global_arguments_once
    pyinfra_util.get_template = pyinfra_files.get_template = template_compiled_once
