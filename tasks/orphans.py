"""A stranger on the dev port (the diary found the old dev server running from production's directory for
eleven days) is stopped here, and only when dev_stop_orphans=True said so: preflight names it otherwise.
Never a process that also serves production's port (preflight refuses that outright), never the hand-made
server an adoption takes over."""
from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.operations import server

from tasks import facts


@deploy("Orphans on the dev port")
def stop_orphans():
    d = host.data
    if not d.dev_stop_orphans:
        return
    adopted = {p["pid"] for p in facts.hand_made_servers(d)} if d.adopt else set()
    for p in (p for p in facts.dev_port_strangers(d) if p["pid"] not in adopted):
        logger.warning(f"{host.print_prefix}stopping PID {p['pid']} on dev_port {d.dev_port} "
                       f"(cwd {p['cwd']}, command: {p['cmdline'].strip()}): dev_stop_orphans=True")
        server.shell(name=f"Stop orphan PID {p['pid']} on port {d.dev_port}",
                     commands=[f"kill {p['pid']}; for i in $(seq 50); do kill -0 {p['pid']} 2>/dev/null || exit 0; "
                               f"sleep 0.1; done; kill -9 {p['pid']}"])
