"""Production moves to a commit this host proved: its verdict passed in the dev environment or a preview, on
production_branch, a fast-forward of production's commit. A person runs it; nothing else moves production.

    pyinfra inventory.py promote.py --data promote=main        (the commit the dev environment serves now)
    pyinfra inventory.py promote.py --data promote=1a2b3c4d    (a commit that passed here)

A snapshot of production's data first (tag pre-promote), then the fast-forward, the install when
package-lock.json changed, one restart through production's unit, the gate (health and the verdict through
nginx); a failed gate sends production back to the commit before on its own. See docs/promote.md.
"""
from tasks import promote

promote.promote_production()
