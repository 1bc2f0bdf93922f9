"""Sandboxes for the tests: booted once per session, stopped at the end, reset when a test needs it.

Two at once: "deployed" carries the dev environment that the testinfra suite (tests/verify)
checks; "scratch" is reset to pristine by the tests that break, kill or rebuild things.
Without --hosts, tests/verify runs against the deployed sandbox; with --hosts, against that host.

The deployed sandbox serves the real HACS app (--app: a directory or git URL of it; by default the
snapshot in ../shared/fixtures/hacs-v2 when this machine has it, else the stand-in). The scratch
sandboxes serve the stand-in, which starts in milliseconds and is easy to break on purpose.
"""
from __future__ import annotations

import os

import pytest

from batchssh.testinfra import batched, report_all
from sandbox import baseline, upstream
from sandbox.machine import Sandbox
from tests import harness, production
from tests.settings import load
from tests.vault import Vault

DEPLOYED = (os.environ.get("BASTION_TEST_SANDBOX", "bst-deployed"), os.environ.get("BASTION_TEST_SUBNET", "10.213.21.0/24"))
SCRATCH = (os.environ.get("BASTION_TEST_SCRATCH", "bst-scratch"), os.environ.get("BASTION_TEST_SCRATCH_SUBNET", "10.213.22.0/24"))


FIGURES: dict[str, str] = {}


def pytest_addoption(parser):
    parser.addoption("--app", default=None,
                     help="the HACS app the deployed sandbox serves on v2: a directory or git URL (default: "
                          "../shared/fixtures/hacs-v2/app when present), or 'standin'")


@pytest.fixture(scope="session")
def figures():
    """Measured figures (times, counts) a test reports; printed at the end of the run."""
    return FIGURES


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("measured")
        for label, value in FIGURES.items():
            terminalreporter.write_line(f"{label}: {value}")


@pytest.fixture(scope="session")
def settings():
    return load()


@pytest.fixture(scope="session")
def deployed_sandbox(request, figures):
    """A sandbox with the production baseline, then the dev environment deployed on it once."""
    app = upstream.chosen_app(request.config.getoption("--app"))
    figures["app the deployed sandbox serves"] = app or "the stand-in (sandbox/standin-app)"
    sandbox = baseline.up(Sandbox(*DEPLOYED, app=app))
    try:
        before = production.snapshot(harness.testinfra_host(sandbox))
        first = harness.deploy(sandbox)
        assert first.returncode == 0, first.output[-6000:]
        sandbox.first_run, sandbox.production_before = first, before
        yield sandbox
    finally:
        sandbox.down()


@pytest.fixture(scope="session")
def scratch():
    sandbox = Sandbox(*SCRATCH)
    yield sandbox
    sandbox.down()


@pytest.fixture(scope="session")
def blank():
    """A second scratch sandbox without the production baseline: a brand-new droplet."""
    sandbox = Sandbox(os.environ.get("BASTION_TEST_BLANK", "bst-blank"),
                      os.environ.get("BASTION_TEST_BLANK_SUBNET", "10.213.26.0/24"))
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


def pytest_sessionfinish(session):
    report_all()
