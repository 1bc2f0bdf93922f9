from pyinfra import host, logger
from pyinfra.api import deploy, operation

from batchssh import read_only
from tasks import rendered


@operation()
def dev_server_is_healthy():
    """Runs when the deploy executes, after everything else; changes nothing, fails when unhealthy."""
    if not host.state.is_executing:
        return
    d = host.data
    script = rendered("checks/dev-health.sh.j2", host=host)
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
    dev_server_is_healthy(name="Dev server healthy, directly and through nginx")
