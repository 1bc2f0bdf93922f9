"""The project's disposable sandbox droplet (see sandbox/machine.py)."""
