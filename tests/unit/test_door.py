"""The door's tokens: the shape the app lets through, and only a digest for the host."""
import hashlib
import re

from tasks import door


def test_a_token_has_the_apps_shape_and_the_host_gets_only_its_digest():
    token, token_digest = door.new_token()
    assert token.startswith("mcp_access_token_") and len(token) > 50
    assert token_digest == hashlib.sha256(token.encode()).hexdigest()[:32]
    assert token not in door.map_line(token_digest, "lupo")
    assert door.new_token()[0] != token


def test_a_holders_line_is_found_whatever_its_digest_and_no_other_holders():
    pattern = door.holder_line("lupo.g")
    line = door.map_line("ab" * 16, "lupo.g")
    assert re.match(pattern, line)
    assert not re.match(pattern, door.map_line("ab" * 16, "lupoxg"))
    assert not re.match(pattern, door.map_line("ab" * 16, "lupo.gg"))
