from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files


@deploy("Isolated data")
def create_data_directory():
    """The dev data directory and the secrets file: created when missing, never emptied or rewritten."""
    d = host.data
    files.directory(name="Dev data directory", path=d.dev_data_dir,
                    user=d.dev_user, group=d.dev_user, mode="750")
    files.directory(name="Secrets directory", path=str(Path(d.dev_env_file).parent),
                    user="root", group=d.dev_user, mode="750")
    # touch=False: an existing file keeps its content and time; only owner and mode are enforced.
    files.file(name="Secrets file (0600, content never touched)", path=d.dev_env_file,
               user=d.dev_user, group=d.dev_user, mode="600", touch=False)
