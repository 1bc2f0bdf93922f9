"""Scripts only a deploy runs (the nginx check, opening the repository, an adoption, a restore): rendered
from templates/deploy-run/, uploaded to a root-only directory under /run for the one run and removed after
it, so /usr/local/sbin holds only what timers, hooks and people run."""
import shlex

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files

from tasks import jinja, template
from tasks.output import reported

# Installed in /usr/local/sbin by earlier versions of bastion; now run from the deploy. Bastion's own files,
# never data: removing them loses nothing.
RETIRED = ["/usr/local/sbin/hacs-dev-nginx-check", "/usr/local/sbin/hacs-dev-adopt",
           "/usr/local/sbin/hacs-dev-restore", "/usr/local/sbin/hacs-production-restore"]
# bastion-restic stays (the timers and people run it); its --open-repository branch is deploy-run/bastion-open-repository.


def run_script(name: str, args=(), **data):
    """For an @operation to `yield from`: templates/deploy-run/NAME.j2 rendered with data, run with args, its
    output reported, then removed (also when it fails)."""
    directory = host.data.deploy_run_dir
    path = f"{directory}/{name}"
    yield from files.directory._inner(path=directory, user="root", group="root", mode="700")
    yield from files.template._inner(src=template(f"deploy-run/{name}.j2"), dest=path, user="root", group="root",
                                     mode="700", jinja_env_kwargs=jinja(), **data)
    command = " ".join([path, *(shlex.quote(str(arg)) for arg in args)])
    yield reported(f"{command}; status=$?; rm -f {path}; exit $status")


@deploy("Retired scripts")
def remove_retired_scripts():
    for path in RETIRED:
        files.file(name=f"{path} retired (the deploy runs it now)", path=path, present=False)
