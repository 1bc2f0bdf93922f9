"""The door (tasks/door.py, tokens.py): on today's droplet with the real main as dev, nothing of the dev
environment is served without a token of the team's; a token is issued once, kept only as a digest, and
revoked; the team's own stdio client works with its token; a flood of refusals is cut short."""
import json
import re
import shlex
from pathlib import Path

import pytest

from tests import harness

PROBE = Path(__file__).parent / "probes" / "mcp_stdio.py"
TOOLS_LIST = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})


@pytest.fixture(scope="module")
def sb(deployed_2026):
    return deployed_2026


def request(sb, path: str = "", *options: str, source: str = "127.0.0.1", post: bool = True) -> tuple[int, str]:
    """A POST of tools/list (or a GET) to dev_url_path + path through nginx: (status, body)."""
    s = sb.settings
    body = f"-H 'Content-Type: application/json' -d {shlex.quote(TOOLS_LIST)}" if post else ""
    out = sb.ssh(f"curl -sk -o - -w '\\n%{{http_code}}' --resolve {s.server_name}:443:{source} {body} "
                 f"{' '.join(options)} https://{s.server_name}{s.dev_url_path}{path}").stdout
    body, _, code = out.rpartition("\n")
    return int(code), body


def issued(sb, name: str) -> str:
    run = harness.deploy(sb, "--data", f"token_issue={name}", deploy_file="tokens.py")
    assert run.returncode == 0, run.output[-3000:]
    found = re.findall(rf"token for {name} \(shown once.*?\): (mcp_access_token_[A-Za-z0-9_-]+)", run.stdout)
    assert len(found) == 1, run.output[-3000:]
    # nginx takes a reload in as its master gets to it: the run may end a moment before.
    harness.wait_until(lambda: request(sb, "", "-H", bearer(found[0]))[0] == 200, 10, f"{name}'s new token served")
    return found[0]


def bearer(token: str) -> str:
    return shlex.quote(f"Authorization: Bearer {token}")


def test_without_a_valid_token_the_door_answers_401_in_one_line(sb):
    s = sb.settings
    for options in ((), ("-H", bearer("mcp_access_token_guessed")), ("-H", bearer("")), ("-u", "lupo:secret")):
        code, body = request(sb, "", *options)
        assert code == 401 and body.count("\n") == 1 and "token issue" in body, (options, body)
        assert "tools" not in body
    for path in ("/", "/mcp", "/ui", "/_deploy/status"):
        assert request(sb, path, post=False)[0] == 401, path
    headers = sb.ssh(f"curl -sk -D - -o /dev/null --resolve {s.server_name}:443:127.0.0.1 "
                     f"https://{s.server_name}{s.dev_url_path}/_deploy/status").stdout
    assert "www-authenticate: bearer" in headers.lower()
    # Open: the app's fixed /health reply, and the webhook (its signature is its credential: tests/test_webhook.py).
    health = json.loads(sb.ssh(f"curl -sk --resolve {s.server_name}:443:127.0.0.1 "
                               f"https://{s.server_name}{s.dev_url_path}/health").stdout)
    assert health["status"] == "healthy"
    code, body = request(sb, "", harness.door(sb))
    assert code == 200 and json.loads(body)["result"]["tools"]


def test_a_token_is_issued_once_kept_as_a_digest_replaced_and_revoked(sb):
    s = sb.settings
    token = issued(sb, "tester")
    code, body = request(sb, "", "-H", bearer(token))
    assert code == 200 and json.loads(body)["result"]["tools"]
    assert request(sb, "/_deploy/status", "-H", bearer(token), post=False)[0] == 200
    # Nowhere on the host: not in the map, nginx's logs, the journal, bastion's state.
    leaked = sb.ssh(f"grep -rlF {shlex.quote(token)} /etc /var/log /var/lib/bastion /run 2>/dev/null; "
                    f"journalctl --no-pager -o cat | grep -cF {shlex.quote(token)}", check=False).stdout.split()
    assert leaked == ["0"], leaked
    assert sb.ssh(f"stat -c %a:%U {s.dev_door_tokens_file}").stdout.strip() == "600:root"
    report = harness.status(sb, "text")
    [door] = [line for line in report.splitlines() if line.strip().startswith("door ")]
    assert "tester" in door.split("tokens of ", 1)[1].split(", ") and token not in report, door
    again = issued(sb, "tester")
    assert request(sb, "", "-H", bearer(token))[0] == 401, "a new token replaces the holder's old one"
    assert request(sb, "", "-H", bearer(again))[0] == 200
    revoked = harness.deploy(sb, "--data", "token_revoke=tester", deploy_file="tokens.py")
    assert revoked.returncode == 0, revoked.output[-3000:]
    harness.wait_until(lambda: request(sb, "", "-H", bearer(again))[0] == 401, 10, "a revoked token is refused")
    assert request(sb, "", harness.door(sb))[0] == 200, "bastion's own token is not the holder's"
    refused = harness.deploy(sb, "--data", "token_revoke=tester", deploy_file="tokens.py")
    assert refused.returncode != 0
    assert harness.preflight_lines(refused) == [
        "token_revoke=tester: has no token on this host; nothing to revoke (status.py lists the holders)"]


def test_the_teams_stdio_client_works_with_its_token_and_gets_nothing_without(sb):
    """src/hacs-mcp-proxy.js of the real main, as the team runs it: MCP_HTTP_URL and MCP_ACCESS_TOKEN."""
    s = sb.settings
    token = issued(sb, "proxy-client")
    sb.ssh(f"cat > /tmp/mcp_stdio.py <<'EOF'\n{PROBE.read_text()}EOF\nchmod 644 /tmp/mcp_stdio.py")
    # The client resolves the name itself (then connects to the address, the name as SNI).
    sb.ssh(f"grep -q ' {s.server_name}$' /etc/hosts || echo '127.0.0.1 {s.server_name}' >> /etc/hosts")

    def through_the_client(token_env: str) -> dict:
        url = f"https://{s.server_name}{s.dev_url_path}"
        out = sb.ssh(f"cd {s.dev_checkout} && runuser -u {s.dev_user} -- env MCP_HTTP_URL={url} "
                     f"{token_env} python3 /tmp/mcp_stdio.py 30 get_server_status -- node src/hacs-mcp-proxy.js").stdout
        return {reply.get("id"): reply for reply in map(json.loads, out.splitlines())}

    replies = through_the_client(f"MCP_ACCESS_TOKEN={token}")
    assert len(replies[2]["result"]["tools"]) > 10, replies.get(2)
    assert json.loads(replies[3]["result"]["content"][0]["text"])["status"] == "operational", replies.get(3)
    refused = through_the_client("")
    assert not any(reply.get("result", {}).get("tools") for reply in refused.values()), refused
    assert 3 not in refused or refused[3].get("result", {}).get("isError"), refused


def test_a_flood_of_refusals_is_cut_short_and_the_team_still_passes(sb):
    """From an address of its own (the sandbox's veth end), so the other tests' refusals are not counted."""
    s = sb.settings
    codes = sb.ssh(f"for i in $(seq 40); do curl -sk -o /dev/null -w '%{{http_code}} ' --resolve "
                   f"{s.server_name}:443:{sb.address} https://{s.server_name}{s.dev_url_path}; done").stdout.split()
    assert codes.count("401") >= s.dev_door_refusal_burst and "429" in codes, codes
    assert request(sb, "", harness.door(sb), source=sb.address)[0] == 200, "a token of the team's is never limited"
