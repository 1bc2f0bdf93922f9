"""The sandbox's upstream: a bare git repository with branches main and v2.

The first commit is the stand-in at 1.0.0. v2 is one commit ahead of it: the stand-in at 2.0.0, or the
real HACS app when an app is named (a directory, such as the snapshot in ../shared/fixtures/hacs-v2/app,
or a git URL whose v2 branch is taken). main is the first commit (the 2025 droplet's production code),
or, with a main app (the 2026 droplet: ../shared/fixtures/hacs-main/app), that app one commit ahead of
v2, as upstream merged v2 into main. Commits are made with fixed authors and dates, so every build yields
the same SHAs and a cached baseline layer (whose production checkout came from main) stays consistent
with a fresh upstream.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

APP = Path(__file__).parent / "standin-app"
# The snapshot of the real app's v2 that this project's machines carry beside the checkout.
SHARED_APP = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "hacs-v2" / "app"


def chosen_app(named: str | None = None) -> str | None:
    """The app v2 holds: what is named (BASTION_APP or --app), "standin" for the stand-in, else the
    real app's snapshot when this machine has it."""
    named = named or os.environ.get("BASTION_APP")
    if named == "standin":
        return None
    if named:
        return named
    return str(SHARED_APP) if SHARED_APP.is_dir() else None
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


def _app_tree(app: str, into: Path):
    """The app's files (no .git) laid into a directory."""
    if Path(app).is_dir():
        shutil.copytree(app, into, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git", "node_modules"))
    else:
        _git(into.parent, "clone", "-q", "--depth", "1", "--branch", "v2", app, str(into / ".clone"))
        shutil.copytree(into / ".clone", into, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
        shutil.rmtree(into / ".clone")
    for path in [into, *into.rglob("*")]:  # a snapshot may be read-only; the tree is ours to commit
        path.chmod(path.stat().st_mode | 0o200)


def build(bare: Path, app: str | None = None, main_app: str | None = None):
    """(Re)create the bare repository: v2 (the app) one commit ahead of the first, main the first commit
    or main_app one commit ahead of v2."""
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
        if app:
            _git(tree, "rm", "-q", "-r", ".")
            _app_tree(app, tree)
            # --force: the app's .gitignore lists package-lock.json, which upstream tracks all the same.
            _git(tree, "add", "-A", "--force")
            _git(tree, "commit", "-q", "-m", "V2: the HACS app", date="2025-12-10T12:00:00Z")
        else:
            _write_package(tree, "2.0.0")
            _git(tree, "commit", "-q", "-am", "V2: begin 2.0.0", date="2025-11-10T06:00:00Z")
        if main_app:
            _git(tree, "checkout", "-q", "-B", "main")
            _git(tree, "rm", "-q", "-r", ".")
            _app_tree(main_app, tree)
            _git(tree, "add", "-A", "--force")
            _git(tree, "commit", "-q", "-m", "main: v2 merged, the app as the team runs it", date="2026-08-20T12:00:00Z")
            _git(tree, "checkout", "-q", "v2")
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


def create_branch(bare: Path, branch: str, start: str) -> str:
    """A new branch at start's commit, as `git push origin start:branch` makes it; its commit."""
    _git(bare, "branch", branch, start)
    return head(bare, branch)


def delete_branch(bare: Path, branch: str):
    """The branch gone, as `git push origin --delete branch` does."""
    _git(bare, "branch", "-D", branch)


def branches(bare: Path) -> list[str]:
    return _git(bare, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()
