"""The live droplet is not blank: the diary's and the team's hand-made dev setup runs there. A deploy
names it and changes nothing; adopt=True takes it over with everything it had, and a second run
changes nothing. Runs on a sandbox serving the real app when this machine has it."""
import os
import re
import subprocess

import pytest

from sandbox import baseline, upstream
from sandbox.machine import Sandbox
from tests import harness, production
from tests.settings import REPO

TEAM_ROOT = "/mnt/coordinaton_mcp_data"  # V2_DATA_ROOT of the team's start script ("consolidated")
CANARY = "adopt-canary-41d9c2"
HAND_MADE_LOCATION = """    location /mcp/dev/ {
        proxy_pass http://localhost:3446/;
        proxy_http_version 1.1;
        proxy_set_header Host $host;
    }

"""
ADOPT = ("--data", "adopt=True")


@pytest.fixture(scope="session")
def adoption_sandbox(request):
    app = upstream.chosen_app(request.config.getoption("--app"))
    # The hand-made setup is the diary's droplet's (2025).
    sandbox = harness.with_layout(Sandbox(os.environ.get("BASTION_TEST_ADOPT", "bst-adopt"),
                                          os.environ.get("BASTION_TEST_ADOPT_SUBNET", "10.213.27.0/24"), app=app,
                                          layout="2025"))
    yield sandbox
    sandbox.down()


@pytest.fixture
def hand_made(adoption_sandbox, settings):
    """The production baseline plus what the diary and the team's scripts left: a root clone of v2 with
    node_modules, secrets.env and its own hook, the server started the team's way, instances made
    through it, a role catalog written as files, and a /mcp/dev/ location in production's site."""
    sb = baseline.up(adoption_sandbox)
    checkout, site = settings.dev_checkout, settings.production_nginx_site
    sb.ssh(f"git clone -q --branch {settings.dev_branch} {sb.upstream_url} {checkout} && cd {checkout} && "
           f"npm ci --omit=dev --no-audit --no-fund --loglevel=error && "
           f"printf 'export WAKE_API_KEY={CANARY}\\n' > secrets.env && "
           f"printf '#!/bin/sh\\n./scripts/restart-dev-server.sh\\n' > .git/hooks/post-merge && "
           f"chmod +x .git/hooks/post-merge", timeout=300)
    if sb.ssh(f"test -x {checkout}/scripts/start-dev-server.sh", check=False).returncode == 0:
        start = "bash scripts/start-dev-server.sh"  # the team's own script, as they ran it
    else:
        start = (f"sh -c 'set -a; . ./secrets.env; SSE_PORT={settings.dev_port} SSE_HOST=0.0.0.0 NODE_ENV=development "
                 f"V2_DATA_ROOT={TEAM_ROOT} exec node src/streamable-http-server.js > logs/dev-server.log 2>&1'")
    sb.ssh(f"cd {checkout} && mkdir -p logs && setsid -f {start} > /tmp/start-dev-server.log 2>&1 < /dev/null")
    harness.wait_until(lambda: f"0.0.0.0:{settings.dev_port}" in sb.ssh(f"ss -Hltn 'sport = :{settings.dev_port}'").stdout,
                       limit=20, what=f"the hand-made server listening on 0.0.0.0:{settings.dev_port}")
    sb.ssh(f"mkdir -p {TEAM_ROOT}/roles/Curator/wisdom && "
           f"echo '{{\"roleId\": \"Curator\", \"description\": \"Keeps the knowledge tidy\"}}' "
           f"> {TEAM_ROOT}/roles/Curator/role.json && echo '# Curate' > {TEAM_ROOT}/roles/Curator/wisdom/01.md")
    original = sb.ssh(f"cat {site}").stdout
    with_block = original.replace("    location /mcp {", HAND_MADE_LOCATION + "    location /mcp {", 1)
    sb.ssh(f"cat > {site} <<'EOF'\n{with_block}EOF\nnginx -t -q && systemctl reload nginx")
    # A reload returns before nginx's new workers take over: wait until the block serves.
    health = f"curl -sk --resolve {settings.server_name}:443:127.0.0.1 https://{settings.server_name}{settings.dev_url_path}/health"
    harness.wait_until(lambda: f'"port":"{settings.dev_port}"' in sb.ssh(health, check=False).stdout,
                       limit=20, what=f"the hand-made location serving {settings.dev_url_path}/health")
    through_block = f"{settings.dev_url_path}/mcp"
    # An old worker may still take a connection after the new one served /health (production's /mcp answers
    # "not found" there): the first instance is made once a call reaches the hand-made server.
    made = []

    def bootstrapped() -> bool:
        made.append(harness.call_tool(sb, "bootstrap_v2", {"name": "Foundation"}, path=through_block))
        return "instanceId" in made[-1]

    harness.wait_until(bootstrapped, limit=20, what="bootstrap_v2 through the hand-made location",
                       explain=lambda: str(made[-3:]))
    sb.instance = made[-1]["instanceId"]
    taken = harness.call_tool(sb, "take_on_role", {"instanceId": sb.instance, "role": "Curator"}, path=through_block)
    assert taken.get("success"), taken
    sb.site_with_block, sb.site_original = with_block, original
    return sb


