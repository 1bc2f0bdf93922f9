import re

import pytest


def show(host, settings, prop):
    return host.check_output(f"systemctl show -p {prop} --value {settings.dev_unit}")


def test_the_dev_server_is_not_production(host, settings, production_on_host):
    """Another process, another checkout, another data root than the production the host runs."""
    assert show(host, settings, "MainPID") not in ("0", production_on_host.pid)
    assert show(host, settings, "WorkingDirectory") != production_on_host.checkout
    environment = show(host, settings, "Environment").split()
    assert f"V2_DATA_ROOT={production_on_host.data_root}/" not in environment


def test_unit_is_enabled_and_running(host, settings):
    service = host.service(settings.dev_unit)
    assert service.is_enabled
    assert service.is_running, host.run(
        f"systemctl --no-pager status {settings.dev_unit}; journalctl --no-pager -n 40 -u {settings.dev_unit}").stdout


def test_runs_as_the_service_user(host, settings):
    assert show(host, settings, "User") == settings.dev_user
    pid = show(host, settings, "MainPID")
    assert host.check_output(f"ps -o user= -p {pid}") == settings.dev_user


def test_environment_points_at_dev_port_and_data(host, settings):
    env = show(host, settings, "Environment").split()
    assert f"SSE_PORT={settings.dev_port}" in env
    assert f"SSE_HOST={settings.dev_listen_address}" in env
    assert "NODE_ENV=development" in env
    assert f"V2_DATA_ROOT={settings.dev_data_dir}/" in env
    assert show(host, settings, "WorkingDirectory") == settings.dev_checkout


def exposure(host, unit: str) -> float:
    """systemd's own exposure score of a unit (0 confined .. 10 unconfined)."""
    out = host.check_output(f"systemd-analyze security --no-pager {unit}")
    return float(re.search(r"Overall exposure level for \S+: ([0-9.]+)", out).group(1))


def test_the_dev_server_is_confined(host, settings):
    assert exposure(host, settings.dev_unit) <= 4.0


@pytest.mark.parametrize("prop, value", [
    ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
    ("ProtectHome", "yes"), ("Restart", "on-failure"), ("UMask", "0027"), ("CapabilityBoundingSet", ""),
])
def test_hardening(host, settings, prop, value):
    assert show(host, settings, prop) == value


def test_writes_only_what_the_app_writes_of_its_checkout_and_the_data(host, settings):
    """Never its code, its .git (which git reads as the checkout's owner) nor node_modules."""
    writes = [f"{settings.dev_checkout}/{name}" for name in settings.dev_app_writes]
    assert show(host, settings, "ReadWritePaths").split() == [*writes, settings.dev_data_dir]
    pid = show(host, settings, "MainPID")
    tried = host.run(f"nsenter -t {pid} -m setpriv --reuid={settings.dev_user} --regid={settings.dev_user} --clear-groups "
                     f"touch {settings.dev_checkout}/.git/config {settings.dev_checkout}/package.json 2>&1")
    assert tried.rc != 0 and tried.stdout.count("Read-only file system") == 2, tried.stdout


def test_production_is_not_in_its_world(host, settings, production_on_host):
    """Its own mount namespace: /mnt an empty tmpfs but for the dev data where the app's code looks."""
    pid = show(host, settings, "MainPID")
    root = settings.app_hardcoded_root
    seen = host.check_output(f"nsenter -t {pid} -m ls -A /mnt {root}").split()
    assert production_on_host.checkout.rsplit("/", 1)[1] not in seen
    inside = {path.rsplit("/", 1)[1] for path in (settings.dev_checkout, settings.dev_data_dir) if path.startswith(root + "/")}
    if inside:  # the diary's droplet: the dev paths are on the volume, and nothing else of it is there
        assert set(host.check_output(f"nsenter -t {pid} -m ls -A {root}").split()) == inside
    else:  # today's: the app's own root is the dev data
        assert host.check_output(f"nsenter -t {pid} -m stat -c %i {root}") == \
            host.check_output(f"stat -c %i {settings.dev_data_dir}")


def test_it_has_a_network_of_its_own_and_one_door(host, settings):
    pid = show(host, settings, "MainPID")
    assert host.check_output(f"readlink /proc/{pid}/ns/net") != host.check_output("readlink /proc/1/ns/net")
    door = host.service(f"{settings.dev_proxy_unit}.socket")
    assert door.is_enabled and door.is_running
    assert exposure(host, f"{settings.dev_proxy_unit}.service") <= 4.0


def test_it_is_the_kernels_first_choice_and_last_in_line(host, settings):
    pid = show(host, settings, "MainPID")
    assert host.file(f"/proc/{pid}/oom_score_adj").content_string.strip() == str(settings.dev_oom_score_adjust)
    assert host.check_output(f"ps -o cls= -p {pid}") == "IDL"
    assert show(host, settings, "LimitNPROC") == str(settings.dev_process_limit)


def test_every_dev_process_runs_on_the_dev_cpus_alone(host, settings):
    if settings.dev_cpus is None:
        pytest.skip("dev_cpus=None: dev may run on any CPU")
    allowed = host.check_output(f"for p in $(pgrep -u {settings.dev_user}); do "
                                f"grep -h Cpus_allowed_list /proc/$p/status; done 2>/dev/null | sort -u")
    assert allowed.split() == ["Cpus_allowed_list:", str(settings.dev_cpus)], allowed + host.check_output(
        f"ps -u {settings.dev_user} -o pid=,psr=,etimes=,unit=,args= || true")


def test_listens_on_loopback_only(host, settings):
    assert host.socket(f"tcp://{settings.dev_listen_address}:{settings.dev_port}").is_listening
    assert not host.socket(f"tcp://0.0.0.0:{settings.dev_port}").is_listening
    assert not host.socket(f"tcp://:::{settings.dev_port}").is_listening
