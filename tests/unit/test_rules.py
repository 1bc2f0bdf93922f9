"""Every refusal that needs no host: one line, naming the setting, before pyinfra connects anywhere."""
import pytest

from tasks import backup_rules, production_rules, rules
from tasks.production_view import Production
from tests.settings import load, parse_value

VOLUME = "/mnt/coordinaton_mcp_data"


def settings_problems(d) -> list[str]:
    """Every refusal of the settings alone, as preflight asks them."""
    return rules.settings_problems(d) + backup_rules.backup_settings_problems(d)


BAD_SETTINGS = [
    ("dev_port=3444", "dev_port=3444: that is production's port (production_port); choose another"),
    ("dev_port=99999", "dev_port=99999: not a TCP port"),
    ("dev_port=http", "dev_port='http': not a TCP port"),
    ("dev_data_dir=v2-dev-data", "dev_data_dir=v2-dev-data: a relative path; give an absolute one"),
    ("dev_backups_dir=/srv/hacs-dev/data", "dev_backups_dir=/srv/hacs-dev/data: the same path as dev_data_dir"),
    ("dev_unit=mcp-coordination", "dev_unit=mcp-coordination: that is production's unit"),
    ("dev_user=root", "dev_user=root: the dev server must not run as root"),
    ('dev_extra_environment={"V2_DATA_ROOT": "/mnt/coordinaton_mcp_data/"}',
     "dev_extra_environment V2_DATA_ROOT=/mnt/coordinaton_mcp_data/: outside dev_data_dir"),
    ('dev_extra_environment={"SSE_PORT": "3444"}', "dev_extra_environment SSE_PORT=3444: set by dev_port"),
    ('dev_extra_environment={"LOG_LEVEL": "debug\\"\\nExecStartPre=/bin/sh"}',
     "dev_extra_environment 'LOG_LEVEL'='debug\"\\nExecStartPre=/bin/sh': not a plain NAME=value for the unit"),
    ('dev_extra_environment={"HOME": "%h"}', "dev_extra_environment 'HOME'='%h': not a plain NAME=value"),
    ('dev_extra_environment={"A B": "1"}', "dev_extra_environment 'A B'='1': not a plain NAME=value"),
    ("dev_listen_address=0.0.0.0", "dev_listen_address=0.0.0.0: exposes the unauthenticated dev server"),
    ("dev_listen_address=localhost", "dev_listen_address=localhost: not an IP address"),
    ("server_name=smoothcurves nexus", "server_name='smoothcurves nexus': not a host name"),
    ("dev_url_path=/mcp/dev/", "dev_url_path='/mcp/dev/': give a path like /mcp/dev"),
    ("dev_branch=bad..name", "dev_branch='bad..name': not a valid branch name"),
    ('production_leftovers=["v2-dev"]', "production_leftovers=['v2-dev']: give a list of absolute paths"),
    ("dev_catalog_source=files/no-such-catalog", "dev_catalog_source=files/no-such-catalog: no such folder in this project"),
    ("dev_runtime_dir=/var/run-hacs", "dev_runtime_dir='/var/run-hacs': give /run/NAME"),
    ("dev_local_changes=keep", "dev_local_changes='keep': use stash or fail"),
    ("dev_dependencies_lock_wait_seconds=15m", "dev_dependencies_lock_wait_seconds='15m': give a whole number of "
                                               "seconds, at least 1"),
    ("dev_health_timeout_seconds=0", "dev_health_timeout_seconds=0: give a whole number of seconds"),
    ("dev_install_timeout_seconds=5m", "dev_install_timeout_seconds='5m': give a whole number of seconds, at least 1"),
    ("dev_cpus=second", "dev_cpus='second': not a CPU list"),
    ("dev_cpus=3-1", "dev_cpus='3-1': not a CPU list"),
    ("dev_cpus=None", "dev_cpus='None': not a CPU list; give systemd's syntax (e.g. 1 or 2-3), or None (null with --data)"),
    ('preview_branches=["v2-[a]*"]', "preview_branches=['v2-[a]*']: give a list of branch globs"),
    ("preview_branches=v2-*", "preview_branches='v2-*': give a list of branch globs"),
    ("preview_url_path=/mcp/dev/previews", "preview_url_path=/mcp/dev/previews: inside or around dev_url_path"),
    ("preview_root=/srv/hacs-dev/previews", "preview_root=/srv/hacs-dev/previews: give an absolute path outside dev_home"),
    ("preview_max=two", "preview_max='two': give a whole number, at least 0"),
    ("preview_idle_seconds=0", "preview_idle_seconds=0: give a whole number, at least 1"),
    ("preview_ttl_days=0", "preview_ttl_days=0: give a number of days above 0"),
    ("preview_check_command=npm test 100%", "preview_check_command='npm test 100%': give one command line without quotes"),
    ("backup_repository=ftp://backup-host/restic", "backup_repository='ftp://backup-host/restic': not a restic repository"),
    ("backup_repository=/srv/hacs-dev/data/restic", "backup_repository=/srv/hacs-dev/data/restic: overlaps dev_data_dir"),
    ("backup_ssh_key=no-such-key", "backup_ssh_key=no-such-key: no such file on this machine"),
    ('dev_backup_retention={"forever": 1}', "dev_backup_retention={'forever': 1}: give counts for restic forget"),
    ("dev_backup_check_read_data=all", "dev_backup_check_read_data='all': give a share restic check reads"),
    ("backup_append_only=True", "backup_append_only=True: needs an sftp backup_repository with its user"),
    ("restore_from=yesterday", "restore_from=yesterday: not a snapshot and no such file on this machine"),
    ("production_restore_from=yesterday", "production_restore_from=yesterday: give latest or a snapshot id"),
    ("restore_from=01234567", "restore_from=1234567: pyinfra's --data read this snapshot id as a number and may "
                              "have changed it (a leading 0, an e); quote it as JSON: --data 'restore_from=\"ID\"'"),
    ("production_restore_from=12345e67", "production_restore_from=1.2345e+71: pyinfra's --data read this snapshot id"),
]


