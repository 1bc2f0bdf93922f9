"""Backups, restore and rebuild from a blank host, with the data back (issue: disaster recovery)."""
import contextlib
import json
import shlex
import time

import pytest

from sandbox import baseline, upstream
from sandbox.machine import Sandbox
from sandbox.wan import DelayedLink
from tasks.backup_rules import snapshot_time
from tests import harness
from tests.acme import served_chain_verifies
from tests.bench import through_link
from tests.harness import with_layout


def test_production_snapshot_reads_production_and_backs_up_dev_first(pristine, settings):
    harness.deployed(pristine)
    dev_only = harness.bootstrap(pristine, "DevOnly")
    prod = f"find {settings.production_data_dir} -type f -print0 | sort -z | xargs -0 sha256sum"
    production_before = pristine.ssh(prod).stdout
    run = harness.deploy(pristine, deploy_file="dev_data_from_production.py")
    assert run.returncode == 0, run.output[-4000:]
    assert pristine.ssh(prod).stdout == production_before
    marker = json.loads(pristine.ssh(f"cat {settings.dev_data_dir}/.bastion-snapshot.json").stdout)
    assert marker["snapshot_of"] == settings.production_data_dir
    # What carries no secret as it is, and the instances scrubbed; projects (not known to be safe) stay behind.
    assert pristine.ssh(f"test -f {settings.dev_data_dir}/instances/Foundation.json", check=False).returncode == 0
    assert pristine.ssh(f"test -e {settings.dev_data_dir}/projects", check=False).returncode != 0
    assert pristine.ssh(f"stat -c %U {settings.dev_data_dir}/instances").stdout.strip() == settings.dev_user
    [pre] = json.loads(pristine.ssh(f"{settings.backup_restic_command} snapshots --json --tag pre-snapshot").stdout)
    listing = pristine.ssh(f"{settings.backup_restic_command} ls {pre['short_id']}").stdout
    assert f"/backup-stage/dev-data/instances/{dev_only}/preferences.json" in listing
    assert harness.call_tool(pristine, "get_server_status")["status"] == "operational"


def tree_checksums(sandbox, root: str) -> str:
    """Every data file's sha256, but the stand-in's .write-probe (rewritten by each /health)."""
    return sandbox.ssh(f"cd {root} && find . -type f ! -name '*.tmp' ! -name .write-probe -print0 | sort -z | "
                       f"xargs -0 sha256sum").stdout


def wait_for_backups_after_the_write(sandbox, units: list[str], written: float, within: float):
    """Until a timer run of each unit that *started* after the write has finished well; then the timers stop,
    as they would when the droplet dies, so nothing moves while the test reads what the repository holds."""
    deadline = time.monotonic() + within
    for unit in units:
        while True:
            shown = sandbox.ssh(f"systemctl show {unit}.service -p ExecMainStartTimestamp -p ActiveState -p Result "
                                f"--timestamp=unix").stdout
            values = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
            started = values.get("ExecMainStartTimestamp", "").lstrip("@")
            if started.isdigit() and int(started) > written and values.get("ActiveState") == "inactive":
                assert values.get("Result") == "success", f"{unit}: {values}"
                break
            assert time.monotonic() < deadline, f"{unit}: no backup started after the write"
            time.sleep(1)
    sandbox.ssh(f"systemctl stop {' '.join(f'{unit}.timer' for unit in units)}; "
                f"while systemctl is-active --quiet {' '.join(f'{unit}.service' for unit in units)}; do sleep 0.2; done")


