"""The stand-in upstream: a bare git repository with branches main and v2 of the stand-in app.

Commits are made with fixed authors and dates, so every build yields the same SHAs and a cached
baseline layer (whose production checkout came from here) stays consistent with a fresh upstream.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

APP = Path(__file__).parent / "standin-app"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Stand-in Upstream", "GIT_AUTHOR_EMAIL": "upstream@sandbox.invalid",
    "GIT_COMMITTER_NAME": "Stand-in Upstream", "GIT_COMMITTER_EMAIL": "upstream@sandbox.invalid",
}


def _git(cwd, *args, date: str | None = None) -> str:
    env = dict(os.environ, **IDENTITY, GIT_CONFIG_NOSYSTEM="1", HOME=str(cwd))
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def _write_package(tree: Path, version: str):
    package = {"name": "hacs-standin", "version": version, "type": "module",
               "main": "src/streamable-http-server.js", "engines": {"node": ">=18"},
               "dependencies": {}}
    lock = {"name": "hacs-standin", "version": version, "lockfileVersion": 3, "requires": True,
            "packages": {"": {k: package[k] for k in ("name", "version", "engines")}}}
    (tree / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    (tree / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")


def build(bare: Path):
    """(Re)create the bare repository: main is production's code, v2 one commit ahead."""
    if bare.exists():
        shutil.rmtree(bare)
    bare.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        shutil.copytree(APP, tree, dirs_exist_ok=True)
        _git(tree, "init", "-q", "-b", "main")
        _write_package(tree, "1.0.0")
        _git(tree, "add", "-A")
        _git(tree, "commit", "-q", "-m", "Production: coordination server 1.0", date="2025-10-01T12:00:00Z")
        _git(tree, "checkout", "-q", "-b", "v2")
        _write_package(tree, "2.0.0")
        _git(tree, "commit", "-q", "-am", "V2: begin 2.0.0", date="2025-11-10T06:00:00Z")
        _git(tree, "clone", "-q", "--bare", str(tree), str(bare))
    _git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    (bare / "git-daemon-export-ok").touch()


def head(bare: Path, branch: str) -> str:
    return _git(bare, "rev-parse", f"refs/heads/{branch}")


def push_commit(bare: Path, branch: str, files: dict[str, str], message: str) -> str:
    """Commit files on top of branch and push it, as a team member would; returns the new SHA."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "work"
        _git(Path(tmp), "clone", "-q", "--branch", branch, str(bare), str(tree))
        for rel, text in files.items():
            (tree / rel).parent.mkdir(parents=True, exist_ok=True)
            (tree / rel).write_text(text)
        _git(tree, "add", "-A")
        _git(tree, "commit", "-q", "-m", message)
        _git(tree, "push", "-q", "origin", branch)
        return _git(tree, "rev-parse", "HEAD")


def read_file(bare: Path, branch: str, rel: str) -> str:
    return _git(bare, "show", f"refs/heads/{branch}:{rel}")
