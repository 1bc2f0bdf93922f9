"""Safety rails, by fault injection on the scratch sandbox: bad input changes nothing, nginx
failures roll back, killed runs converge, production is never harmed."""
import os
import subprocess
import time

import pytest

from sandbox import baseline, upstream
from sandbox.machine import Sandbox
from tasks.facts import PortListeners
from tests import harness
from tests.settings import REPO

# The refusals that need the host (what production is there, the upstream, apt, the repository); the
# ones of the settings alone are proven in tests/unit/test_rules.py, and one of them here, end to end.
BAD_SETTINGS = [
    ("dev_port=3444", "dev_port=3444: that is production's port (production_port); choose another"),
    ("dev_data_dir=/mnt/coordinaton_mcp_data/production-data/v2",
     "dev_data_dir=/mnt/coordinaton_mcp_data/production-data/v2: lies inside production's production_data_dir"),
    ("dev_backups_dir=/mnt/coordinaton_mcp_data/production-data-backups",
     "dev_backups_dir=/mnt/coordinaton_mcp_data/production-data-backups: is the leftover "
     "/mnt/coordinaton_mcp_data/production-data-backups (production_leftovers: never bastion's)"),
    ("dev_branch=no-such-branch", "dev_branch=no-such-branch: git://"),
    ("dev_repo_url=git://{host}:9/hacs.git", "dev_repo_url=git://{host}:9/hacs.git: cannot be reached from the host"),
    ('dev_packages=["git", "nginx", "no-such-package-bastion"]', "dev_packages: apt finds no no-such-package-bastion"),
    ("production_backup_schedule=every tuesday", "production_backup_schedule=every tuesday: the host's systemd cannot "
                                                 "read it as a calendar (systemd-analyze calendar refuses it)"),
    ("restore_from=latest", "restore_from=latest: backup_repository=/mnt/coordinaton_mcp_data/v2-dev-backups/restic "
                            "is on the host and there is none here"),
]


@pytest.mark.parametrize("setting, message", BAD_SETTINGS, ids=[s for s, _ in BAD_SETTINGS])
def test_bad_input_gets_one_line_and_changes_nothing(pristine, setting, message):
    setting, message = (x.replace("{host}", pristine.host_address) for x in (setting, message))
    harness.mark(pristine)
    run = harness.deploy(pristine, "--data", setting)
    assert run.returncode != 0
    lines = harness.preflight_lines(run)
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert harness.changed_since_mark(pristine) == []