def v2_files(sb, root: str, entries) -> set[str]:
    """'sha256  relative/path' of every V2 file under a data root."""
    out = sb.ssh(f"cd {root} && find {' '.join(entries)} -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum",
                 check=False).stdout
    return set(out.splitlines())


def test_the_hand_made_setup_is_named_and_nothing_changes_without_adopt(hand_made, settings):
    harness.mark(hand_made)
    run = harness.deploy(hand_made)
    assert run.returncode != 0
    lines = harness.preflight_lines(run)
    assert any(line.startswith(f"dev_port={settings.dev_port}: the dev server started by hand runs there")
               and "--data adopt=True" in line for line in lines), lines
    assert any(line.startswith(f"production_nginx_site: {settings.production_nginx_site} already has a location "
                               f"for {settings.dev_url_path} (line") and "adopt=True" in line for line in lines), lines
    assert harness.changed_since_mark(hand_made) == []


def test_dry_run_shows_the_plan_and_changes_nothing(hand_made, settings):
    harness.mark(hand_made)
    run = harness.deploy(hand_made, *ADOPT, "--dry")
    assert run.returncode == 0, run.output[-4000:]
    plan = run.output[run.output.index("adoption plan"):]
    for step in ("stop     PID", "V2_DATA_ROOT=", f"into {settings.dev_data_dir}", f"into {settings.dev_env_file}",
                 f"archive  what is carried: {settings.dev_backups_dir}/", "replace  the hand-made location",
                 "post-merge.hand-made", f"start    {settings.dev_unit}"):
        assert step in plan, step
    assert CANARY not in run.output
    assert harness.changed_since_mark(hand_made) == []


