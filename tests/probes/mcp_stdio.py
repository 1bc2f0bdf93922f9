"""Drive an MCP stdio server as a client does: initialize, tools/list, then one tools/call, each sent once
the reply before it came; print each reply (JSON, a line each); stop at the first request not answered
within LIMIT seconds.

    python3 mcp_stdio.py LIMIT TOOL -- COMMAND...
"""
import json
import selectors
import subprocess
import sys
import time

limit, tool = float(sys.argv[1]), sys.argv[2]
command = sys.argv[sys.argv.index("--") + 1:]
server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
watch = selectors.DefaultSelector()
watch.register(server.stdout, selectors.EVENT_READ)
requests = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize",
     "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "bastion-test", "version": "1"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": tool, "arguments": {}}},
]


def answer(wanted: int) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and watch.select(deadline - time.monotonic()):
        line = server.stdout.readline()
        if not line:
            return False
        print(line.strip(), flush=True)
        if json.loads(line).get("id") == wanted:
            return True
    return False


try:
    for request in requests:
        server.stdin.write(json.dumps(request) + "\n")
        server.stdin.flush()
        if "id" in request and not answer(request["id"]):
            break
finally:
    server.kill()
