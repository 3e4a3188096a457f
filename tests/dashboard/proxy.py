"""A stand-in for the authenticating reverse proxy: adds the identity header, from a chosen
source address.

Browsers cannot add headers, and the dashboard decides on the TCP peer's address, so the test
needs a real proxy whose upstream connections come from a known loopback address (127.0.0.2 is
"the proxy", 127.0.0.3 "someone else"). It inserts the header into the first request of each
connection (Streamlit reads identity from the WebSocket handshake, which is the only request
on its connection) and then pipes bytes both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class HeaderProxy:
    def __init__(self, upstream_port: int, source: str, header: str, value: str) -> None:
        self.upstream_port = upstream_port
        self.source = source
        self.line = f"{header}: {value}\r\n".encode()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> HeaderProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("proxy did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        first, _, rest = head.partition(b"\r\n")
        up_reader, up_writer = await asyncio.open_connection(
            "127.0.0.1", self.upstream_port, local_addr=(self.source, 0)
        )
        up_writer.write(first + b"\r\n" + self.line + rest)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, OSError):
        writer.close()