def test_adoption_carries_everything_and_a_second_run_changes_nothing(hand_made, settings, figures):
    sb, entries = hand_made, settings.v2_data_entries
    production_before = production.snapshot(harness.testinfra_host(sb), sb.settings)
    before = v2_files(sb, TEAM_ROOT, entries)
    assert any("/preferences.json" in line for line in before) and any("Curator/role.json" in line for line in before)

    run = harness.deploy(sb, *ADOPT)
    assert run.returncode == 0, run.output[-6000:]
    outage = float(re.search(r"the dev endpoint was down for ([0-9.]+) s", run.output).group(1))
    figures["adoption: dev endpoint outage"] = f"{outage:.1f} s"
    assert outage < 10
    assert re.search(r"carried \d+ files of .* every checksum equal", run.output)
    assert f"served through {settings.dev_url_path}" in run.output
    assert CANARY not in run.output

    # Every V2 file that was there: in the dev data with equal content, and still at its old place.
    assert before <= v2_files(sb, settings.dev_data_dir, entries)
    assert before <= v2_files(sb, TEAM_ROOT, entries)
    assert sb.ssh(f"find {settings.dev_data_dir} ! -user {settings.dev_user}").stdout == ""
    [archive] = sb.ssh(f"ls {settings.dev_backups_dir}/*-adopted.tar.gz").stdout.split()
    assert "v2-dev-data/roles/Curator/role.json" in sb.ssh(f"tar -tzf {archive}").stdout

    pid = sb.ssh(f"systemctl show -p MainPID --value {settings.dev_unit}").stdout.strip()
    assert f"WAKE_API_KEY={CANARY}" in sb.ssh(f"tr '\\0' '\\n' < /proc/{pid}/environ").stdout
    assert sb.ssh(f"stat -c '%a %U' {settings.dev_env_file}").stdout.split() == ["600", "root"]
    # The team's own copy stays where it was, its content untouched, readable by nobody else any more.
    team_copy = f"{settings.dev_checkout}/{settings.adopt_secrets_file}"
    assert sb.ssh(f"stat -c %a {team_copy}").stdout.strip() == "600"
    assert CANARY in sb.ssh(f"cat {team_copy}").stdout
    listening = sb.ssh(f"ss -Hltn 'sport = :{settings.dev_port}'").stdout
    assert f"0.0.0.0:{settings.dev_port}" not in listening and f"127.0.0.1:{settings.dev_port}" in listening
    assert "restart-dev-server.sh" in sb.ssh(f"cat {settings.dev_checkout}/.git/hooks/post-merge.hand-made").stdout

    # What was there before is served through the public path, by the real tools.
    listed = harness.call_tool(sb, "get_all_instances")["instances"]
    assert [i["role"] for i in listed if i["instanceId"] == sb.instance] == ["Curator"]
    newcomer = harness.call_tool(sb, "bootstrap_v2", {"name": "Newcomer"})["instanceId"]
    assert harness.call_tool(sb, "take_on_role", {"instanceId": newcomer, "role": "Curator"}).get("success")

    suite = harness.verify_suite(sb)
    assert suite.returncode == 0, suite.stdout[-4000:]
    after = production.snapshot(harness.testinfra_host(sb), sb.settings)
    assert after["files"] == production_before["files"]
    assert after["service"] == production_before["service"]
    # Production's site: byte for byte, but for the hand-made block, now the one include line.
    include = f"    include {settings.dev_nginx_snippet};\n"
    assert sb.ssh(f"cat {settings.production_nginx_site}").stdout == sb.site_with_block.replace(
        HAND_MADE_LOCATION, include + "\n", 1)
    assert sb.ssh(f"cat {settings.bastion_state_dir}/smoothcurves-nexus.before-adoption").stdout == sb.site_with_block

    for again in (harness.deploy(sb, *ADOPT), harness.deploy(sb)):
        assert again.returncode == 0, again.output[-3000:]
        assert again.changed == []


