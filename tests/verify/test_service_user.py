def test_service_user_is_an_unprivileged_system_user(host, settings):
    user = host.user(settings.dev_user)
    assert user.exists
    assert 0 < user.uid < 1000, "a system user"
    assert user.shell in ("/usr/sbin/nologin", "/bin/false")
    assert not {"sudo", "root", "adm", "wheel"} & set(user.groups)
