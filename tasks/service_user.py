from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server

from tasks.facts import Account


def account_as_wanted(account: dict, user: str, group: str, home: str, shell: str, comment: str) -> bool:
    """Whether server.user would change nothing: the passwd line's comment, home and shell, the primary group, and the
    home a directory of the user's (its files.directory). Anything else, a missing account first, and it runs."""
    fields = account.get("passwd", "").split(":")
    return len(fields) == 7 and fields[0] == user and fields[4:] == [comment, home, shell] and \
        account.get("group") == group and account.get("home") == f"directory {user}:{group}"


@deploy("Service user")
def create_service_user():
    name = host.data.dev_user
    # npm keeps its cache in the home directory; nobody logs in as this user.
    home, shell, comment = f"/var/lib/{name}", "/usr/sbin/nologin", "HACS V2 dev server (bastion)"
    server.group(name=f"Group {name}", group=name, system=True)
    server.user(
        name=f"Unprivileged system user {name}",
        user=name,
        group=name,
        system=True,
        home=home,
        create_home=True,
        shell=shell,
        comment=comment,
        # pyinfra's Users fact reads every account's lastlog, shadow and groups (a fifth of a no-op run's time on the
        # host): server.user runs only when the account reads otherwise than wanted.
        _if=lambda: not account_as_wanted(host.get_fact(Account, user=name, home=home), name, name, home, shell,
                                          comment),
    )
    # What the install units may write besides node_modules (they start only where it exists), and where the
    # restart path keeps the node_modules an install replaced.
    for path in (host.data.dev_npm_cache, host.data.dev_npm_fetch_dir, host.data.dev_npm_previous_dir):
        files.directory(name=f"{path}, the service user's", path=path, user=name, group=name, mode="750")
