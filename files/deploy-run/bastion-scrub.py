#!/usr/bin/env python3
"""Make a staged copy of production's instances safe for dev, in place: each credential file the app keeps
in an instance's home replaced by a placeholder of the same shape (JSON keys and numbers kept, KEY=value
names kept, every letter x and every digit 0), transcripts, mail and keys left out. Run by hacs-dev-restore
(the deploy's) on the stage, before the dev server can see it; reports names and counts, never a value.

    bastion-scrub.py STAGE RULES_JSON     RULES_JSON: {"scrub": [glob, ...], "leave_out": [glob, ...]}

Globs match a path relative to an instance's home (instances/ID/...) or any of its parts' names; prints
`scrubbed=GLOB:COUNT` and `left_out=GLOB:COUNT` lines, then `files=N`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections import Counter
from fnmatch import fnmatch
from pathlib import PurePosixPath

ENV_LINE = re.compile(r"^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*)(.*)$")


def shape(text: str) -> str:
    """The same length and punctuation, no letter or digit of the value."""
    return re.sub(r"[0-9]", "0", re.sub(r"[A-Za-z]", "x", text))


def scrubbed_json(value):
    if isinstance(value, dict):
        return {key: scrubbed_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scrubbed_json(item) for item in value]
    if isinstance(value, str):
        return shape(value)
    return value


def placeholder(text: str) -> str:
    """A credential file's placeholder: JSON keeps its keys, an env file its names, anything else its shape."""
    try:
        return json.dumps(scrubbed_json(json.loads(text)), indent=2) + "\n"
    except ValueError:
        pass
    lines = text.splitlines(keepends=True)
    if lines and all(ENV_LINE.match(line) or not line.strip() or line.lstrip().startswith("#") for line in lines):
        return "".join(ENV_LINE.sub(lambda m: m[1] + shape(m[2]), line) if ENV_LINE.match(line) else line
                       for line in lines)
    return shape(text)


def within_home(path: str, instances: str) -> PurePosixPath:
    """A path under instances/ relative to its instance's home (instances/ID); a file beside the homes, its name."""
    parts = PurePosixPath(os.path.relpath(path, instances)).parts
    return PurePosixPath(*parts[1:]) if len(parts) > 1 else PurePosixPath(parts[0])


def matching(relative: PurePosixPath, globs: list[str]) -> str | None:
    """The first glob that matches the path, one of its ancestors within the home, or one of their names."""
    candidates = [relative, *[parent for parent in relative.parents if str(parent) != "."]]
    for glob in globs:
        if any(fnmatch(str(path), glob) or fnmatch(path.name, glob) for path in candidates):
            return glob
    return None


def scrub(stage: str, rules: dict) -> Counter:
    """Every instance home under STAGE/instances scrubbed in place; what was done, by glob."""
    report: Counter = Counter()
    instances = os.path.join(stage, "instances")
    for directory, folders, names in os.walk(instances):
        for name in list(folders):
            path = os.path.join(directory, name)
            glob = "symlinks" if os.path.islink(path) else matching(within_home(path, instances), rules["leave_out"])
            if glob:
                folders.remove(name)
                os.unlink(path) if os.path.islink(path) else shutil.rmtree(path)
                report[("left_out", glob)] += 1
        for name in names:
            path = os.path.join(directory, name)
            relative = within_home(path, instances)
            glob = "symlinks" if os.path.islink(path) else matching(relative, rules["leave_out"])
            if glob:
                os.unlink(path)
                report[("left_out", glob)] += 1
                continue
            glob = matching(relative, rules["scrub"])
            if glob:
                with open(path, encoding="utf-8", errors="replace") as file:
                    text = file.read()
                with open(path, "w", encoding="utf-8") as file:
                    file.write(placeholder(text))
                report[("scrubbed", glob)] += 1
    return report


def main(argv: list[str]) -> int:
    stage, rules = argv[1], json.loads(argv[2])
    report = scrub(stage, rules)
    for (kind, glob), count in sorted(report.items()):
        print(f"{kind}={glob}:{count}")
    print(f"files={sum(len(names) for _, _, names in os.walk(stage))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
