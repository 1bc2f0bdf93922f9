"""Sandboxes for the tests: booted once per session, stopped at the end, reset when a test needs it.

"deployed" (the 2025 droplet) and "deployed_2026" (the droplet today) carry the dev environment;
the testinfra suite (tests/verify) checks the first in-process and each by its address; "scratch" is
reset to pristine (2025) by the tests that break, kill or rebuild things. Without --hosts, tests/verify
runs against the deployed sandbox; with --hosts, against that host, with the settings of --data.

The deployed sandboxes serve the real HACS app on v2 (--app: a directory or git URL of it; by default
the snapshot in ../shared/fixtures/hacs-v2); the 2026 one runs the real main as production
(../shared/fixtures/hacs-main). A fixture that is missing is a visible skip, and a failure under CI. The
scratch sandboxes serve the stand-in, which starts in milliseconds and is easy to break on purpose.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from batchssh.testinfra import batched, report_all
from sandbox import baseline, layouts, upstream
from sandbox.machine import Sandbox
from tasks.facts import ProductionReport
from tasks.production_view import learn, parse_report
from tests import harness, production
from tests.acme import Pebble
from tests.harness import with_layout
from tests.settings import from_arguments, load
from tests.vault import Vault

DEPLOYED = (os.environ.get("BASTION_TEST_SANDBOX", "bst-deployed"), os.environ.get("BASTION_TEST_SUBNET", "10.213.21.0/24"))
DEPLOYED_2026 = (os.environ.get("BASTION_TEST_2026", "bst-today"), os.environ.get("BASTION_TEST_2026_SUBNET", "10.213.28.0/24"))
SCRATCH = (os.environ.get("BASTION_TEST_SCRATCH", "bst-scratch"), os.environ.get("BASTION_TEST_SCRATCH_SUBNET", "10.213.22.0/24"))
# The scratch, blank and adoption sandboxes stand in for the diary's droplet, where those stories began.
OLD = "2025"


def needs_fixture(path) -> None:
    """A fixture of ../shared that is missing: a skip that says so, or a failure where CI expects it."""
    if path.is_dir():
        return
    message = f"{path} is missing: the real app cannot be served"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI expects it)")
    pytest.skip(message)


FIGURES: dict[str, str] = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "quiet: measures latency; `./bastion test` runs it alone, after the rest "
                                       "(tests/shards.py)")


def pytest_collection_finish(session):
    """Importing pyinfra_cli monkey-patches the process with gevent, whose subprocess.run differs from the
    standard library's (a whole CI session of sandbox tests once failed at their first nft call): refused in
    one line, before any test runs."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("subprocess"):
        pytest.exit("a test module imported pyinfra_cli, which patches this process with gevent: run pyinfra as a "
                    "command (tests/harness.py) or copy what you need from it", returncode=3)


def pytest_addoption(parser):
    parser.addoption("--app", default=None,
                     help="the HACS app the deployed sandbox serves on v2: a directory or git URL (default: "
                          "../shared/fixtures/hacs-v2/app when present), or 'standin'")
    parser.addoption("--data", action="append", default=[], metavar="KEY=VALUE",
                     help="a setting as the checked host was deployed with (pyinfra's --data), for tests/verify*")


@pytest.fixture(scope="session")
def figures():
    """Measured figures (times, counts) a test reports; printed at the end of the run."""
    return FIGURES


def pytest_terminal_summary(terminalreporter):
    if os.environ.get("BASTION_FIGURES"):  # the benchmark's copy (./bastion bench --only rebuild)
        Path(os.environ["BASTION_FIGURES"]).write_text(json.dumps(FIGURES))
    if FIGURES:
        terminalreporter.section("measured")
        for label, value in FIGURES.items():
            terminalreporter.write_line(f"{label}: {value}")


@pytest.fixture(scope="session")
def settings(request):
    """What the checked host is expected to be: with --hosts, the defaults and --data; else the deployed
    (2025) sandbox's, as the scratch sandboxes' too."""
    overrides = from_arguments(request.config.getoption("--data"))
    if request.config.option.hosts:
        return load(overrides)
    return load({**layouts.named(OLD).settings, **overrides})


def deployed(request, figures, name_and_subnet, layout: str):
    """A sandbox with the production baseline of a layout, then the dev environment deployed on it once."""
    app = upstream.chosen_app(request.config.getoption("--app"))
    if not request.config.getoption("--app") and not os.environ.get("BASTION_APP"):
        needs_fixture(upstream.SHARED_APP)
    if layout == "2026":
        needs_fixture(layouts.named(layout).main_app)
    sandbox = with_layout(baseline.up(Sandbox(*name_and_subnet, app=app, layout=layout)))
    branch = sandbox.settings.dev_branch
    figures[f"app the deployed sandbox serves ({layout}, on {branch})"] = (
        str(layouts.named(layout).main_app) if branch == "main" and layouts.named(layout).main_app
        else app or "the stand-in (sandbox/standin-app)")
    try:
        before = production.snapshot(harness.testinfra_host(sandbox), sandbox.settings)
        first = harness.deploy(sandbox)
        assert first.returncode == 0, first.output[-6000:]
        sandbox.first_run, sandbox.production_before = first, before
        yield sandbox
    finally:
        sandbox.down()


@pytest.fixture(scope="session")
def deployed_sandbox(request, figures):
    yield from deployed(request, figures, DEPLOYED, OLD)


@pytest.fixture(scope="session")
def deployed_2026(request, figures):
    yield from deployed(request, figures, DEPLOYED_2026, "2026")


@pytest.fixture(scope="session")
def scratch():
    sandbox = with_layout(Sandbox(*SCRATCH, layout=OLD))
    yield sandbox
    sandbox.down()


@pytest.fixture(scope="session")
def blank():
    """A second scratch sandbox without the production baseline: a brand-new droplet."""
    sandbox = with_layout(Sandbox(os.environ.get("BASTION_TEST_BLANK", "bst-blank"),
                                  os.environ.get("BASTION_TEST_BLANK_SUBNET", "10.213.26.0/24"), layout=OLD))
    yield sandbox
    sandbox.down()


@pytest.fixture(scope="session")
def vault():
    """The backup host: restic repositories over SFTP, off every droplet sandbox."""
    backup_host = Vault(os.environ.get("BASTION_TEST_VAULT", "bst-vault"),
                        os.environ.get("BASTION_TEST_VAULT_SUBNET", "10.213.31.0/24"))
    try:
        yield backup_host.up()
    finally:
        backup_host.down()


@pytest.fixture(scope="session")
def acme(vault):
    """The tests' ACME server (pebble) on the backup host's sandbox."""
    server = Pebble(vault).up()
    try:
        yield server
    finally:
        server.down()


@pytest.fixture
def pristine(scratch):
    """The scratch sandbox reset to the production baseline, before the dev environment exists."""
    return baseline.up(scratch)


@pytest.fixture(scope="module")
def host(request, _testinfra_host):
    """testinfra's host: the one named by --hosts, else the deployed sandbox; its commands answered from
    one batch (batchssh.testinfra), since the droplet is across the Internet."""
    if request.config.option.hosts:
        return batched(_testinfra_host)
    return batched(harness.testinfra_host(request.getfixturevalue("deployed_sandbox")))


@pytest.fixture(scope="module")
def production_on_host(host, settings):
    """Production as the host shows it, read the way a deploy reads it (tasks/facts.py, ProductionReport)."""
    command = ProductionReport().command(settings.production_unit, settings.production_port, settings.production_checkout)
    return learn(settings, parse_report(host.check_output(command).splitlines()))


def pytest_sessionfinish(session):
    report_all()
