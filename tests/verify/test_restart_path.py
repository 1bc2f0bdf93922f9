def test_scripts_are_root_owned_and_executable(host, settings):
    for path in (settings.dev_restart_script, settings.dev_update_script):
        script = host.file(path)
        assert script.exists, path
        assert (script.user, script.group, script.mode) == ("root", "root", 0o755), path


def test_service_user_cannot_change_the_scripts(host, settings):
    for path in (settings.dev_restart_script, settings.dev_update_script):
        assert host.run(f"runuser -u {settings.dev_user} -- test -w {path}").rc != 0, path


def test_only_sudo_rule_is_the_restart_script_without_arguments(host, settings):
    rule = host.file(f"/etc/sudoers.d/{settings.dev_user}")
    assert (rule.user, rule.mode) == ("root", 0o440)
    listing = host.check_output(f"sudo -l -U {settings.dev_user}")
    rules = listing.split("may run the following commands")[1].split("\n", 1)[1]
    allowed = [line.strip() for line in rules.splitlines() if line.strip()]
    assert allowed == [f'(root) NOPASSWD: {settings.dev_restart_script} ""']
