"""Adoption: the dev server the team started by hand (scripts/start-dev-server.sh: root, no unit,
SSE_HOST=0.0.0.0, V2_DATA_ROOT at the data root) is taken over by the managed unit, with its data
and secrets, and nothing of it lost. Only with adopt=True, and only when such a server runs (or an
adoption killed midway is to be finished); preflight has checked it is the simple, expected one
(tasks/preflight.py, adoption_problems)."""
import shlex

from pyinfra import host, logger
from pyinfra.api import deploy, operation

from tasks.deploy_run import run_script
from tasks.facts import CarriedData, StateFile, hand_made_servers, interrupted_adoption, production
from tasks.output import reported
from tasks.production_view import APP_DEFAULT_DATA_ROOT


def data_root(process: dict) -> str:
    """Where the hand-made server writes: its V2_DATA_ROOT, or the app's default when unset."""
    return (process["data_root"] or APP_DEFAULT_DATA_ROOT).rstrip("/") or "/"


@operation(is_idempotent=False)
def hand_over(pid: str, root: str):
    """Stop the hand-made server and carry its data and secrets; the unit starts in its place next."""
    yield from run_script("hacs-dev-adopt", [pid, root])


@deploy("Adoption")
def take_over_hand_made_server():
    """Returns the operations that changed something (none when there is nothing to adopt)."""
    d = host.data
    servers = hand_made_servers(d) if d.adopt else []
    interrupted = interrupted_adoption(d) if d.adopt and not servers else {}
    if not servers and not interrupted:
        return []
    if interrupted:
        logger.warning(f"{host.print_prefix}adoption: an earlier adoption was interrupted after the hand-made server "
                       f"stopped; it is finished now from {interrupted['root']}")
        return [hand_over(name="Finish the interrupted adoption", pid="-", root=interrupted["root"])]
    [server] = servers  # preflight refused anything else
    root = data_root(server)
    carried = host.get_fact(CarriedData, root=root, entries=d.v2_data_entries)
    secrets = f"{d.dev_checkout}/{d.adopt_secrets_file}"
    site = production(d).site
    logger.warning("\n".join([
        f"{host.print_prefix}adoption plan (adopt=True):",
        f"  stop     PID {server['pid']} (user {server['user']}, cwd {server['cwd']}, {server['cmdline'].strip()},"
        f" in {server['unit'] or 'no unit'};"
        f" SSE_HOST={server['sse_host'] or 'unset'}, V2_DATA_ROOT={server['data_root'] or 'unset'})",
        f"  carry    {carried.get('files', 0)} files ({carried.get('kib', 0)} KiB) of {carried.get('entries') or 'nothing'}"
        f" from {root} into {d.dev_data_dir}, checksums compared; the originals stay where they are",
        f"  carry    the secrets in {secrets} (if any) into {d.dev_env_file} (0600, values never printed)",
        f"  archive  what is carried: {d.dev_backups_dir}/v2-dev-data-<time>-adopted.tar.gz (kept by retention),"
        f" secrets apart in {d.dev_backups_dir}/secrets/",
        f"  replace  the hand-made location {d.dev_url_path} in {site} by one include"
        f" (site kept as {d.bastion_state_dir}/{site.rsplit('/', 1)[1]}.before-adoption)",
        f"  replace  {d.dev_checkout}/.git/hooks/post-merge (kept as post-merge.hand-made)",
        f"  start    {d.dev_unit} in its place; the outage is measured and reported",
    ]))
    return [hand_over(name=f"Hand-made dev server (PID {server['pid']}) hands over to {d.dev_unit}",
                      pid=server["pid"], root=root)]


@operation()
def carried_data_is_served(marker: str, data_dir: str):
    """An instance and a role that were there before adoption, asked for through the dev endpoint."""
    wanted = host.get_fact(StateFile, path=marker)
    if not wanted:
        host.noop("no adoption to confirm")
        return
    d = host.data
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_all_instances","arguments":{}}}'
    listing = (f"curl -sk --max-time 10 -X POST -H 'Content-Type: application/json' -H @{d.dev_door_bastion_header} "
               f"--resolve {d.server_name}:443:127.0.0.1 https://{d.server_name}{d.dev_url_path} -d '{body}'")
    checks = []
    if wanted.get("instance"):
        # Names from the app's data: quoted, whatever they hold.
        instance = shlex.quote(wanted["instance"])
        checks.append(f"{listing} | grep -qF -- {instance} || "
                      f"{{ echo adoption: instance {instance} is not served through {d.dev_url_path} >&2; exit 1; }}")
    if wanted.get("role"):
        role = wanted["role"]
        checks.append(f"test -f {shlex.quote(f'{data_dir}/roles/{role}/role.json')} || "
                      f"{{ echo adoption: role {shlex.quote(role)} did not come along >&2; exit 1; }}")
    found = " and ".join(f"{kind} {wanted[kind]}" for kind in ("instance", "role") if wanted.get(kind))
    served = f"adoption: {found or 'the data'} served through {d.dev_url_path}"
    yield reported(" && ".join([*checks, f"echo {shlex.quote(served)}",
                                f"rm -f {marker}"]))


@deploy("Adoption check")
def confirm_carried_data_is_served(adopted=()):
    """After an adoption in this run, or one whose check a failed run left pending."""
    d = host.data
    if d.adopt and (adopted or host.get_fact(StateFile, path=f"{d.bastion_state_dir}/adoption-check")):
        carried_data_is_served(name="What was there before adoption is served",
                               marker=f"{d.bastion_state_dir}/adoption-check", data_dir=d.dev_data_dir)

