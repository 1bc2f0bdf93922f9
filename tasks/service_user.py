from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import server


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
