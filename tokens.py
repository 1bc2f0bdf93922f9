"""Who may call the dev environment: one bearer token per person, checked by nginx at the door.

    ./bastion token issue NAME     pyinfra -y inventory.py tokens.py --data token_issue=NAME
    ./bastion token revoke NAME    pyinfra -y inventory.py tokens.py --data token_revoke=NAME

The token is made on this machine and printed once, here, at the end of the run: the host keeps only its
SHA-256, so a lost token is issued again (which replaces it), never looked up. Issuing again for the same
name replaces that person's token; revoking removes it. nginx takes the change in after `nginx -t`.
"""
from pyinfra import host
from pyinfra.operations import python

from tasks import door, preflight

d = host.data
preflight.check_token_request()
if d.token_issue:
    token, token_digest = door.new_token()
    changed = door.holder_token(d.token_issue, token_digest)

    def show_token():
        print(f"token for {d.token_issue} (shown once; keep it in MCP_ACCESS_TOKEN): {token}", flush=True)

    python.call(name=f"The token of {d.token_issue}, shown once", function=show_token, _if=changed.did_change)
else:
    door.holder_token(d.token_revoke, None)