def test_drill_the_droplet_dies_and_a_blank_host_is_rebuilt_from_the_backup_host(pristine, blank, vault, acme, settings,
                                                                                  figures):
    """The real disaster: nobody takes a last backup. Sandbox A runs with hourly backups (every 20 s
    here) into the backup host; data is written through /mcp/dev; A dies; blank sandbox B is rebuilt
    from the backup host alone."""
    every = 20
    harness.deployed(pristine, *vault.settings("drill"), "--data", f"dev_backup_schedule=*:*:0/{every}",
                     "--data", f"production_backup_schedule=*:*:0/{every}")
    survivor = harness.bootstrap(pristine, "Survivor")
    written = int(pristine.ssh("date +%s").stdout)
    # Both timers stop at death: production's, on the same schedule, would otherwise prune under a lock.
    wait_for_backups_after_the_write(pristine, [settings.dev_backup_unit, settings.production_backup_unit], written,
                                     4 * every)
    died = time.time()  # no backup after this moment: the droplet is as good as gone
    on_a = tree_checksums(pristine, settings.dev_data_dir)
    restic = settings.backup_restic_command
    # What the backup host holds is what A holds: the newest snapshot, read back.
    [newest] = json.loads(pristine.ssh(f"{restic} snapshots --json --latest 1 --tag hacs-dev,routine").stdout)
    pristine.ssh(f"{restic} restore {newest['short_id']} --target /tmp/newest")
    assert tree_checksums(pristine, f"/tmp/newest{settings.bastion_state_dir}/backup-stage/dev-data") == on_a
    pristine.down()

    started = time.monotonic()
    blank.up()
    run = harness.deploy(
        blank, *vault.settings("drill"), "--data", "restore_from=latest", "--data", f"dev_repo_url={blank.upstream_url}",
        env=harness.by_address(blank))
    rto = time.monotonic() - started
    assert run.returncode == 0, run.output[-6000:]
    assert "self-signed" in run.output

    restored = blank.ssh(f"cat {settings.bastion_state_dir}/restored-from.snapshot").stdout.strip()
    assert restored == newest["short_id"], "latest is the newest snapshot A made"
    rpo = died - snapshot_time(newest["time"])
    figures["RPO, newest snapshot's age when the droplet died (20 s schedule)"] = f"{rpo:.1f} s"
    figures["RTO, blank host to healthy with data restored from the backup host"] = f"{rto:.1f} s"
    print(f"RPO: {rpo:.1f} s, RTO: {rto:.1f} s")

    assert tree_checksums(blank, settings.dev_data_dir) == on_a
    suite = harness.verify_suite(blank)
    assert suite.returncode == 0, suite.stdout[-4000:]
    assert harness.instances(blank) == [survivor]
    assert blank.ssh(f"test -e {settings.production_nginx_site}", check=False).returncode != 0
    assert "SELF-SIGNED" in blank.ssh(f"cat {settings.dev_nginx_site}").stdout

    # Production comes first on a new host: after deploy.py the dev endpoint has a site of its own for the same
    # name, so production.py says so and changes nothing, rather than put a second server block beside it.
    harness.mark(blank)
    late = harness.deploy(blank, *vault.settings("drill"), "--data", f"dev_repo_url={blank.upstream_url}",
                          deploy_file="production.py", env=harness.by_address(blank))
    assert late.returncode != 0
    assert "run production.py before deploy.py on a new host, or remove that site" in late.output
    assert harness.changed_since_mark(blank) == []

    # Beyond one droplet (issue 29): a host without production (the team's previews on a droplet of their own)
    # serves the dev environment and a preview under its own name, with the certificate certbot obtains once DNS
    # points here.
    acme.point(blank.address)
    tls = harness.deploy(blank, *vault.settings("drill"), "--data", f"dev_repo_url={blank.upstream_url}",
                         *acme.settings(), env=harness.by_address(blank))
    assert tls.returncode == 0, tls.output[-5000:]
    roots = acme.roots()
    verified = served_chain_verifies(blank, settings.server_name, roots).stdout
    assert "Verify return code: 0 (ok)" in verified, (verified, tls.output[-5000:])
    branch = "v2-own-host-dev"
    upstream.create_branch(blank.upstream_repo, branch, settings.dev_branch)
    blank.ssh(f"systemctl start {settings.preview_reconcile_unit}.service")
    blank.ssh(f"cat > /tmp/roots.pem <<'EOF'\n{roots}\nEOF")
    for path in (f"{settings.dev_url_path}/health", f"{settings.preview_url_path}/{branch}/health"):
        reply = blank.ssh(f"curl -sf --cacert /tmp/roots.pem -H @{settings.dev_door_bastion_header} "
                          f"--resolve {settings.server_name}:443:127.0.0.1 https://{settings.server_name}{path}",
                          check=False)
        assert reply.returncode == 0 and '"healthy"' in reply.stdout, (path, reply.stderr)


