import json


def test_configuration_passes_nginx_t(host):
    assert host.run("nginx -t").rc == 0


def test_the_snippet_is_included_exactly_once(host, settings):
    """Into production's site where it exists; else into the dev site of its own (a new droplet)."""
    production = host.file(settings.production_nginx_site)
    site = production if production.exists else host.file(settings.dev_nginx_site)
    if not production.exists:
        assert host.file(f"/etc/nginx/sites-enabled/{settings.dev_nginx_site.rsplit('/', 1)[1]}").linked_to == site.path
    lines = site.content_string.splitlines()
    includes = [line for line in lines if line.strip() == f"include {settings.dev_nginx_snippet};"]
    assert len(includes) == 1
    assert not (production.exists and host.file(settings.dev_nginx_site).exists), "one site serves server_name"


def test_snippet_proxies_to_the_dev_port_with_streaming_settings(host, settings):
    snippet = host.file(settings.dev_nginx_snippet).content_string
    assert f"location = {settings.dev_url_path} " in snippet
    assert f"location {settings.dev_url_path}/ " in snippet
    assert f"proxy_pass http://{settings.dev_listen_address}:{settings.dev_port}/;" in snippet
    for setting in ("proxy_http_version 1.1;", "proxy_set_header Connection '';", "proxy_buffering off;",
                    "proxy_cache off;", "proxy_read_timeout", "proxy_send_timeout", "X-Forwarded-For"):
        assert setting in snippet, setting


def test_bare_path_takes_a_post_without_redirect(host, settings):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    out = host.check_output(
        f"curl -sk -o - -w '\\n%{{http_code}}' -X POST -H 'Content-Type: application/json' "
        f"-H @{settings.dev_door_bastion_header} "
        f"--resolve {settings.server_name}:443:127.0.0.1 https://{settings.server_name}{settings.dev_url_path} "
        f"-d '{body}'")
    reply, code = out.rsplit("\n", 1)
    assert code == "200"
    assert json.loads(reply)["result"]["tools"]