def test_an_adoption_killed_midway_is_finished_by_the_next_run(hand_made, settings):
    sb = hand_made
    before = v2_files(sb, TEAM_ROOT, settings.v2_data_entries)
    # Kill the adoption on the host the moment it has stopped the hand-made server, and the deploy with it.
    sb.ssh(f"setsid -f sh -c 'while [ ! -f {settings.bastion_state_dir}/adoption-stopped-at ]; do sleep 0.01; done; "
           f"pkill -KILL -f {settings.deploy_run_dir}/hacs-dev-adopt' > /dev/null 2>&1 < /dev/null")
    env = dict(os.environ, BASTION_TARGET="sandbox", BASTION_SANDBOX=sb.name)
    killed = subprocess.run([harness.PYINFRA, "-y", "inventory.py", "deploy.py", *harness.NO_FOLLOW, *ADOPT], cwd=REPO,
                            env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    assert killed.returncode != 0
    assert before <= v2_files(sb, TEAM_ROOT, settings.v2_data_entries), "the originals are untouched"

    run = harness.deployed(sb, *ADOPT)
    assert before <= v2_files(sb, settings.dev_data_dir, settings.v2_data_entries)
    assert any(i["instanceId"] == sb.instance for i in harness.call_tool(sb, "get_all_instances")["instances"])
    assert harness.deploy(sb, *ADOPT).changed == []
    assert run.returncode == 0


def test_a_failing_nginx_t_after_the_site_change_puts_the_site_back(hand_made, settings):
    sb = hand_made
    run = harness.deploy(sb, *ADOPT, "--data", "dev_proxy_timeout_seconds=soon")
    assert run.returncode != 0
    assert "nginx -t failed after the dev change; the previous dev configuration is back" in run.output
    assert sb.ssh(f"cat {settings.production_nginx_site}").stdout == sb.site_with_block
    assert sb.ssh("nginx -t", check=False).returncode == 0
    # The hand-made location still proxies /mcp/dev/ to the dev port, where the unit now runs (the deploy
    # stopped at nginx, before its health gate: give the app the second it takes to listen).
    sb.ssh(f"curl -s --retry 20 --retry-connrefused --retry-delay 1 http://127.0.0.1:{settings.dev_port}/health")
    assert harness.call_tool(sb, "get_all_instances", path=f"{settings.dev_url_path}/mcp")["instances"]
    harness.deployed(sb, *ADOPT)
    assert harness.deploy(sb).changed == []


# Waits on evidence (the listeners on the port, counted against a test), not on time.
LISTENERS = ("for _ in $(seq 100); do [ \"$(ss -Hltn 'sport = :{port}' | wc -l)\" {test} ] && break; sleep 0.1; done; "
             "[ \"$(ss -Hltn 'sport = :{port}' | wc -l)\" {test} ]")
UNEXPECTED = {
    "a second server on the port": (
        "setsid -f python3 -m http.server {port} --bind ::1 > /dev/null 2>&1 < /dev/null; "
        + LISTENERS.replace("{test}", "-ge 2"),
        "dev_port={port}: 2 processes listen there"),
    "a data root that is production's data": (
        "kill $(ss -Hltnp 'sport = :{port}' | grep -o 'pid=[0-9]*' | cut -d= -f2); " + LISTENERS.replace("{test}", "= 0")
        + "; cd {checkout} && SSE_PORT={port} SSE_HOST=0.0.0.0 NODE_ENV=development V2_DATA_ROOT={production_data_dir} "
        "setsid -f node src/streamable-http-server.js > /dev/null 2>&1 < /dev/null; " + LISTENERS.replace("{test}", "-ge 1"),
        "adopt: the hand-made server's V2_DATA_ROOT={production_data_dir} is inside production's production_data_dir"),
    "a site block that is not the simple one": (
        "sed -i 's|proxy_http_version 1.1;|proxy_http_version 1.1;\\n        auth_basic \"team\";|' {site}",
        "production_nginx_site: {site} already has a location for {path} (lines"),
    "a checkout with local commits": (
        "cd {checkout} && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m 'local work'",
        "dev_checkout={checkout}: has 1 commit(s) that origin does not"),
}


@pytest.mark.parametrize("case", UNEXPECTED)
def test_anything_unexpected_stops_adoption_before_any_change(hand_made, settings, case):
    values = {"port": settings.dev_port, "checkout": settings.dev_checkout, "site": settings.production_nginx_site,
              "path": settings.dev_url_path, "production_data_dir": settings.production_data_dir}
    setup, message = (text.format(**values) for text in UNEXPECTED[case])
    hand_made.ssh(setup)
    harness.mark(hand_made)
    run = harness.deploy(hand_made, *ADOPT)
    assert run.returncode != 0
    assert any(line.startswith(message) for line in harness.preflight_lines(run)), harness.preflight_lines(run)
    assert harness.changed_since_mark(hand_made) == []
