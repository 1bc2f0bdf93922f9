"""The production baseline: the sandbox made to look like one of the droplets (sandbox/layouts.py)
before dev exists.

Laid by a pyinfra fixture deploy (sandbox/baseline/deploy.py), then kept as a cached overlay layer
so later boots start from it in seconds. The layer's name hashes everything that shapes it: the
fixture, the stand-in, the upstream's recipe, the layout and the app main holds there.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sandbox import layouts, rootfs
from sandbox.host import machine_lock
from sandbox.machine import Sandbox

REPO = Path(__file__).resolve().parent.parent
SOURCES = [REPO / "sandbox/baseline", REPO / "sandbox/standin-app", REPO / "sandbox/upstream.py",
           REPO / "sandbox/layouts.py"]


def layer_path(layout: str) -> Path:
    digest = hashlib.sha256(f"{rootfs.RECIPE}\0{layout}".encode())
    main_app = layouts.named(layout).main_app
    for source in [*SOURCES, *([main_app] if main_app and main_app.is_dir() else [])]:
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for f in files:
            if "__pycache__" in f.parts:
                continue
            digest.update(str(f.relative_to(source.parent)).encode() + b"\0" + f.read_bytes())
    return rootfs.CACHE / "layers" / f"baseline-{layout}-{digest.hexdigest()[:16]}"


def pyinfra(sandbox: Sandbox, deploy: str, *args: str, check=True) -> subprocess.CompletedProcess:
    """Run a deploy file against the sandbox with the project's own inventory, as a user would."""
    env = dict(os.environ, BASTION_TARGET="sandbox", BASTION_SANDBOX=sandbox.name)
    argv = [str(Path(sys.executable).parent / "pyinfra"), "-y", "inventory.py", deploy, *args]
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:])} failed (exit {done.returncode}):\n"
                         f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def ensure_layer(sandbox: Sandbox) -> Path:
    layer = layer_path(sandbox.layout)
    if layer.exists():
        return layer
    with machine_lock():
        return layer if layer.exists() else _lay(sandbox, layer)


def _lay(sandbox: Sandbox, layer: Path) -> Path:
    started = time.monotonic()
    print(f"laying the {sandbox.layout} production baseline on {sandbox.name} (cached as {layer.name})", flush=True)
    sandbox.up()
    pyinfra(sandbox, "sandbox/baseline/deploy.py", "--data", f"layout={sandbox.layout}")
    sandbox.stop()
    layer.parent.mkdir(parents=True, exist_ok=True)
    partial = layer.with_name(layer.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    (sandbox.state / "upper").rename(partial)
    partial.rename(layer)
    sandbox.down(quiet=True)
    print(f"production baseline laid in {time.monotonic() - started:.1f} s", flush=True)
    return layer


def up(sandbox: Sandbox) -> Sandbox:
    """A pristine sandbox with the production baseline, once its production listens: at each start it makes
    what it lacks in its checkout (data/, certs/: the stand-in, as the real app), and a test that marks the
    time to see what changed must not see production's own start (a full run under load did)."""
    sandbox.up([ensure_layer(sandbox)])
    own_upstream(sandbox)
    sandbox.ssh("for i in $(seq 300); do ss -Htln 'sport = :3444' | grep -q . && exit 0; sleep 0.2; done; "
                "echo 'production never listened on 3444' >&2; exit 1")
    return sandbox


def own_upstream(sandbox: Sandbox):
    """The layer's checkouts name the upstream of the sandbox that laid it (git://ITS-HOST-ADDRESS/hacs.git), as
    the droplet's name GitHub: each is pointed at this sandbox's own, as its owner. Another sandbox's address
    may be no host's, and a git fetch there waits on a connection nobody answers."""
    sandbox.ssh(
        "for config in $(find /mnt /srv /root -maxdepth 4 -path '*/.git/config' 2>/dev/null); do "
        "  tree=${config%/.git/config}; "
        "  url=$(git -c safe.directory='*' -C \"$tree\" config --get remote.origin.url) || continue; "
        "  case $url in git://*/hacs.git) ;; *) continue ;; esac; "
        "  setpriv --reuid=\"$(stat -c %u \"$tree\")\" --regid=\"$(stat -c %g \"$tree\")\" --clear-groups "
        f"    git -c safe.directory='*' -C \"$tree\" remote set-url origin {sandbox.upstream_url}; "
        "done")
