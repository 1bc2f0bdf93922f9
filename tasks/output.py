"""What the operator reads of a run."""
from pyinfra import logger
from pyinfra.api import FunctionCommand


def reported(command: str) -> FunctionCommand:
    """A command whose output the operator must read even when it succeeds (pyinfra shows a successful
    command's output only with -v): its lines are logged under the host's name, in order."""
    def run(state, host):
        ok, output = host.run_shell_command(command)
        for line in output.output_lines:
            logger.warning(f"{host.print_prefix}{line}")
        return ok

    return FunctionCommand(run, (), {})
