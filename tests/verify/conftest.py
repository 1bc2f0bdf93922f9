"""The testinfra suite: read-only checks that a host matches the dev environment, one module per
task. Safe against the live droplet:
    pytest tests/verify --hosts=ssh://root@159.223.206.138
"""
