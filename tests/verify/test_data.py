def test_data_directory_is_private_to_the_service_user(host, settings):
    data = host.file(settings.dev_data_dir)
    assert data.is_directory
    assert (data.user, data.group, data.mode) == (settings.dev_user, settings.dev_user, 0o750)


def test_secrets_file_is_0600_and_the_service_users(host, settings):
    secrets = host.file(settings.dev_env_file)
    assert secrets.is_file
    assert (secrets.user, secrets.mode) == (settings.dev_user, 0o600)
