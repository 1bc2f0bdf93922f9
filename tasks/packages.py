from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.deb import DebPackages
from pyinfra.operations import apt


@deploy("Packages")
def install_packages():
    wanted = host.data.dev_packages
    installed = host.get_fact(DebPackages)
    # Refresh the lists only when something must be installed: a converged host makes no change.
    missing = [name for name in wanted if name not in installed]
    apt.packages(
        name="git, nginx, Node.js, npm and restic from the distribution",
        packages=wanted,
        update=bool(missing),
        cache_time=host.data.apt_cache_max_age_seconds,
    )
