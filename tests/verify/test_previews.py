"""The previews' machinery on a deployed host (tasks/previews.py): the reconcile waits for deliveries and its
timer, its program is root's, and every unit that runs a preview's code is as confined as the dev server's."""
from tests.verify.test_service import exposure

PROBE = "verify-probe"  # an instance name systemd-analyze loads the templates with; nothing is started


def test_the_reconcile_waits_for_deliveries_and_its_timer(host, settings):
    for kind in ("path", "timer"):
        unit = host.service(f"{settings.preview_reconcile_unit}.{kind}")
        assert unit.is_enabled and unit.is_running, kind


def test_the_previews_program_is_roots(host, settings):
    script = host.file(settings.preview_script)
    assert (script.user, script.group, script.mode) == ("root", "root", 0o755)
    assert host.run(f"runuser -u {settings.dev_user} -- test -w {settings.preview_script}").rc != 0


def test_what_runs_a_previews_code_is_confined_as_the_dev_servers(host, settings):
    unit = settings.preview_unit
    for name in (f"{unit}@{PROBE}.service", f"{unit}-install@{PROBE}.service", f"{unit}-fetch@{PROBE}.service",
                 f"{unit}-door@{PROBE}.service"):
        assert exposure(host, name) <= 2.0, name
    assert exposure(host, f"{settings.preview_reconcile_unit}.service") <= 6.0