def production_unit(sandbox, settings) -> dict:
    """What production runs as, from where, on which port and data: the baseline's and a rebuild's alike."""
    shown = sandbox.ssh(f"systemctl show {settings.production_unit} -p User -p WorkingDirectory -p Environment "
                        f"-p ActiveState").stdout
    values = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
    environment = dict(item.split("=", 1) for item in values.pop("Environment").split())
    return {**values, **{key: environment.get(key) for key in ("SSE_PORT", "NODE_ENV", "V2_DATA_ROOT")}}


def production_checksums(sandbox, s) -> str:
    """Every file of production's data that its backup holds: the data root without the checkout, the
    leftovers and what production_backup_exclude names; and the secrets file."""
    root = s.production_data_dir
    skip = [s.production_checkout, *s.production_leftovers, *(f"{root}/{name}" for name in s.production_backup_exclude)]
    prune = " ".join(f"-path {path} -prune -o" for path in skip)
    secrets = f"; sha256sum {s.production_secrets_file}" if s.production_secrets_file else ""
    return sandbox.ssh(f"find {root} {prune} -type f ! -name '*.tmp' ! -name .write-probe -print0 | sort -z | "
                       f"xargs -0 sha256sum{secrets}").stdout


def rebuild_sequence() -> list[tuple[str, list[str]]]:
    """The playbooks and --data of the rebuild sequence the README names (docs/rebuild.sh), in their order (the
    old host's backup.py left out: it is gone in the drill; BASTION_TARGET is the drill's new host)."""
    steps = []
    for line in (harness.REPO / "docs" / "rebuild.sh").read_text().splitlines():
        words = shlex.split(line, comments=True)
        if words[:3] == ["pyinfra", "-y", "inventory.py"] and words[3] != "backup.py":
            steps.append((words[3], words[4:]))
    assert [playbook for playbook, _ in steps] == ["production.py", "deploy.py"], steps
    return steps


def certificates_from_the_acme_server(droplet, acme, settings):
    """As the droplet's operator did with Let's Encrypt: certbot certonly with nginx for each name, then a
    renewal; nginx serves them."""
    acme.point(droplet.address)
    droplet.ssh(f"cat > /root/acme-ca.pem <<'EOF'\n{acme.ca_bundle.read_text()}EOF")
    certbot = "REQUESTS_CA_BUNDLE=/root/acme-ca.pem certbot --non-interactive --no-random-sleep-on-renew"
    for name in (settings.server_name, settings.production_art_server_name):
        droplet.ssh(f"{certbot} certonly --nginx --agree-tos --register-unsafely-without-email --force-renewal "
                    f"--server {acme.directory} --cert-name {name} -d {name}")
    droplet.ssh(f"{certbot} renew --force-renewal && systemctl reload nginx")


def served_certificates(sandbox, settings) -> dict[str, str]:
    """The serial of the certificate nginx serves for each of the droplet's names."""
    serials = {}
    for name in (settings.server_name, settings.production_art_server_name):
        serials[name] = sandbox.ssh(f"openssl s_client -connect 127.0.0.1:443 -servername {name} </dev/null 2>/dev/null "
                                    f"| openssl x509 -noout -serial").stdout.strip()
        assert serials[name].startswith("serial="), (name, serials[name])
    return serials


@contextlib.contextmanager
def operators_link(sandbox: Sandbox, rtt_ms: int, work):
    """deploy()'s env for a run that reaches the new host by address as the operator does: directly, or through
    a simulated link of rtt_ms (sandbox/wan.py); yields the env and the link (None when direct)."""
    if not rtt_ms:
        yield harness.by_address(sandbox), None
        return
    with DelayedLink(sandbox.host_address, sandbox.address, rtt_ms=rtt_ms, lifetime=1200) as link:
        env, _ = through_link(sandbox, link, {}, work)
        yield {**harness.by_address(sandbox), "BASTION_TARGET": sandbox.host_address,
               "BASTION_SSH_PORT": env["BASTION_SSH_PORT"], "BASTION_SSH_KNOWN_HOSTS": env["BASTION_SSH_KNOWN_HOSTS"]}, link


