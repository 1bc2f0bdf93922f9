"""Which scripts the contained install runs, and in which order: the dependencies' (npm rebuild), then the
project's own in npm ci's order (files/usr/local/sbin/hacs-dev-install-scripts)."""
import importlib.machinery
import importlib.util
import json
import os
import stat

from tasks import REPO

loader = importlib.machinery.SourceFileLoader("install_scripts", str(REPO / "files/usr/local/sbin/hacs-dev-install-scripts"))
spec = importlib.util.spec_from_loader("install_scripts", loader)
scripts = importlib.util.module_from_spec(spec)
loader.exec_module(scripts)


def test_npm_cis_order_and_only_what_the_project_names():
    package = {"scripts": {"prepare": "x", "start": "node s.js", "postinstall": "y", "preinstall": "z", "test": "t"}}
    assert scripts.present(package) == ["preinstall", "postinstall", "prepare"]


def test_the_real_apps_run_their_prepare():
    for app in ("hacs-main", "hacs-v2"):
        path = REPO.parent / "shared" / "fixtures" / app / "app" / "package.json"
        if path.is_file():
            assert scripts.present(json.loads(path.read_text())) == ["prepare"], app


def test_a_package_json_of_any_shape_runs_nothing_it_does_not_name():
    for package in ([], "x", {"scripts": []}, {"scripts": {"install": 3, "prepare": " "}}, {}):
        assert scripts.present(package) == []


def test_each_script_once_and_the_first_failure_is_the_exit(tmp_path, monkeypatch):
    """npm stands in as a recorder: each event asked for once, without npm's own pre/post runs, and a failing
    one stops the rest with its status."""
    record = tmp_path / "ran"
    npm = tmp_path / "bin" / "npm"
    npm.parent.mkdir()
    npm.write_text(f'#!/bin/sh\necho "$*" >> {record}\n[ "$4" != prepare ]\n')
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"postinstall": "a", "prepare": "b",
                                                                   "postprepare": "c"}}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{npm.parent}{os.pathsep}{os.environ['PATH']}")
    assert scripts.main() == 1
    assert record.read_text().splitlines() == [" ".join(scripts.REBUILD[1:]),
                                               "run --ignore-scripts --offline postinstall",
                                               "run --ignore-scripts --offline prepare"]


def test_a_failed_rebuild_runs_none_of_the_projects_scripts(tmp_path, monkeypatch):
    record = tmp_path / "ran"
    npm = tmp_path / "bin" / "npm"
    npm.parent.mkdir()
    npm.write_text(f'#!/bin/sh\necho "$1" >> {record}\n[ "$1" != rebuild ] || exit 7\n')
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"postinstall": "a"}}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{npm.parent}{os.pathsep}{os.environ['PATH']}")
    assert scripts.main() == 7
    assert record.read_text().splitlines() == ["rebuild"]