@pytest.mark.parametrize("setting, message", BAD_SETTINGS, ids=[s for s, _ in BAD_SETTINGS])
def test_a_bad_setting_gets_one_line_naming_it(setting, message):
    key, value = setting.split("=", 1)
    problems = settings_problems(load({key: parse_value(value)}))
    assert len(problems) == 1 and problems[0].startswith(message), problems


@pytest.mark.parametrize("typed", ["53949330", "5394933053949330539493305394933053949330539493305394933053949330",
                                   '"01234567"', "latest", "5a1e0f3c"])
def test_a_snapshot_id_is_taken_as_typed_even_when_pyinfra_reads_digits_as_a_number(typed):
    """A restic id of digits alone (one in forty short ids) reaches bastion as an int: the restore of such a
    snapshot crashed on its second run."""
    for key in ("restore_from", "production_restore_from"):
        d = load({key: parse_value(typed)})
        assert settings_problems(d) == [] and backup_rules.restore_is_snapshot(getattr(d, key))
        assert backup_rules.snapshot_text(getattr(d, key)) == typed.strip('"')


def test_a_setting_is_unset_from_the_command_line_as_its_message_says():
    assert settings_problems(load({"dev_cpus": parse_value("null")})) == []


def test_the_defaults_pass():
    assert settings_problems(load()) == []


def test_dev_cpus_read_as_systemd_reads_them():
    assert rules.cpu_list("1") == {1} and rules.cpu_list("0 2") == {0, 2} and rules.cpu_list("2-3,5") == {2, 3, 5}


@pytest.mark.parametrize("value, online, message", [
    ("1", 1, "dev_cpus=1: the host has 1 CPU(s) (0-0); name one it has (None (null with --data) on a one-core host)"),
    ("0-1", 2, "dev_cpus=0-1: that is every CPU of the host, none left to production alone; name fewer (e.g. 1)"),
    ("4", 4, "dev_cpus=4: the host has 4 CPU(s) (0-3); name one it has (e.g. 3)"),
])
def test_dev_cpus_that_the_host_lacks_or_that_leave_production_none_are_refused(value, online, message):
    assert rules.cpu_problems(load({"dev_cpus": value}), online) == [message]


def test_the_default_cpus_fit_the_droplet_and_none_fits_any_host():
    assert rules.cpu_problems(load(), 2) == [] and rules.cpu_problems(load({"dev_cpus": None}), 1) == []


def production_of_today(**changes) -> Production:
    view = Production(unit="mcp-coordination.service", found=True, checkout=f"{VOLUME}/Human-Adjacent-Coordination",
                      data_root=VOLUME, secrets_file=f"{VOLUME}/Human-Adjacent-Coordination/secrets.env",
                      leftovers=[f"{VOLUME}/v2-dev", f"{VOLUME}/v2-dev-data", f"{VOLUME}/production-data"])
    for key, value in changes.items():
        setattr(view, key, value)
    return view


