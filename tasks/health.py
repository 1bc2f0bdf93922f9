from pyinfra import host
from pyinfra.api import deploy, operation

# One shell round (POSIX sh): wait for both endpoints, one verdict line per endpoint that failed.
CHECK = """
deadline=$(( $(date +%s) + {timeout} ))
check() {{ reply=$(curl -sSk --max-time 3 "$@" 2>&1); case "$reply" in *'"status":"healthy"'*'"port":"{port}"'*) return 0;; esac; return 1; }}
while :; do
  direct=ok; proxied=ok
  check http://{address}:{port}/health || direct=$reply
  check --resolve {server}:443:127.0.0.1 https://{server}{path}/health || proxied=$reply
  [ "$direct$proxied" = okok ] && exit 0
  [ "$(date +%s)" -ge "$deadline" ] && break
  sleep 0.5
done
[ "$direct" = ok ] || printf '%s is not healthy for port {port}: %.300s\n' http://{address}:{port}/health "$direct"
[ "$proxied" = ok ] || printf '%s (through nginx) is not healthy for port {port}: %.300s\n' https://{server}{path}/health "$proxied"
exit 1
"""


@operation()
def dev_server_is_healthy(timeout: int):
    """Runs when the deploy executes, after everything else; changes nothing, fails when unhealthy."""
    if not host.state.is_executing:
        return
    d = host.data
    script = CHECK.format(timeout=timeout, port=d.dev_port, address=d.dev_listen_address,
                          server=d.server_name, path=d.dev_url_path)
    healthy, output = host.run_shell_command(script)
    if healthy:
        host.noop(f"{d.dev_url_path} and port {d.dev_port} answer healthy")
        return
    verdict = "; ".join(output.stdout_lines) or "health check failed"
    yield (f"echo {quote(verdict)} >&2; journalctl --no-pager -u {d.dev_unit} -n 15 >&2; "
           f"tail -n 15 {d.dev_checkout}/logs/*.log >&2 2>/dev/null; exit 1")


def quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@deploy("Health gate")
def check_health():
    dev_server_is_healthy(name="Dev server healthy, directly and through nginx",
                          timeout=host.data.dev_health_timeout_seconds)
