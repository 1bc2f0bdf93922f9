"""Converge, verify, converge again with zero changes, push-to-serve, production untouched: on both
droplets, the diary's (2025) and today's (2026).

Runs in file order on each deployed sandbox; the production comparison comes last so it covers
every change the earlier tests made.
"""
import json

import pytest

from sandbox import upstream
from tests import harness, production


@pytest.fixture(scope="module", params=["2025", "2026"])
def sb(request):
    return request.getfixturevalue("deployed_sandbox" if request.param == "2025" else "deployed_2026")


@pytest.fixture
def settings(sb):
    return sb.settings


def test_first_run_converged_with_changes(sb):
    assert sb.first_run.returncode == 0
    assert sb.first_run.results["totals"]["error"] == 0
    assert len(sb.first_run.changed) > 10


def test_second_run_changes_nothing_and_restarts_nothing(sb, settings):
    before = harness.invocation(sb, settings.dev_unit)
    again = harness.deploy(sb)
    assert again.returncode == 0, again.output[-4000:]
    assert again.changed == []
    assert harness.invocation(sb, settings.dev_unit) == before


def test_suite_runs_against_the_host_by_its_ssh_address(sb):
    done = harness.verify_suite(sb)
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout.splitlines()[-1]


def test_data_written_through_the_endpoint_lands_in_the_dev_data_only(sb, settings):
    instance = harness.bootstrap(sb, "EndToEnd")
    sb.instance = instance
    prefs = json.loads(sb.ssh(f"cat {settings.dev_data_dir}/instances/{instance}/preferences.json").stdout)
    assert prefs["name"] == "EndToEnd"
    assert sb.ssh(f"find / -xdev -path '*/instances/{instance}' -not -path '{settings.dev_data_dir}/*'",
                  check=False).stdout == ""
    assert sb.ssh(f"stat -c %a {settings.dev_data_dir}/instances/{instance}/preferences.json").stdout.strip() in (
        "640", "600"), "UMask=0027: nothing the server writes is world-readable"


def test_a_redeploy_keeps_the_data(sb, settings):
    again = harness.deploy(sb)
    assert again.returncode == 0 and again.changed == []
    listed = harness.call_tool(sb, "get_all_instances")["instances"]
    assert sb.instance in [i["instanceId"] for i in listed]


def test_the_dev_data_is_usable_out_of_the_box(sb, settings):
    """take_on_role needs a catalog under V2_DATA_ROOT: the first deploy seeded it."""
    instance = harness.bootstrap(sb, "Catalog")
    taken = harness.call_tool(sb, "take_on_role", {"instanceId": instance, "role": "Developer"})
    assert taken.get("success"), taken


def test_the_catalog_is_never_overwritten_and_adopt_with_nothing_to_adopt_changes_nothing(sb, settings):
    role = f"{settings.dev_data_dir}/roles/Developer/role.json"
    sb.ssh(f"echo '{{\"roleId\": \"Developer\", \"description\": \"edited by the team\"}}' > {role}")
    run = harness.deploy(sb, "--data", "adopt=True")
    assert run.returncode == 0 and run.changed == [], run.output[-3000:]
    assert "edited by the team" in sb.ssh(f"cat {role}").stdout
    assert "adoption" not in run.stderr


def test_roots_git_is_refused_and_the_owners_pull_fires_the_hook_and_serves_the_new_commit(sb, settings):
    before = harness.served_commit(sb)
    new = upstream.push_commit(sb.upstream_repo, settings.dev_branch, {"NEWS.md": "pulled\n"}, "News")
    refused = sb.ssh(f"cd {settings.dev_checkout} && git pull 2>&1", check=False)
    assert refused.returncode != 0 and "dubious ownership" in refused.stdout, refused.stdout
    assert harness.served_commit(sb) == before
    pull = sb.ssh(f"cd {settings.dev_checkout} && runuser -u {settings.dev_user} -- git pull 2>&1")
    assert f"{new[:12]} is up" in pull.stdout, pull.stdout
    assert harness.served_commit(sb) == new


def test_the_hook_says_so_when_the_new_commit_does_not_come_up(sb, settings):
    _, server = harness.push_server_that_throws(sb)
    pull = sb.ssh(f"cd {settings.dev_checkout} && runuser -u {settings.dev_user} -- git pull 2>&1")
    assert "did not come up healthy" in pull.stdout
    assert "broken on purpose" in pull.stdout, "the journal lines name the cause"
    fixed = harness.push_server(sb, server)
    pulled = sb.ssh(f"cd {settings.dev_checkout} && runuser -u {settings.dev_user} -- git pull 2>&1").stdout
    assert f"{fixed[:12]} is up" in pulled


