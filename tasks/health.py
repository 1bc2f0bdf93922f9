from pyinfra import host, logger
from pyinfra.api import deploy, operation

from batchssh import read_only

# One shell round (POSIX sh): wait for the dev port and the public path, one verdict line for each that failed.
# After an adoption, healthy also ends the outage that began when the hand-made server was stopped.
CHECK = """
deadline=$(( $(date +%s) + {timeout} ))
check() {{
  reply=$(curl -sSk --max-time 3 "$@" 2>&1)
  case "$reply" in *'"status":"healthy"'*'"port":"{port}"'*) return 0;; esac
  return 1
}}
while :; do
  direct=ok; proxied=ok
  check http://{address}:{port}/health || direct=$reply
  check --resolve {server}:443:127.0.0.1 https://{server}{path}/health || proxied=$reply
  # The bare path, as the team's client POSTs it, through the door with bastion's own token: only bastion's
  # snippet serves it (nginx's workers from before a reload may still answer /health through a hand-made location).
  if [ "$proxied" = ok ]; then
    reply=$(curl -sSk --max-time 3 -X POST -H 'Content-Type: application/json' -H @{door} --resolve {server}:443:127.0.0.1 \
      -d '{{"jsonrpc":"2.0","id":1,"method":"tools/list"}}' https://{server}{path} 2>&1)
    case "$reply" in *'"tools"'*) ;; *) proxied="POST {path}: $reply";; esac
  fi
  if [ "$direct$proxied" = okok ]; then
    if [ -f {stopped_at} ]; then
      awk -v since="$(cat {stopped_at})" -v now="$(date +%s.%N)" 'BEGIN {{ printf "outage=%.1f\\n", now - since }}'
      rm -f {stopped_at}
    fi
    exit 0
  fi
  [ "$(date +%s)" -ge "$deadline" ] && break
  sleep 0.5
done
[ "$direct" = ok ] || printf '%s is not healthy for port {port}: %.300s\n' http://{address}:{port}/health "$direct"
[ "$proxied" = ok ] ||
  printf '%s (through nginx) is not healthy for port {port}: %.300s\n' https://{server}{path}/health "$proxied"
exit 1
"""


@operation()
def dev_server_is_healthy(timeout: int):
    """Runs when the deploy executes, after everything else; changes nothing, fails when unhealthy."""
    if not host.state.is_executing:
        return
    d = host.data
    script = CHECK.format(timeout=timeout, port=d.dev_port, address=d.dev_listen_address,
                          server=d.server_name, path=d.dev_url_path, door=d.dev_door_bastion_header,
                          stopped_at=f"{d.bastion_state_dir}/adoption-stopped-at")
    with read_only(host):  # it only asks: the facts read before it stay true
        healthy, output = host.run_shell_command(script)
    if healthy:
        outage = [line.split("=", 1)[1] for line in output.stdout_lines if line.startswith("outage=")]
        if outage:
            logger.warning(f"{host.print_prefix}adoption: the dev endpoint was down for {outage[0]} s "
                           f"(hand-made server stopped -> {d.dev_unit} healthy through nginx)")
        host.noop(f"{d.dev_url_path} and port {d.dev_port} answer healthy")
        return
    verdict = "; ".join(output.stdout_lines) or "health check failed"
    yield f"echo {quote(verdict)} >&2; {d.dev_restart_script} --report >&2; exit 1"


def quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@deploy("Health gate")
def check_health():
    dev_server_is_healthy(name="Dev server healthy, directly and through nginx",
                          timeout=host.data.dev_health_timeout_seconds)