def test_a_dry_run_before_anything_of_bastion_is_there_shows_the_changes_and_makes_none(scratch):
    """--dry (and a run without -y, which shows the same before it asks) on today's droplet, with no dev checkout
    yet: the fast-forward after the clone is a change to show, not an error (it was one: the branch was looked for
    in a checkout not cloned yet)."""
    today = baseline.up(harness.with_layout(Sandbox(scratch.name, scratch.subnet, layout="2026")))
    assert today.ssh(f"test -e {today.settings.dev_checkout}", check=False).returncode != 0
    harness.mark(today)
    # As an operator types it: no -y, so pyinfra reads every operation to show what would change.
    run = subprocess.run([harness.PYINFRA, "--dry", "inventory.py", "deploy.py", *harness.NO_FOLLOW], cwd=REPO,
                         env={**os.environ, "BASTION_TARGET": "sandbox", "BASTION_SANDBOX": today.name},
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    output = run.stdout + run.stderr  # pyinfra writes its table to stderr
    assert run.returncode == 0 and "Operation error" not in output, output[-3000:]
    assert "Checkout | Fast-forward to origin/" in output, output[-3000:]
    assert harness.changed_since_mark(today) == []


def test_orphan_on_the_dev_port_is_named_and_only_stopped_when_told(pristine, settings):
    prod_before = harness.invocation(pristine, settings.production_unit)
    # The diary's orphan: a server on the dev port, started by hand from production's directory.
    pristine.ssh(f"cd {settings.production_checkout} && setsid -f python3 -m http.server {settings.dev_port} "
                 f"--bind 127.0.0.1 >/dev/null 2>&1 < /dev/null; "
                 f"for _ in $(seq 100); do ss -Htln 'sport = :{settings.dev_port}' | grep -q . && break; sleep 0.1; done")
    pid = pristine.ssh(f"ss -Htlnp 'sport = :{settings.dev_port}' | grep -o 'pid=[0-9]*' | cut -d= -f2").stdout.strip()
    harness.mark(pristine)
    run = harness.deploy(pristine)
    assert run.returncode != 0
    [line] = harness.preflight_lines(run)
    assert line.startswith(f"dev_port={settings.dev_port}: taken by PID {pid} (user root, cwd "
                           f"{settings.production_checkout}, command: python3 -m http.server"), line
    assert "dev_stop_orphans=True" in line
    assert harness.changed_since_mark(pristine) == []
    run = harness.deployed(pristine, "--data", "dev_stop_orphans=True")
    assert f"stopping PID {pid}" in run.stderr
    assert pristine.ssh(f"kill -0 {pid}", check=False).returncode != 0
    assert harness.invocation(pristine, settings.production_unit) == prod_before


# Every other child lingers a little before its exec, so that readings meet children on both sides of it.
FORKING_LISTENER = """
import itertools, os, socket, subprocess, sys, time
listening = socket.create_server(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2] + ".new", "w") as pid_file:
    pid_file.write(str(os.getpid()))
os.rename(sys.argv[2] + ".new", sys.argv[2])
for n in itertools.count():
    subprocess.run(["/bin/sleep", "0.001"], preexec_fn=(lambda: time.sleep(0.05)) if n % 2 else None)
"""


def test_only_who_holds_the_port_is_named_not_a_fork_on_its_way_to_another_program(pristine):
    """A listener that forks (as systemd does for every unit it starts): each child holds the socket until its
    exec closes it, then is another program, or gone. The port's listeners read as the listener alone, every
    time (in CI a fork of PID 1 read as the backup script on the dev port, and the deploy refused to run; then
    a child not yet exec'd, as its parent)."""
    port, pid_file = 39999, "/root/forking-listener.pid"
    pristine.ssh(f"cat > /root/forking-listener.py <<'EOF'\n{FORKING_LISTENER}EOF\nrm -f {pid_file}; "
                 f"setsid -f python3 /root/forking-listener.py {port} {pid_file} >/dev/null 2>&1 </dev/null; "
                 f"for _ in $(seq 100); do [ -s {pid_file} ] && break; sleep 0.1; done")
    try:
        listener = pristine.ssh(f"cat {pid_file}").stdout.strip()
        fact = PortListeners().command(port)
        readings = pristine.ssh(f"cat > /root/port-listeners.sh <<'EOF'\n{fact}\nEOF\n"
                                f"for _ in $(seq 200); do sh /root/port-listeners.sh | cut -f1 | paste -sd,; done").stdout
        assert readings.split() == [listener] * 200, sorted(set(readings.split()))
    finally:
        pristine.ssh(f"pkill -f 'forking-listener.py {port}'", check=False)


def test_an_nginx_configuration_that_already_fails_is_left_alone(pristine, settings):
    pristine.ssh("echo 'this is not nginx;' > /etc/nginx/conf.d/broken-by-someone.conf")
    harness.mark(pristine)
    run = harness.deploy(pristine)
    assert run.returncode != 0
    [line] = harness.preflight_lines(run)
    assert line.startswith("production_nginx_site: nginx -t already fails before this deploy touched anything")
    assert "unknown directive" in line
    assert harness.changed_since_mark(pristine) == []



def test_a_snippet_that_fails_nginx_t_is_rolled_back_on_a_first_deploy(pristine, settings):
    a_snippet_that_fails_nginx_t_is_rolled_back(pristine, settings)


def a_snippet_that_fails_nginx_t_is_rolled_back(pristine, settings):
    snippet_before = pristine.ssh(f"cat {settings.dev_nginx_snippet} 2>/dev/null", check=False).stdout
    nginx_pid = pristine.ssh("cat /run/nginx.pid").stdout.strip()
    run = harness.deploy(pristine, "--data", "dev_proxy_timeout_seconds=soon")
    assert run.returncode != 0
    assert "nginx -t failed after the dev change; the previous dev configuration is back" in run.output
    assert 'invalid value "sooons"' in run.output or "invalid" in run.output
    assert pristine.ssh(f"cat {settings.dev_nginx_snippet}").stdout == snippet_before
    assert pristine.ssh("nginx -t", check=False).returncode == 0
    assert pristine.ssh("cat /run/nginx.pid").stdout.strip() == nginx_pid
    health = pristine.ssh(f"curl -sk --resolve {settings.server_name}:443:127.0.0.1 https://{settings.server_name}/health")
    assert '"port":"3444"' in health.stdout
    harness.deployed(pristine)
    assert harness.deploy(pristine).changed == []


# In the order a first deploy reaches them: each killed run leaves the next one a host further along.
KILL_POINTS = {
    "after the clone": "test -d /mnt/coordinaton_mcp_data/v2-dev/.git",
    # Its npm ci goes on without the deploy (no terminal, no hangup): the rerun waits for it, not beside it.
    "during npm ci": "pgrep -u hacs-dev -f 'npm ci' > /dev/null",
    "after the unit is written": "test -f /etc/systemd/system/mcp-coordination-dev.service",
    "during the nginx step": "test -f /etc/nginx/snippets/hacs-dev.conf",
}


def killed_at(sandbox, point: str, log) -> None:
    """A deploy killed (SIGKILL, as a lost laptop or a closed lid does) the moment the host shows the point."""
    env = dict(os.environ, BASTION_TARGET="sandbox", BASTION_SANDBOX=sandbox.name)
    with log.open("w") as output:
        proc = subprocess.Popen([harness.PYINFRA, "-y", "inventory.py", "deploy.py", *harness.NO_FOLLOW], cwd=REPO,
                                env=env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while sandbox.ssh(KILL_POINTS[point], check=False).returncode != 0:
        assert proc.poll() is None, f"the deploy ended before the kill point {point!r}:\n{log.read_text()[-4000:]}"
        assert time.monotonic() < deadline, f"no kill point {point!r} within 120 s:\n{log.read_text()[-4000:]}"
    proc.kill()
    assert proc.wait() == -9


def test_a_killed_deploy_converges_when_run_again(pristine, tmp_path):
    """Killed at each point of a first deploy in turn: each run carries on from what the killed one left (or it
    would end before the next point), and the run after the last kill converges, with nothing left to change."""
    for point in KILL_POINTS:
        killed_at(pristine, point, tmp_path / f"killed {point}.log")
    harness.deployed(pristine)
    assert harness.deploy(pristine).changed == []
    suite = harness.verify_suite(pristine)
    assert suite.returncode == 0, suite.stdout[-3000:]


def test_a_run_stopped_between_its_nginx_files_and_its_nginx_check_is_finished_by_the_next(pristine, settings):
    """The http-level file names a variable only the included snippet defines: a run stopped after writing it and
    before the include line leaves nginx -t failing on bastion's own files. The next run finishes the change
    (it refused before, as if production's configuration were broken); one that is production's is still refused
    (test_bad_input_gets_one_line_and_changes_nothing's neighbour above)."""
    harness.deployed(pristine)
    include = f"include {settings.dev_nginx_snippet};"
    pristine.ssh(f"sed -i '\\|{include}|d' {settings.production_nginx_site}; "
                 f"rm {settings.bastion_state_dir}/nginx-loaded.sha256")
    assert pristine.ssh("nginx -t", check=False).returncode != 0, "the state a stopped run leaves"
    run = harness.deployed(pristine)
    assert "this run writes them again and checks" in run.output
    assert pristine.ssh("nginx -t", check=False).returncode == 0
    assert include in pristine.ssh(f"cat {settings.production_nginx_site}").stdout


def test_the_deploy_never_touches_ssh_firewall_or_interfaces(pristine):
    probe = ("sha256sum /etc/ssh/sshd_config /etc/ssh/ssh_host_*; ls /etc/ssh/sshd_config.d; ip -o addr; ip route; "
             "iptables-save 2>/dev/null; nft list ruleset 2>/dev/null; systemctl show -p ActiveEnterTimestamp ssh")
    before = pristine.ssh(probe, check=False).stdout
    harness.deployed(pristine)
    assert pristine.ssh(probe, check=False).stdout == before


# Each test below starts from a droplet serving its branch and leaves it so (one first deploy for them all); the
# one that breaks the branch comes last.
@pytest.fixture(scope="module")
def deployed_once(scratch):
    baseline.up(scratch)
    harness.deployed(scratch)
    return scratch


def test_secrets_survive_deploys_and_never_show_in_output(deployed_once, settings):
    canary = "WAKE_API_KEY=canary-7f3a9c"
    deployed_once.ssh(f"echo {canary} > {settings.dev_env_file}")
    run = harness.deploy(deployed_once, "-vvv")
    restart = deployed_once.ssh(f"{settings.dev_restart_script}")
    assert "canary-7f3a9c" not in run.output + restart.stdout + restart.stderr
    assert deployed_once.ssh(f"cat {settings.dev_env_file}").stdout.strip() == canary
    pid = deployed_once.ssh(f"systemctl show -p MainPID --value {settings.dev_unit}").stdout.strip()
    assert canary in deployed_once.ssh(f"tr '\\0' '\\n' < /proc/{pid}/environ").stdout


def test_an_install_that_hangs_is_waited_for_then_named(deployed_once, settings):
    """An npm ci that hangs holds the dependency lock: the restart path waits dev_dependencies_lock_wait_seconds
    for it, then fails naming it, and the server it would have restarted keeps running."""
    harness.deployed(deployed_once, "--data", "dev_dependencies_lock_wait_seconds=2")
    before = harness.invocation(deployed_once, settings.dev_unit)
    lock = "/run/lock/hacs-dev-dependencies.lock"
    deployed_once.ssh(f"systemd-run --unit=bastion-test-hung-install flock {lock} sleep 120")
    try:
        harness.wait_until(lambda: deployed_once.ssh(f"flock -n {lock} true", check=False).returncode != 0, 10)
        started = time.monotonic()
        run = deployed_once.ssh(f"timeout 60 {settings.dev_restart_script} --deps-only", check=False)
        waited = time.monotonic() - started
    finally:
        deployed_once.ssh("systemctl stop bastion-test-hung-install", check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "another dependency install still runs after 2 s (pgrep -af 'npm ci'): stop it, then run again" in run.stdout
    assert waited >= 2, "it waited before it gave up"
    assert harness.invocation(deployed_once, settings.dev_unit) == before


def test_upstream_gone_or_unreachable_keeps_the_dev_server_and_data(deployed_once, settings):
    precious = f"{settings.dev_data_dir}/precious"
    deployed_once.ssh(f"echo keep > {precious} && chown {settings.dev_user} {precious}")
    before = harness.invocation(deployed_once, settings.dev_unit)
    branch = ["git", "-C", str(deployed_once.upstream_repo), "update-ref"]
    head = upstream.head(deployed_once.upstream_repo, settings.dev_branch)
    subprocess.run([*branch, "-d", f"refs/heads/{settings.dev_branch}"], check=True)
    try:
        run = harness.deploy(deployed_once)
        assert run.returncode != 0
        missing = f"dev_branch={settings.dev_branch}: {deployed_once.upstream_url} has no such branch"
        assert harness.preflight_lines(run)[0].startswith(missing)
        run = harness.deploy(deployed_once, "--data", f"dev_repo_url=git://{deployed_once.host_address}:9/hacs.git")
        assert "cannot be reached from the host" in harness.preflight_lines(run)[0]
        assert harness.invocation(deployed_once, settings.dev_unit) == before
        assert deployed_once.ssh(f"curl -s http://127.0.0.1:{settings.dev_port}/health").stdout.count('"healthy"') == 1
        assert deployed_once.ssh(f"cat {precious}").stdout == "keep\n"
    finally:  # the branch back, for the tests after this one
        subprocess.run([*branch, f"refs/heads/{settings.dev_branch}", head], check=True)


def test_a_snippet_that_fails_nginx_t_is_rolled_back_on_an_update(deployed_once, settings):
    a_snippet_that_fails_nginx_t_is_rolled_back(deployed_once, settings)


def test_a_dev_server_that_fails_to_start_fails_the_deploy_with_its_log(deployed_once, settings):
    prod_before = harness.invocation(deployed_once, settings.production_unit)
    harness.push_server_that_throws(deployed_once)
    run = harness.deploy(deployed_once, "--data", "dev_health_timeout_seconds=8")
    assert run.returncode != 0
    assert f"http://127.0.0.1:{settings.dev_port}/health is not healthy" in run.output
    assert "broken on purpose" in run.output, "the journal's last lines are shown"
    assert harness.invocation(deployed_once, settings.production_unit) == prod_before
    health = deployed_once.ssh(f"curl -sk --resolve {settings.server_name}:443:127.0.0.1 https://{settings.server_name}/health")
    assert '"port":"3444"' in health.stdout


def test_the_service_user_cannot_write_production(deployed_sandbox, settings):
    paths = [settings.production_checkout, settings.production_data_dir, *settings.production_leftovers,
             settings.production_nginx_site, settings.tls_certificate_key]
    for path in paths:
        attempt = deployed_sandbox.ssh(
            f"runuser -u {settings.dev_user} -- sh -c 'touch {path}/.probe 2>/dev/null || touch {path} 2>/dev/null'",
            check=False)
        assert attempt.returncode != 0, path


def test_no_secret_key_or_password_in_the_repository():
    patterns = ["-----BEGIN " + r"[A-Z ]*PRIVATE KEY-----", "AKIA" + r"[0-9A-Z]{16}",
                r"(password|passwd|secret|api_key|token)\s*[=:]\s*['\"][^'\"\s]{6,}['\"]",
                r"WAKE_API_KEY=[A-Za-z0-9]{12,}"]
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    found = subprocess.run(["grep", "-nIiE", "|".join(f"({p})" for p in patterns), *files], cwd=REPO,
                           capture_output=True, text=True)
    assert found.stdout == "", found.stdout
