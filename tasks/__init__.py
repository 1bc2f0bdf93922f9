"""One module per concern of the droplet; deploy.py calls them in the order the host needs."""
from pathlib import Path

from jinja2 import FileSystemLoader
from pyinfra import logger
from pyinfra.api import FunctionCommand

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"


def template(name: str) -> str:
    """Path of a template in templates/, named after where it lands on the host."""
    return str(TEMPLATES / name)


def jinja() -> dict:
    """files.template's jinja_env_kwargs: includes (templates/partials/) resolve wherever pyinfra runs.
    A new dict each time: pyinfra pops the loader out of it."""
    return {"loader": FileSystemLoader(str(TEMPLATES))}


def reported(command: str) -> FunctionCommand:
    """A command whose output the operator must read even when it succeeds (pyinfra shows a successful
    command's output only with -v): its lines are logged under the host's name, in order."""
    def run(state, host):
        ok, output = host.run_shell_command(command)
        for line in output.output_lines:
            logger.warning(f"{host.print_prefix}{line}")
        return ok

    return FunctionCommand(run, (), {})