# Today's droplet is rebuilt from 100 ms away, the operator's distance (issue 32: RTO under 3 minutes to valid TLS).
@pytest.mark.parametrize(("layout", "rtt_ms"), [("2025", 0), ("2026", 100)])
def test_drill_the_whole_droplet_is_rebuilt_from_the_backup_host(scratch, blank, vault, acme, figures, layout, rtt_ms,
                                                                  tmp_path):
    """Production and dev both: A backs up production's data (read only), certbot's state with it, and the
    dev data to the backup host on a 20 s schedule and dies; blank B becomes the whole droplet with two
    commands, serving A's certificates (issued by the ACME server, renewed once) before DNS moves."""
    every = 20
    a = baseline.up(with_layout(Sandbox(scratch.name, scratch.subnet, layout=layout)))
    b = with_layout(Sandbox(blank.name, blank.subnet, layout=layout))
    settings = a.settings
    certificates_from_the_acme_server(a, acme, settings)
    repository = vault.settings(f"whole-{layout}")
    production_before = harness.invocation(a, settings.production_unit)
    harness.deployed(a, *repository, "--data", f"dev_backup_schedule=*:*:0/{every}",
                     "--data", f"production_backup_schedule=*:*:0/{every}")
    survivor = harness.bootstrap(a, "WholeDroplet")
    written = int(a.ssh("date +%s").stdout)
    wait_for_backups_after_the_write(a, [settings.dev_backup_unit, settings.production_backup_unit], written,
                                     4 * every)
    assert "production untouched" in a.ssh(f"cat {settings.bastion_state_dir}/production-backup.state").stdout
    assert harness.invocation(a, settings.production_unit) == production_before, "its backup never restarts it"
    production_on_a = production_checksums(a, settings)
    assert "instances/" in production_on_a
    unit_on_a = production_unit(a, settings)
    dev_on_a = tree_checksums(a, settings.dev_data_dir)
    certificates_on_a = served_certificates(a, settings)
    link_on_a = a.ssh(f"readlink {settings.tls_certificate}").stdout.strip()
    assert link_on_a.endswith("fullchain3.pem"), "the stand-in, certbot's, then its renewal"
    a.down()

    started = time.monotonic()
    b.up()
    upstream = ("--data", f"dev_repo_url={b.upstream_url}")
    # The rebuild sequence, as written (docs/rebuild.sh) (the backup host's settings are the operator's group_data).
    [production_step, dev_step] = rebuild_sequence()
    with operators_link(b, rtt_ms, tmp_path) as (target, link):
        production = harness.deploy(b, *repository, *upstream, *production_step[1], deploy_file=production_step[0],
                                    env=target)
        assert production.returncode == 0, production.output[-6000:]
        assert "not rebuilt by production.py: qdrant.service" in production.output
        # certbot's state came back before nginx served: the same certificates, its symlinks kept.
        assert served_certificates(b, settings) == certificates_on_a
        to_tls = time.monotonic() - started
        production_round_trips = link.round_trips if link else 0
        assert b.ssh(f"readlink {settings.tls_certificate}").stdout.strip() == link_on_a
        roots = acme.roots()
        for name in certificates_on_a:
            assert "Verify return code: 0 (ok)" in served_chain_verifies(b, name, roots).stdout, f"{name}: not valid TLS"
        assert b.ssh(f"test -f /etc/letsencrypt/renewal/{settings.server_name}.conf").returncode == 0
        dev = harness.deploy(b, *repository, *upstream, *dev_step[1], deploy_file=dev_step[0], env=target)
        assert dev.returncode == 0, dev.output[-6000:]
        rto = time.monotonic() - started
        dev_round_trips = (link.round_trips if link else 0) - production_round_trips
    where = f"{rtt_ms} ms away" if rtt_ms else "direct"
    label = (f"RTO, blank host to the whole {layout} droplet ({where}): production with valid TLS / production and dev, "
             f"both data sets restored")
    figures[label] = (f"{to_tls:.1f} s / {rto:.1f} s" + (f"; round trips production.py {production_round_trips}, "
                                                          f"deploy.py {dev_round_trips}" if link else ""))
    print(f"{label}: {figures[label]}")

    assert production_checksums(b, settings) == production_on_a
    assert production_unit(b, settings) == unit_on_a, "production as the droplet had it"
    assert tree_checksums(b, settings.dev_data_dir) == dev_on_a
    assert harness.instances(b) == [survivor]
    # The services production.py names as not rebuilt are not there to check.
    for suite, data in (("tests/verify_production", ("production_other_units=[]",)), ("tests/verify", ())):
        done = harness.verify_suite(b, suite=suite, data=data)
        assert done.returncode == 0, done.stdout[-4000:]
