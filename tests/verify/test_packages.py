def test_distribution_packages_are_installed(host, settings):
    missing = [name for name in settings.dev_packages if not host.package(name).is_installed]
    assert not missing, f"not installed: {missing}"


def test_node_runs(host):
    assert host.run("node --version").rc == 0
