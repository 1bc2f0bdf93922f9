"""A simulated WAN between this machine and a sandbox: a TCP forwarder that holds every chunk for half
the round-trip time in each direction (this kernel has no netem). It listens on the host side of the
sandbox's own veth and forwards to the sandbox's sshd, so only the project's addresses are involved.
It runs in a thread of the process that starts it and stops with it, or by itself after `lifetime`.
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time


class DelayedLink:
    def __init__(self, listen_address: str, target_address: str, target_port: int = 22, rtt_ms: float = 50,
                 lifetime: float = 1800):
        self.listen_address, self.target = listen_address, (target_address, target_port)
        self.delay = rtt_ms / 2000
        self.lifetime = lifetime
        self.port = 0
        # Round trips waited, by the link's own count: each time the client speaks again after the server
        # answered (a turn of the conversation), over every connection of the link.
        self.round_trips = 0
        self._loop = asyncio.new_event_loop()
        self._connections: set[asyncio.Task] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> DelayedLink:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the delayed link did not start")
        return self

    def __exit__(self, *exc):
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self):
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._connection, self.listen_address, 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        with contextlib.suppress(TimeoutError):  # the lifetime is up: stop by itself
            await asyncio.wait_for(self._stop.wait(), self.lifetime)
        server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _connection(self, client_reader, client_writer):
        task = asyncio.current_task()
        self._connections.add(task)
        try:
            await self._forward(client_reader, client_writer)
        except asyncio.CancelledError:
            pass  # the link stops: this connection ends with it, quietly
        finally:
            self._connections.discard(task)
            client_writer.close()

    async def _forward(self, client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        for writer in (client_writer, upstream_writer):
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        spoke = {"last": None}  # who sent the last chunk on this connection
        await asyncio.gather(self._pipe(client_reader, upstream_writer, spoke, "client"),
                             self._pipe(upstream_reader, client_writer, spoke, "server"), return_exceptions=True)

    async def _pipe(self, reader, writer, spoke: dict, side: str):
        """Every chunk leaves `delay` after it arrived, in order: a link with that latency and no loss."""
        queue: asyncio.Queue = asyncio.Queue()

        async def deliver():
            while True:
                due, data = await queue.get()
                if data is None:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            writer.close()

        delivering = asyncio.ensure_future(deliver())
        try:
            while data := await reader.read(65536):
                if side == "client" and spoke["last"] == "server":
                    self.round_trips += 1
                spoke["last"] = side
                queue.put_nowait((time.monotonic() + self.delay, data))
            queue.put_nowait((time.monotonic() + self.delay, None))
            await delivering
        finally:
            delivering.cancel()