OVERLAPS = [
    (f"dev_checkout={VOLUME}/v2-dev",
     f"dev_checkout={VOLUME}/v2-dev: lies inside production's production_data_dir ({VOLUME}), is the leftover "
     f"{VOLUME}/v2-dev (production_leftovers: never bastion's); choose a path outside production, e.g. /srv/hacs-dev/checkout"),
    (f"dev_data_dir={VOLUME}/dev-data", f"dev_data_dir={VOLUME}/dev-data: lies inside production's production_data_dir"),
    ("dev_data_dir=/mnt", "dev_data_dir=/mnt: contains production's production_checkout"),
    (f"dev_env_file={VOLUME}/Human-Adjacent-Coordination/secrets.env",
     f"dev_env_file={VOLUME}/Human-Adjacent-Coordination/secrets.env: lies inside production's production_checkout"),
    (f"backup_repository={VOLUME}/restic", f"backup_repository={VOLUME}/restic: lies inside production's production_data_dir"),
]


@pytest.mark.parametrize("setting, message", OVERLAPS, ids=[s for s, _ in OVERLAPS])
def test_a_dev_path_in_production_or_a_leftover_is_refused_naming_both(setting, message):
    key, value = setting.split("=", 1)
    [problem] = production_rules.production_overlaps(load({key: value}), production_of_today())
    assert problem.startswith(message), problem


def test_the_default_dev_paths_lie_outside_todays_production():
    assert production_rules.production_overlaps(load(), production_of_today()) == []


def test_settings_of_v1_still_guard_v1s_paths_on_a_host_of_today():
    """Expected paths the host does not show count too: a V1 production_data_dir keeps dev out of it."""
    s = load({"production_data_dir": f"{VOLUME}/production-data", "dev_data_dir": f"{VOLUME}/production-data/dev"})
    [problem] = production_rules.production_overlaps(s, production_of_today())
    assert f"lies inside production_data_dir ({VOLUME}/production-data)" in problem


def test_a_foreign_directory_gets_a_safe_choice_never_move_it_away(today):
    states = {"dev_checkout": {"exists": "yes", "owner": "root"},
              "dev_data_dir": {"exists": "yes", "owner": "1234"}}
    [checkout, data] = production_rules.foreign_directory_problems(today, states)
    assert checkout.startswith(f"dev_checkout={today.dev_checkout}: exists, holds files and is not a git checkout")
    assert checkout.endswith("e.g. /srv/hacs-dev/checkout") and "move it away" not in checkout
    assert data.startswith(f"dev_data_dir={today.dev_data_dir}: exists, holds files of 1234 and is not bastion's")
    mine = {"dev_checkout": {"exists": "yes", "git": "yes"}, "dev_data_dir": {"exists": "yes", "owner": "hacs-dev"}}
    assert production_rules.foreign_directory_problems(today, mine) == []


HAND_MADE = """server {
    listen 443 ssl;
    server_name smoothcurves.nexus;
    location /mcp/dev/ {
        proxy_pass http://localhost:3446/;
        proxy_http_version 1.1;
    }
}""".splitlines()


def test_a_hand_made_dev_location_is_named_and_adopted_only_when_told(diary):
    [line] = production_rules.site_problems(diary, "/etc/nginx/sites-available/smoothcurves-nexus", HAND_MADE)
    assert "already has a location for /mcp/dev (line 4), made by hand; rerun with --data adopt=True" in line
    assert production_rules.site_problems(load({"adopt": True}), "site", HAND_MADE) == []
    fancy = [*HAND_MADE[:5], '        auth_basic "team";', *HAND_MADE[5:]]
    [line] = production_rules.site_problems(load({"adopt": True}), "site", fancy)
    assert "that is not the simple hand-made proxy: it also has `auth_basic \"team\"`" in line


def test_refuse_prints_one_line_each_and_stops(capsys):
    with pytest.raises(rules.Refused):
        rules.refuse("sandbox", ["one: wrong; fix it", "two: wrong; fix it"])
    err = capsys.readouterr().err
    assert "preflight on sandbox: 2 problem(s); nothing on the host was changed:\n  one: wrong; fix it\n  two" in err
    rules.refuse("sandbox", [])


