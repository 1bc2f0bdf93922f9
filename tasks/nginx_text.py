"""Reading nginx configuration text: pure functions, no host and no pyinfra (tests/unit checks them).

nginx's own `nginx -T` is the truth about what it loads; these turn it (or one site file) into the few
facts bastion needs: which server block serves a name on 443, which is the default one, what a site
includes, and where a hand-made /mcp/dev location sits."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

FILE_HEADER = re.compile(r"^# configuration file (?P<path>\S+):$")


@dataclass
class Server:
    file: str
    line: int
    names: list[str] = field(default_factory=list)
    listens: list[str] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)

    def ports(self) -> set[int]:
        found = set()
        for listen in self.listens:
            address = listen.split()[0]
            port = address.rsplit(":", 1)[-1] if not address.startswith("unix:") else ""
            if port.isdigit():
                found.add(int(port))
        return found

    def is_default_for(self, port: int) -> bool:
        return any("default_server" in listen.split()[1:] and port in Server(self.file, 0, listens=[listen]).ports()
                   for listen in self.listens)


def _code(line: str) -> str:
    return line.split("#", 1)[0]


def split_dump(dump: str) -> dict[str, list[str]]:
    """`nginx -T` output -> {file path: its lines}, in the order nginx read them."""
    files: dict[str, list[str]] = {}
    current = None
    for line in dump.splitlines():
        header = FILE_HEADER.match(line)
        if header:
            current = header["path"]
            files.setdefault(current, [])
        elif current is not None:
            files[current].append(line)
    return files


def servers_in(path: str, lines: list[str]) -> list[Server]:
    """The server blocks of one file (at any depth but inside an upstream), with what they declare."""
    servers, stack, current = [], [], None
    for number, raw in enumerate(lines, start=1):
        code = _code(raw)
        for statement in re.findall(r"[^;{}]*[;{}]", code):
            body, end = statement[:-1].strip(), statement[-1]
            if end == "{":
                name = body.split()[0] if body else ""
                stack.append(name)
                if name == "server" and "upstream" not in stack[:-1]:
                    current = Server(path, number)
                    servers.append(current)
            elif end == "}":
                if stack and stack.pop() == "server":
                    current = None
            elif current is not None and stack and stack[-1] == "server":
                words = body.split(None, 1)
                if not words:
                    continue
                if words[0] == "server_name" and len(words) > 1:
                    current.names += words[1].split()
                elif words[0] == "listen" and len(words) > 1:
                    current.listens.append(words[1])
                elif words[0] == "include" and len(words) > 1:
                    current.includes.append(words[1])
            elif current is not None and body.startswith("include "):
                current.includes.append(body.split(None, 1)[1])
    return servers


def servers_of_dump(dump: str) -> list[Server]:
    return [server for path, lines in split_dump(dump).items() for server in servers_in(path, lines)]


def serving(servers: list[Server], name: str, port: int = 443) -> Server | None:
    """The server block nginx picks for name on port: the one naming it, else the default one."""
    for server in servers:
        if name in server.names and port in server.ports():
            return server
    return default_server(servers, port)


def default_server(servers: list[Server], port: int = 443) -> Server | None:
    """What answers a request whose Host names no site (the team's proxy client sends the IP): the block
    marked default_server, else the first one nginx read for that port."""
    on_port = [server for server in servers if port in server.ports()]
    marked = [server for server in on_port if server.is_default_for(port)]
    return (marked or on_port or [None])[0]


def tls_server_name_line(lines: list[str], server_name: str) -> int | None:
    """1-based number of the server_name line in the server block that serves server_name on 443."""
    depth, block, found = 0, None, None
    for number, raw in enumerate(lines, start=1):
        line = _code(raw)
        if depth == 0 and re.match(r"\s*server\s*\{", line):
            block = {"listen_443": False, "server_name_line": None}
        elif depth == 1 and block is not None:
            if re.match(r"\s*listen\s+(\S*:)?443\b", line):
                block["listen_443"] = True
            if re.match(rf"\s*server_name\s+([^;]*\s)?{re.escape(server_name)}[\s;]", line):
                block["server_name_line"] = number
        depth += line.count("{") - line.count("}")
        if depth == 0 and block is not None:
            if block["listen_443"] and block["server_name_line"]:
                found = block["server_name_line"]
            block = None
    return found


def dev_locations(lines: list[str], url_path: str) -> list[tuple[int, int]]:
    """(first, last) 1-based line numbers of each location block for url_path written into a site."""
    blocks = []
    for start, raw in enumerate(lines):
        if not re.match(rf"\s*location\s+(=\s*)?{re.escape(url_path)}/?\s*\{{", _code(raw)):
            continue
        depth = 0
        for end in range(start, len(lines)):
            code = _code(lines[end])
            depth += code.count("{") - code.count("}")
            if depth <= 0:
                blocks.append((start + 1, end + 1))
                break
    return blocks


def not_a_simple_proxy(lines: list[str], block: tuple[int, int], port: int) -> str | None:
    """None when the block only proxies to the dev port on loopback (what the diary wrote); else why not."""
    first, last = block
    body = " ".join(_code(line) for line in lines[first - 1:last])
    inner = body[body.index("{") + 1:body.rindex("}")]
    statements = [part.strip() for part in inner.split(";") if part.strip()]
    foreign = [stmt for stmt in statements if not stmt.startswith("proxy_") or "{" in stmt]
    if foreign:
        return f"it also has `{foreign[0][:60]}`"
    passes = [stmt for stmt in statements if stmt.startswith("proxy_pass")]
    if len(passes) != 1 or not re.fullmatch(rf"proxy_pass\s+http://(localhost|127\.0\.0\.1):{port}/?", passes[0]):
        return f"it does not proxy to the dev port {port} on this host"
    return None


def includes_line(lines: list[str], include: str) -> bool:
    return any(_code(line).strip() == include for line in lines)
