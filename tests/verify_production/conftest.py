"""The read-only check of the live production: the drift report an operator can run at any time.

    pytest tests/verify_production --hosts=ssh://root@159.223.206.138

Every check only reads (files, systemd, sockets, `nginx -t`, HTTPS requests to /health and to the
static site): nothing is written, started, stopped or reloaded. Without --hosts it checks the
deployed sandbox, whose production is the baseline fixture.
"""
