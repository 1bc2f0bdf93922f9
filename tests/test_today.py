"""The droplet as it is today (2026): production learnt from the host, its real data backed up, its
leftovers left alone and taken off the droplet once, the read-only check that knows it, and a deploy whose
settings still describe V1. Runs on the deployed 2026 sandbox (real main as production, real v2 as dev)."""
import json

import pytest

from tests import harness, production

VOLUME = "/mnt/coordinaton_mcp_data"


@pytest.fixture(scope="module")
def sb(deployed_2026):
    return deployed_2026


def snapshots(sb, tags: str) -> list[dict]:
    return json.loads(sb.ssh(f"{sb.settings.backup_restic_command} snapshots --no-lock --json --tag {tags}").stdout)


def test_a_plain_deploy_converged_with_no_override_and_made_nothing_in_the_volume(sb):
    assert sb.first_run.returncode == 0
    assert "bastion goes by the host" not in sb.first_run.output, "the defaults describe today's production"
    assert sb.ssh(f"test -d {sb.settings.dev_checkout}/.git && test -d {sb.settings.dev_data_dir}").returncode == 0
    assert not sb.settings.dev_checkout.startswith(VOLUME)


def test_productions_real_data_is_backed_up_and_its_leftovers_once_apart(sb):
    [routine] = snapshots(sb, "production,routine")[-1:]
    paths = set(routine["paths"])
    for entry in ("instances", "projects", "roles", "shared-config", ".hub-secret"):
        assert f"{VOLUME}/{entry}" in paths, entry
    assert f"{VOLUME}/Human-Adjacent-Coordination/secrets.env" in paths, "the secrets file, alone of its checkout"
    assert not {f"{VOLUME}/{name}" for name in ("qdrant-storage", "backups", "production", "v2-dev",
                                                "Human-Adjacent-Coordination")} & paths
    restic = sb.settings.backup_restic_command
    listing = sb.ssh(f"{restic} ls --no-lock {routine['short_id']}").stdout
    assert f"{VOLUME}/instances/Lupo-f63b/diary.md" in listing
    assert f"{VOLUME}/roles/Developer/role.json" in listing
    assert sb.settings.production_tls_dir in paths, "certbot's state, for a rebuilt droplet's TLS"
    entries = [json.loads(line) for line in sb.ssh(f"{restic} ls --no-lock --json {routine['short_id']}").stdout.splitlines()]
    assert {x["path"]: x.get("type") for x in entries if "path" in x}[sb.settings.tls_certificate] == "symlink"
    [leftovers] = snapshots(sb, "leftovers")
    assert set(leftovers["tags"]) == {"production", "kept", "leftovers"}
    assert {f"{VOLUME}/{name}" for name in ("production", "production-data", "v2-dev", "v2-dev-data")} <= \
        set(leftovers["paths"])
    assert "leftover-dev-key" in sb.ssh(f"{restic} dump --no-lock {leftovers['short_id']} {VOLUME}/v2-dev/secrets.env").stdout
    again = harness.deploy(sb)
    assert again.returncode == 0, again.output[-2000:]
    assert [s["short_id"] for s in snapshots(sb, "leftovers")] == [leftovers["short_id"]], "the leftovers are taken once"
    text = harness.status(sb, "text")
    assert f"production newest snapshot {routine['short_id']}" in text
    assert f"of {VOLUME}: " in text and "instances" in text


def test_the_production_check_fails_when_the_unit_points_elsewhere(sb):
    """Break the host on purpose: the unit's WorkingDirectory moved (not yet restarted)."""
    drop_in = "/etc/systemd/system/mcp-coordination.service.d/bastion-test.conf"
    sb.ssh(f"mkdir -p $(dirname {drop_in}) && printf '[Service]\\nWorkingDirectory={VOLUME}/production\\n' > {drop_in} "
           f"&& systemctl daemon-reload")
    try:
        done = harness.verify_suite(sb, suite="tests/verify_production")
    finally:
        sb.ssh(f"rm -rf $(dirname {drop_in}) && systemctl daemon-reload")
    assert done.returncode != 0
    assert f"mcp-coordination.service says WorkingDirectory={VOLUME}/production, but its PID" in done.stdout
    assert harness.verify_suite(sb, suite="tests/verify_production").returncode == 0


V1 = ("--data", f"production_checkout={VOLUME}/production", "--data", f"production_data_dir={VOLUME}/production-data",
      "--data", "production_secrets_file=null")


def test_settings_of_v1_on_todays_host_are_named_and_back_up_nothing_wrong(sb):
    run = harness.deployed(sb, *V1)
    for line in (f"production_checkout={VOLUME}/production: the host's production has {VOLUME}/Human-Adjacent-Coordination",
                 f"production_data_dir={VOLUME}/production-data: the host's production has {VOLUME} (V2_DATA_ROOT",
                 "production_secrets_file=None: the host's production has"):
        assert line in run.output, line
    sb.ssh(f"systemctl start {sb.settings.production_backup_unit}.service")
    [newest] = snapshots(sb, "production,routine")[-1:]
    assert f"{VOLUME}/instances" in newest["paths"]
    assert not any(path.startswith(f"{VOLUME}/production-data") for path in newest["paths"])
    check = harness.verify_suite(sb, suite="tests/verify_production", data=tuple(V1[1::2]))
    assert check.returncode != 0 and f"production_data_dir={VOLUME}/production-data: the host's" in check.stdout


def test_a_dev_path_in_the_volume_is_refused_naming_production_and_the_leftover(sb):
    harness.mark(sb)
    run = harness.deploy(sb, "--data", f"dev_checkout={VOLUME}/v2-dev", "--data", f"dev_data_dir={VOLUME}/v2-dev-data")
    assert run.returncode != 0
    lines = harness.preflight_lines(run)
    assert any(line.startswith(f"dev_checkout={VOLUME}/v2-dev: lies inside production's production_data_dir ({VOLUME}), "
                               f"is the leftover {VOLUME}/v2-dev") and line.endswith("e.g. /srv/hacs-dev/checkout")
               for line in lines), lines
    assert any(line.startswith(f"dev_data_dir={VOLUME}/v2-dev-data: lies inside") for line in lines), lines
    assert not any("move it away" in line for line in lines)
    assert harness.changed_since_mark(sb) == []


def test_a_directory_that_is_not_bastions_is_never_taken_over(sb):
    sb.ssh("mkdir -p /srv/team-notes && echo mine > /srv/team-notes/notes.md")
    harness.mark(sb)
    run = harness.deploy(sb, "--data", "dev_data_dir=/srv/team-notes")
    assert run.returncode != 0
    [line] = harness.preflight_lines(run)
    assert line.startswith("dev_data_dir=/srv/team-notes: exists, holds files of root and is not bastion's (hacs-dev's); "
                           "leave it be and choose a place of the dev environment's own, e.g. /srv/hacs-dev/data"), line
    assert harness.changed_since_mark(sb) == []
    assert sb.ssh("stat -c %U /srv/team-notes").stdout.strip() == "root"


def test_production_and_its_leftovers_are_as_they_were(sb):
    after = production.snapshot(harness.testinfra_host(sb), sb.settings)
    assert after["files"] == sb.production_before["files"]
    assert after["top_level"] == sb.production_before["top_level"]
    assert after["service"] == sb.production_before["service"]
