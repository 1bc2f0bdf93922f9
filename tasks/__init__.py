"""One module per concern of the droplet; deploy.py calls them in the order the host needs."""
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def template(name: str) -> str:
    """Path of a template in templates/, named after where it lands on the host."""
    return str(TEMPLATES / name)
