import json


def get(host, url, *curl_args):
    return json.loads(host.check_output(f"curl -sk --max-time 5 {' '.join(curl_args)} {url}"))


def test_direct_health_is_the_dev_port(host, settings):
    health = get(host, f"http://{settings.dev_listen_address}:{settings.dev_port}/health")
    assert (health["status"], health["port"]) == ("healthy", str(settings.dev_port))


def test_health_through_nginx_is_the_dev_port(host, settings):
    health = get(host, f"https://{settings.server_name}{settings.dev_url_path}/health",
                 f"--resolve {settings.server_name}:443:127.0.0.1")
    assert (health["status"], health["port"]) == ("healthy", str(settings.dev_port))


def test_server_really_works_on_the_dev_data(host, settings):
    """get_server_status is "operational" only when the server really works; read-only, so safe live."""
    call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "get_server_status", "arguments": {}}})
    reply = json.loads(host.check_output(
        f"curl -s -X POST -H 'Content-Type: application/json' "
        f"http://{settings.dev_listen_address}:{settings.dev_port}/mcp -d '{call}'"))
    status = json.loads(reply["result"]["content"][0]["text"])
    assert status["status"] == "operational"


def test_the_running_server_recorded_the_commit_it_serves(host, settings):
    """/health names no commit; the unit records the one each run started on."""
    recorded = host.file(f"{settings.dev_runtime_dir}/commit").content_string.strip()
    assert recorded == host.check_output(f"runuser -u {settings.dev_user} -- git -C {settings.dev_checkout} rev-parse HEAD")
