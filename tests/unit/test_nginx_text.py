"""nginx as it loads itself (nginx -T), read the way the deploy reads it."""
from tasks import nginx_text
from tests.unit.conftest import nginx_dump, rendered


def todays_dump() -> str:
    return nginx_dump({"smoothcurves-nexus": rendered("2026/smoothcurves-nexus.j2"),
                       "smoothcurves.art": rendered("2026/smoothcurves.art.j2")})


def test_servers_of_the_droplet_of_today():
    servers = nginx_text.servers_of_dump(todays_dump())
    nexus = nginx_text.serving(servers, "smoothcurves.nexus")
    art = nginx_text.serving(servers, "smoothcurves.art")
    assert nexus.file == "/etc/nginx/sites-enabled/smoothcurves-nexus" and 443 in nexus.ports()
    assert "/etc/nginx/claw-instances/*.conf" in nexus.includes
    assert art.file == "/etc/nginx/sites-enabled/smoothcurves.art" and "www.smoothcurves.art" in art.names
    assert [s.ports() for s in servers if s.file.endswith("nexus")] == [{80}, {443}, {8443}]


def test_the_default_443_server_is_the_first_read_unless_one_says_default_server():
    sites = {"smoothcurves-nexus": rendered("2026/smoothcurves-nexus.j2"),
             "smoothcurves.art": rendered("2026/smoothcurves.art.j2")}
    servers = nginx_text.servers_of_dump(nginx_dump(sites))
    assert nginx_text.default_server(servers).file.endswith("smoothcurves-nexus")
    art_first = nginx_text.servers_of_dump(nginx_dump(dict(reversed(sites.items()))))
    assert nginx_text.default_server(art_first).file.endswith("smoothcurves.art")
    marked = sites["smoothcurves.art"].replace("listen 443 ssl;", "listen 443 ssl default_server;")
    servers = nginx_text.servers_of_dump(nginx_dump({"smoothcurves-nexus": sites["smoothcurves-nexus"],
                                                     "smoothcurves.art": marked}))
    assert nginx_text.default_server(servers).file.endswith("smoothcurves.art")
    assert nginx_text.serving(servers, "unknown.example").file.endswith("smoothcurves.art")


def test_upstream_server_lines_are_not_server_blocks():
    dump = nginx_dump({"x": "upstream app {\n    server 127.0.0.1:3444;\n}\nserver {\n    listen 443 ssl;\n}\n"})
    assert [s.line for s in nginx_text.servers_of_dump(dump)] == [4]


def test_the_include_goes_after_the_tls_server_name_and_hand_made_blocks_are_found():
    lines = rendered("2026/smoothcurves-nexus.j2").splitlines()
    number = nginx_text.tls_server_name_line(lines, "smoothcurves.nexus")
    assert lines[number - 1].strip() == "server_name smoothcurves.nexus;"
    assert ":443 ssl" in lines[number - 2]
    assert nginx_text.dev_locations(lines, "/mcp/dev") == []
    with_block = [*lines[:number], "    location /mcp/dev/ {", "        proxy_pass http://localhost:3446/;", "    }",
                  *lines[number:]]
    assert nginx_text.dev_locations(with_block, "/mcp/dev") == [(number + 1, number + 3)]
    assert nginx_text.not_a_simple_proxy(with_block, (number + 1, number + 3), 3446) is None
    assert "does not proxy to the dev port 3447" in nginx_text.not_a_simple_proxy(with_block, (number + 1, number + 3), 3447)
