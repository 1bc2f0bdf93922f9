"""The door of the dev environment: nginx lets a request in only with a bearer token of the team's. The host
keeps each token's SHA-256 in a map nginx reads (never a token); bastion's own token, for its health gate and
checks, is made on the host and stays there, root-only, as a header file curl reads."""
import hashlib
import secrets
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy, operation
from pyinfra.facts.files import File, FindInFile
from pyinfra.operations import files, server

from tasks import REPO
from tasks.nginx import reload_nginx

# The shape the app lets through when the header reaches it (any other bearer token gets its 401).
TOKEN_PREFIX = "mcp_access_token_"
BASTION = "bastion"


def new_token() -> tuple[str, str]:
    """A token and the digest the host keeps of it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    """The first 128 bits of the token's SHA-256 (as files/nginx/bastion-door.js computes it): nginx's map keys
    then fit its default hash bucket (64 bytes), which 64 hex digits do not."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def map_line(token_digest: str, holder: str) -> str:
    return f"{token_digest} {holder};"


def holder_line(holder: str) -> str:
    """The regex of a holder's line in the map, whatever its digest."""
    return f"^[0-9a-f]* {holder.replace('.', '[.]')};$"


@operation()
def bastion_token(header_file: str, tokens_file: str):
    """bastion's own token, made on the host (it never leaves it): the header file and its digest's line,
    both made again when either is missing."""
    has_header = host.get_fact(File, path=header_file)
    has_line = host.get_fact(FindInFile, path=tokens_file, pattern=f" {BASTION};$")
    if has_header and has_line:
        host.noop(f"{header_file} and its digest in {tokens_file}")
        return
    yield (f"umask 077; token={TOKEN_PREFIX}$(head -c 32 /dev/urandom | base64 | tr -d '/+=\\n'); "
           f"printf 'Authorization: Bearer %s\\n' \"$token\" > {header_file}.new && mv {header_file}.new {header_file} && "
           f"sed -i '/ {BASTION};$/d' {tokens_file} && "
           f"printf '%s {BASTION};\\n' \"$(printf %s \"$token\" | sha256sum | cut -c1-32)\" >> {tokens_file}")


@deploy("The door")
def keep_the_door():
    """What nginx needs to check a request's token; returns the changes nginx must take in (its reload)."""
    d = host.data
    script = files.put(name="The door's digest (njs)", src=str(REPO / "files/nginx/bastion-door.js"),
                       dest=d.dev_door_script, user="root", group="root", mode="644")
    files.directory(name="The door's tokens directory (root only)", path=str(Path(d.dev_door_tokens_file).parent),
                    user="root", group="root", mode="700")
    # touch=False: the issued tokens' digests are kept as they are; only owner and mode are enforced.
    files.file(name="The team's token digests (root only)", path=d.dev_door_tokens_file,
               user="root", group="root", mode="600", touch=False)
    own = bastion_token(name="bastion's own token, made on the host", header_file=d.dev_door_bastion_header,
                        tokens_file=d.dev_door_tokens_file)
    return [script, own]


def holder_token(holder: str, token_digest: str | None):
    """The holder's line in the map: this digest, or none (revoked); nginx takes it in after nginx -t.
    The line's operation, to act on its change."""
    d = host.data
    line = files.line(name=f"The token of {holder} {'issued' if token_digest else 'revoked'}",
                      path=d.dev_door_tokens_file, line=holder_line(holder),
                      replace=map_line(token_digest, holder) if token_digest else "",
                      present=bool(token_digest))
    server.shell(name="nginx -t", commands=["nginx -t -q"], _if=line.did_change)
    reload_nginx(line.did_change)
    return line
