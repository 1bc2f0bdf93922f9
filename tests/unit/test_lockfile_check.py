"""Which lockfiles the fetch (the one install step with the host's network) takes: registry tarballs with
their integrity only (files/usr/local/sbin/hacs-dev-lockfile-check)."""
import importlib.machinery
import importlib.util
import json

import pytest

from tasks import REPO

REGISTRY = "https://registry.npmjs.org/"
loader = importlib.machinery.SourceFileLoader("lockfile_check", str(REPO / "files/usr/local/sbin/hacs-dev-lockfile-check"))
spec = importlib.util.spec_from_loader("lockfile_check", loader)
check = importlib.util.module_from_spec(spec)
loader.exec_module(check)


def lock(**package) -> dict:
    good = {"resolved": f"{REGISTRY}a/-/a-1.0.0.tgz", "integrity": "sha512-x"}
    return {"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/a": {**good, **package}}}


def test_the_real_apps_lockfiles_are_taken():
    for app in ("hacs-main", "hacs-v2"):
        path = REPO.parent / "shared" / "fixtures" / app / "app" / "package-lock.json"
        if path.is_file():
            assert check.problem(json.loads(path.read_text()), REGISTRY) is None, app


@pytest.mark.parametrize("package, why", [
    ({"resolved": "http://127.0.0.1:21000/a.tgz"}, "node_modules/a resolves to 'http://127.0.0.1:21000/a.tgz'"),
    ({"resolved": "git+ssh://git@github.com/x/a.git#abc"}, "resolves to 'git+ssh://"),
    ({"resolved": "file:../../mnt/coordinaton_mcp_data"}, "resolves to 'file:"),
    ({"resolved": f"{REGISTRY}../../evil.tgz"}, "only tarballs of"),
    ({"resolved": None}, "resolves to None"),
    ({"link": True, "resolved": "../x"}, "node_modules/a is a link to ../x"),
    ({"integrity": None}, "node_modules/a has no sha512 integrity"),
    ({"integrity": "sha1-abc"}, "has no sha512 integrity"),
])
def test_anything_but_a_registry_tarball_with_its_integrity_is_refused_in_one_line(package, why):
    found = check.problem(lock(**package), REGISTRY)
    assert found is not None and why in found and "\n" not in found, found


def test_an_old_lockfile_is_refused_and_a_bundled_package_taken():
    assert "lockfileVersion 2 or 3" in check.problem({"lockfileVersion": 1, "dependencies": {}}, REGISTRY)
    assert check.problem(lock(resolved=None, integrity=None, inBundle=True), REGISTRY) is None