def test_the_backup_host_playbook_names_what_it_lacks(tmp_path):
    key = tmp_path / "key"
    key.write_text("not checked here")
    assert backup_rules.backup_host_settings_problems(load()) == [
        "backup_repository='/var/backups/bastion/restic': backup_host.py keeps an sftp repository; give "
        "sftp:USER@backup-host:/path (the user and path it sets up on this host)"]
    sftp = {"backup_repository": "sftp:restic@vault:/srv/restic/droplet"}
    assert backup_rules.backup_host_settings_problems(load(sftp))[0].startswith("backup_ssh_key=None: backup_host.py forces")
    assert backup_rules.backup_host_settings_problems(load({**sftp, "backup_ssh_key": str(key)})) == []
    assert backup_rules.sftp_target("sftp://restic@vault:2222/srv/restic/droplet") == {
        "login": "restic@vault", "port": "2222", "path": "/srv/restic/droplet", "user": "restic"}


def test_the_acme_settings_are_checked_before_production_py_changes_anything():
    assert rules.tls_settings_problems(load()) == []
    assert rules.tls_settings_problems(load({"production_acme_server": "http://ca/dir"}))[0].startswith(
        "production_acme_server='http://ca/dir': give an ACME directory URL")
    assert rules.tls_settings_problems(load({"production_acme_ca_bundle": "no-such-ca.pem"})) == [
        "production_acme_ca_bundle=no-such-ca.pem: no such file on this machine; give the CA file, or None (null with --data)"]


@pytest.mark.parametrize("data, message", [
    ({}, "token_issue, token_revoke: name exactly one person"),
    ({"token_issue": "lupo", "token_revoke": "lupo"}, "token_issue, token_revoke: name exactly one person"),
    ({"token_issue": "Lupo Grigio"}, "token_issue='Lupo Grigio': give a name of lowercase letters"),
    ({"token_revoke": "bastion"}, "token_revoke='bastion': give a name"),
    ({"token_issue": "x;y"}, "token_issue='x;y': give a name"),
])
def test_a_token_request_names_one_person_the_map_takes_as_it_is(data, message):
    problems = rules.token_request_problems(load(data))
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_a_good_token_request_passes():
    assert rules.token_request_problems(load({"token_issue": "lupo.grigio-2"})) == []


def test_the_backup_hosts_schedules_are_lines_of_its_units_too(today):
    host = today.__class__(**{**vars(today), "backup_repository": "sftp:restic@vault:/srv/restic/droplet",
                              "backup_ssh_key": "backups/droplet-backup-key"})
    assert [p for p in backup_rules.backup_host_settings_problems(host) if "schedule" in p] == []
    bad = host.__class__(**{**vars(host), "backup_host_prune_schedule": "daily\nExecStart=/bin/evil"})
    assert [p.split(":", 1)[0] for p in backup_rules.backup_host_settings_problems(bad) if "schedule" in p] == [
        "backup_host_prune_schedule='daily\\nExecStart=/bin/evil'"]
    [line] = backup_rules.schedule_problems(host, [True, False], backup_rules.BACKUP_HOST_SCHEDULES)
    assert line.startswith("backup_host_check_schedule=daily: the host's systemd cannot read it as a calendar")


def test_a_schedule_is_one_line_of_a_unit_and_one_the_hosts_systemd_reads(today):
    bad = today.__class__(**{**vars(today), "dev_backup_schedule": "hourly\nExecStart=/bin/evil",
                             "production_backup_schedule": "", "dev_backup_check_schedule": "*-*-%d"})
    assert [line.split(":", 1)[0] for line in backup_rules.backup_settings_problems(bad)[:3]] == [
        "dev_backup_schedule='hourly\\nExecStart=/bin/evil'", "production_backup_schedule=''",
        "dev_backup_check_schedule='*-*-%d'"]
    assert backup_rules.schedule_problems(today, [True, True, True]) == []
    assert backup_rules.schedule_problems(today, []) == [], "no systemd-analyze on the host: nothing to say"
    [line] = backup_rules.schedule_problems(today, [True, False, True])
    assert line == (f"production_backup_schedule={today.production_backup_schedule}: the host's systemd cannot read it "
                    "as a calendar (systemd-analyze calendar refuses it); give systemd's OnCalendar= syntax, e.g. "
                    "hourly, daily or *:0/15")
