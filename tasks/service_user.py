from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server


@deploy("Service user")
def create_service_user():
    name = host.data.dev_user
    server.group(name=f"Group {name}", group=name, system=True)
    server.user(
        name=f"Unprivileged system user {name}",
        user=name,
        group=name,
        system=True,
        # npm keeps its cache in the home directory; nobody logs in as this user.
        home=f"/var/lib/{name}",
        create_home=True,
        shell="/usr/sbin/nologin",
        comment="HACS V2 dev server (bastion)",
    )
    # What the install units may write besides node_modules (they start only where it exists), and where the
    # restart path keeps the node_modules an install replaced.
    for path in (host.data.dev_npm_cache, host.data.dev_npm_fetch_dir, host.data.dev_npm_previous_dir):
        files.directory(name=f"{path}, the service user's", path=path, user=name, group=name, mode="750")
