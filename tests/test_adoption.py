"""The live droplet is not blank: the diary's hand-made dev setup is there. The first deploy must
name what stands in its way, touch nothing, and converge once a human cleared it."""
from tests import harness

HAND_MADE_LOCATION = """    location /mcp/dev/ {
        proxy_pass http://localhost:3446/;
        proxy_http_version 1.1;
    }

"""


def test_the_diarys_hand_made_setup_is_named_then_adopted(pristine, settings):
    site, checkout = settings.production_nginx_site, settings.dev_checkout
    # What the diary did by hand: a root clone of v2 with its own hook, an old dev server started
    # from production's directory, and a /mcp/dev/ location written into production's site.
    pristine.ssh(f"git clone -q --branch {settings.dev_branch} {pristine.upstream_url} {checkout} && "
                 f"printf '#!/bin/sh\\n./scripts/restart-dev-server.sh\\n' > {checkout}/.git/hooks/post-merge && "
                 f"chmod +x {checkout}/.git/hooks/post-merge")
    pristine.ssh(f"cd {settings.production_checkout} && SSE_PORT={settings.dev_port} NODE_ENV=development "
                 f"setsid -f node src/streamable-http-server.js >/dev/null 2>&1 </dev/null; sleep 1")
    original_site = pristine.ssh(f"cat {site}").stdout
    with_block = original_site.replace("    location /mcp {", HAND_MADE_LOCATION + "    location /mcp {", 1)
    pristine.ssh(f"cat > {site} <<'EOF'\n{with_block}EOF\nnginx -t -q && systemctl reload nginx")

    run = harness.deploy(pristine)
    assert run.returncode != 0
    problems = run.stderr.split("nothing on the host was changed:\n", 1)[1]
    assert f"production_nginx_site: {site} already has a location for {settings.dev_url_path} (line" in problems
    assert "command: node src/streamable-http-server.js" in problems
    assert f"cwd {settings.production_checkout}" in problems
    assert pristine.ssh(f"cat {site}").stdout == with_block

    # The operator removes the hand-made block, as the message says, and lets the deploy stop the orphan.
    pristine.ssh(f"cat > {site} <<'EOF'\n{original_site}EOF\nnginx -t -q && systemctl reload nginx")
    run = harness.deploy(pristine, "--data", "dev_stop_orphans=True")
    assert run.returncode == 0, run.output[-5000:]
    assert pristine.ssh(f"stat -c %U {checkout}/.git/config").stdout.strip() == settings.dev_user
    assert settings.dev_restart_script in pristine.ssh(f"cat {checkout}/.git/hooks/post-merge").stdout
    suite = harness.verify_suite(pristine)
    assert suite.returncode == 0, suite.stdout[-3000:]
    assert harness.deploy(pristine).changed == []
