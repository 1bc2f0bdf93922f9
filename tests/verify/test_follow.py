from tests.verify.test_service import exposure


def test_follow_timer_is_enabled_and_waiting(host, settings):
    timer = host.service(f"{settings.dev_follow_unit}.timer")
    assert timer.is_enabled
    assert timer.is_running


def test_follow_script_is_root_owned(host, settings):
    script = host.file(settings.dev_follow_script)
    assert (script.user, script.group, script.mode) == ("root", "root", 0o755)
    assert host.run(f"runuser -u {settings.dev_user} -- test -w {settings.dev_follow_script}").rc != 0


def test_the_root_oneshot_is_confined(host, settings):
    assert exposure(host, f"{settings.dev_follow_unit}.service") <= 6.0
