"""Secrets that live on the operator's machine (the repository password, the webhook's secret, keys):
made there when neither side has one, copied root-only to the host, never printed."""
import hashlib
import os
import secrets
from pathlib import Path

from pyinfra import host
from pyinfra.api import FileUploadCommand, StringCommand, operation
from pyinfra.facts.files import Sha256File

from tasks import REPO


def local_file(setting: str) -> Path | None:
    """A file on the operator's machine that a setting names (relative to the project)."""
    value = getattr(host.data, setting)
    return (REPO / value) if value else None


def made_here(setting: str) -> Path:
    """The operator's copy of a secret a setting names, made (0600, random) when there is none yet."""
    local = local_file(setting)
    if not local.exists():
        local.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Whole before it is visible, and the first of two runs side by side wins: the other takes it.
        draft = local.with_name(f".{local.name}.{os.getpid()}")
        draft.touch(mode=0o600)
        draft.write_text(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(draft, local)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return local


@operation()
def secret_copy(src: str, dest: str, replace: bool = True):
    """A secret from the operator's machine, root-only on the host. Unlike files.put it never prints
    the content (--diff would). replace=False keeps a different one on the host (the password that
    opens the repository: preflight stops a run whose copy differs)."""
    there = host.get_fact(Sha256File, path=dest)
    if there and (there == hashlib.sha256(Path(src).read_bytes()).hexdigest() or not replace):
        host.noop(f"{dest} is there")
        return
    # The upload lands inside the root-only directory, never in a world-readable /tmp.
    yield FileUploadCommand(src, dest, remote_temp_filename=f"{dest}.uploading")
    yield StringCommand("chown", "root:root", dest)
    yield StringCommand("chmod", "600", dest)