def test_a_bare_restart_returns_once_the_server_answers(sb, settings):
    """Readiness is the unit's own (ExecStartPost), not the restart path's: `systemctl restart`, by whoever,
    returns with /health answering inside the server's network namespace at the first ask."""
    unit = settings.dev_unit
    asked = sb.ssh(f"systemctl restart {unit} && nsenter -t $(systemctl show -p MainPID --value {unit}) -n "
                   f"curl -sS --max-time 2 http://{settings.dev_listen_address}:{settings.dev_port}/health", check=False)
    assert asked.returncode == 0 and '"status":"healthy"' in asked.stdout, asked.stdout + asked.stderr


def test_quick_restarts_leave_the_door_open(sb, settings):
    """Pushes in a burst restart the server many times in seconds; after each the endpoint answers through
    the door (systemd's default start limit of the door, 5 in 10 s, once kept it shut)."""
    for n in range(7):
        restart = sb.ssh(settings.dev_restart_script, check=False)
        assert restart.returncode == 0, restart.stdout + restart.stderr
        assert harness.served_commit(sb), f"restart {n + 1}: the endpoint does not answer: " + sb.ssh(
            f"systemctl --no-pager status {settings.dev_proxy_unit}.socket {settings.dev_proxy_unit}.service",
            check=False).stdout


def test_deploy_fast_forwards_and_keeps_local_changes_in_a_stash(sb, settings):
    # Tracked files under data/ are rewritten at run time (by the app, or by hand); upstream changes one too.
    tracked = sb.ssh(f"{harness.owner_git(settings)} ls-files data | grep '\\.json$' | head -n 1").stdout.strip()
    sb.ssh(f"cd {settings.dev_checkout} && echo '{{\"rewritten\": \"at run time\"}}' > {tracked}")
    new = upstream.push_commit(sb.upstream_repo, settings.dev_branch, {tracked: '{"upstream": true}\n'},
                               "Upstream data change")
    run = harness.deploy(sb)
    assert run.returncode == 0, run.output[-4000:]
    assert "hacs-dev-update: local changes kept in git stash" in run.output and f"M {tracked}" in run.output
    assert harness.served_commit(sb) == new
    stashes = sb.ssh(f"{harness.owner_git(settings)} stash list").stdout
    assert "bastion: local changes before" in stashes
    assert "at run time" in sb.ssh(f"{harness.owner_git(settings)} stash show -p stash@{{0}}").stdout


def test_dependencies_reinstall_only_when_the_lock_file_changes(sb, settings):
    package = json.loads(upstream.read_file(sb.upstream_repo, settings.dev_branch, "package.json"))
    lock = json.loads(upstream.read_file(sb.upstream_repo, settings.dev_branch, "package-lock.json"))
    package["version"] = lock["version"] = lock["packages"][""]["version"] = "2.0.1"
    upstream.push_commit(sb.upstream_repo, settings.dev_branch,
                         {"package.json": json.dumps(package, indent=2) + "\n",
                          "package-lock.json": json.dumps(lock, indent=2) + "\n"}, "2.0.1")
    run = harness.deploy(sb)
    assert run.returncode == 0, run.output[-4000:]
    assert "Dependencies | npm ci when package-lock.json changed" in run.changed
    assert any(name.startswith("Service | Restart") for name in run.changed)
    upstream.push_commit(sb.upstream_repo, settings.dev_branch, {"NEWS.md": "no lock change\n"}, "Docs only")
    run = harness.deploy(sb)
    assert "Dependencies | npm ci when package-lock.json changed" not in run.changed
    assert any(name.startswith("Service | Restart") for name in run.changed)


def test_the_production_check_passes_and_touches_nothing(sb):
    before = production.snapshot(harness.testinfra_host(sb), sb.settings)
    done = harness.verify_suite(sb, suite="tests/verify_production")
    assert done.returncode == 0, done.stdout[-4000:]
    assert "warning" not in done.stdout.lower(), "the baseline's certificates are far from expiry"
    assert production.snapshot(harness.testinfra_host(sb), sb.settings) == before


def test_production_is_byte_for_byte_as_before_and_never_restarted(sb):
    after = production.snapshot(harness.testinfra_host(sb), sb.settings)
    before = sb.production_before
    assert after["files"] == before["files"]
    assert after["top_level"] == before["top_level"], "nothing new in production's data root"
    assert after["git_head"] == before["git_head"]
    assert after["certificate"] == before["certificate"]
    assert after["site_without_dev_include"] == before["site_without_dev_include"]
    assert (before["site_dev_includes"], after["site_dev_includes"]) == (0, 1)
    assert after["service"] == before["service"]
