"""The tests read --data as pyinfra does: tests/settings.py's copy of pyinfra's parser agrees with it."""
import json
import subprocess
import sys

from tests.settings import REPO, load, parse_value

VALUES = ["true", "False", "3", "-1", "null", "[1, 2]", '{"a": 1}', "1.5", "1m", "/srv/x", "", "0 1", '"quoted"']


def test_the_copy_reads_every_kind_of_value_as_pyinfra_does():
    # pyinfra's own, in a process of its own (importing pyinfra_cli patches the process with gevent).
    program = ("import json, sys; from pyinfra_cli.util import parse_cli_arg; "
               "print(json.dumps([parse_cli_arg(v) for v in json.loads(sys.argv[1])]))")
    theirs = json.loads(subprocess.run([sys.executable, "-c", program, json.dumps(VALUES)], capture_output=True,
                                       text=True, check=True).stdout)
    assert [parse_value(value) for value in VALUES] == theirs


def test_every_setting_is_one_pyinfra_reads():
    """group_data/all.py names its settings for pyinfra (__all__, so pyinfra does not parse the file once per
    setting): a setting defined after that line would be silently left out of every run."""
    program = ("import json; from pyinfra.api import State; from pyinfra.context import ctx_state; "
               "from pyinfra_cli.inventory import _get_group_data; ctx_state.set(State()); "
               "print(json.dumps(sorted(_get_group_data('group_data')['all'])))")
    theirs = json.loads(subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                                       cwd=REPO).stdout)
    assert theirs == sorted(vars(load()))
