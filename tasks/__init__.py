"""One module per concern of the droplet; deploy.py calls them in the order the host needs. This package
itself holds only where things are (no pyinfra), so the pure modules beside the concerns import nothing of it."""
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"


def template(name: str) -> str:
    """Path of a template in templates/, named after where it lands on the host."""
    return str(TEMPLATES / name)


def jinja() -> dict:
    """files.template's jinja_env_kwargs: includes (templates/partials/) resolve wherever pyinfra runs.
    A new dict each time: pyinfra pops the loader out of it."""
    return {"loader": FileSystemLoader(str(TEMPLATES))}


def rendered(name: str, **variables) -> str:
    """A template of templates/ as text: a command sent as it is (a check), not a file put on the host."""
    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, keep_trailing_newline=True)
    return environment.get_template(name).render(**variables)
