"""The operator's page and the docs hold to what runs: the README is a page (every doc linked from it), the
rebuild sequence it shows is the one the drill runs, and every refusal in the table of bad input is one a test
makes the code say."""
import re

from tasks import REPO

DOCS = REPO / "docs"
# Where a row of the table leaves out what a test fills in: its elisions, KEY=value, placeholders, a parenthesis.
GAPS = re.compile(r"\.\.\.|…|[A-Za-z_]+=[^ :;,]*|\b(?:NAME|PID|PIDs|URL|ADDRESS|n)\b|\(")


def pyinfra_lines(text: str) -> list[str]:
    """The rebuild's pyinfra commands (each restores), as words."""
    return [" ".join(line.split("#")[0].split()) for line in text.splitlines()
            if line.startswith("pyinfra -y") and "restore_from" in line]


def test_the_readme_is_one_page_linking_every_doc():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for page in DOCS.glob("*.md"):
        assert f"(docs/{page.name})" in readme, f"{page.name} is not linked from the README"


def test_the_rebuild_sequence_shown_is_the_one_the_drill_runs():
    sequence = [line for line in pyinfra_lines((DOCS / "rebuild.sh").read_text()) if "backup.py" not in line]
    assert len(sequence) == 2
    for shown_in in (REPO / "README.md", DOCS / "recovery.md"):
        shown = [line for line in pyinfra_lines(shown_in.read_text()) if "backup.py" not in line]
        assert shown == sequence, shown_in.name


def test_every_refusal_in_the_table_is_one_the_tests_make():
    """Each row's message says what a test expects the code to say: a stretch of it (between the table's elisions
    and the values a test fills in) is in a test."""
    tests = "\n".join(path.read_text() for path in (REPO / "tests").rglob("*.py"))
    rows = [line for line in (DOCS / "bad-input.md").read_text().splitlines() if line.startswith("| ") and "`" in line]
    missing = []
    for row in rows:
        message = " ".join(re.findall(r"`([^`]+)`", row.rsplit(" | ", 1)[-1]))
        stretches = [s.strip(" :;,)'\"") for s in GAPS.split(message)]
        if not any(len(s) >= 8 and s[:12] in tests for s in stretches):
            missing.append(message[:70])
    # Refusals no test makes yet, named so the gap is seen (a new row must have its test).
    untested = {"backup_password_file=...: missing on this machine, while the host has "}
    assert [m for m in missing if m not in untested] == [], missing
