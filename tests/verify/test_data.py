def test_data_directory_is_private_to_the_service_user(host, settings):
    data = host.file(settings.dev_data_dir)
    assert data.is_directory
    assert (data.user, data.group, data.mode) == (settings.dev_user, settings.dev_user, 0o750)


def test_secrets_file_is_0600_and_roots_so_no_commit_changes_it(host, settings):
    """systemd reads it for the unit; the service user neither reads nor writes it."""
    secrets = host.file(settings.dev_env_file)
    assert secrets.is_file
    assert (secrets.user, secrets.mode) == ("root", 0o600)


def test_the_hub_secret_is_roots_and_the_service_user_only_reads_it(host, settings):
    secret = host.file(settings.dev_hub_secret_file)
    assert (secret.user, secret.group, secret.mode) == ("root", settings.dev_user, 0o640)
    assert len(secret.content_string.strip()) == 64
