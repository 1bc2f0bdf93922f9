def test_installed_dependencies_match_the_lock_file(host, settings):
    lock = host.check_output(f"sha256sum {settings.dev_checkout}/package-lock.json").split()[0]
    marker = host.file(f"{settings.dev_checkout}/node_modules/.bastion-lock.sha256")
    assert marker.exists, "npm ci never completed"
    assert marker.content_string.strip() == lock
