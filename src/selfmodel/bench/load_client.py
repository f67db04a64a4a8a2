"""The load generator's HTTP: one keep-alive HTTP/1.1 connection, spoken with h11.

``bench serve`` generates its load on the cores of the servers it measures, so whatever the
generator spends is taken from them, and most from the backend that needs every core (two API
processes on PostgreSQL) rather than the one bound by a lock (SQLite). httpx's ``AsyncClient``
spent 0.9 ms of CPU a request here, 0.18–0.20 of the two cores under the bench's load (its pool,
anyio and per-call machinery); this connection spends 0.17 ms: h11 parses the HTTP, asyncio's
streams move the bytes, and nothing else runs per request. (h11 is what httpx and uvicorn speak
HTTP/1.1 with: every install has it.)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import h11

READ_CHUNK = 65_536
# What a failed exchange can raise: the connection is closed and opened again for the next one.
TRANSPORT_ERRORS = (OSError, TimeoutError, h11.ProtocolError)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class LoadConnection:
    """Requests to one server, one at a time, over one connection (reopened after a failure)."""

    def __init__(self, base: str, headers: Mapping[str, str], *, timeout: float) -> None:
        url = urlsplit(base)
        if url.scheme != "http" or url.hostname is None or url.port is None:
            raise ValueError(f"expected http://host:port, got {base!r}")
        self._host, self._port = url.hostname, url.port
        self._headers = [("Host", url.netloc), *headers.items()]
        self._timeout = timeout
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._http = h11.Connection(h11.CLIENT)

    async def post(self, path: str, payload: Any) -> Reply:
        """POST ``payload`` as JSON; raises one of ``TRANSPORT_ERRORS`` if no reply came."""
        body = json.dumps(payload).encode()
        try:
            async with asyncio.timeout(self._timeout):
                return await self._exchange(path, body)
        except BaseException:
            self.close()  # a connection left mid-exchange cannot carry the next one
            raise

    async def _exchange(self, path: str, body: bytes) -> Reply:
        if self._stream is None:
            self._stream = await asyncio.open_connection(self._host, self._port)
            self._http = h11.Connection(h11.CLIENT)
        reader, writer = self._stream
        http = self._http
        headers = [
            *self._headers,
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
        ]
        request = http.send(h11.Request(method="POST", target=path, headers=headers)) or b""
        writer.write(request + (http.send(h11.Data(data=body)) or b""))
        writer.write(http.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        status, chunks = 0, []
        while True:
            event = http.next_event()
            if event is h11.NEED_DATA:
                http.receive_data(await reader.read(READ_CHUNK))  # b"": the server closed
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("the server closed the connection mid-reply")
        if http.our_state is h11.DONE and http.their_state is h11.DONE:
            http.start_next_cycle()
        else:  # the server asked to close (Connection: close)
            self.close()
        return Reply(status, b"".join(chunks))

    def close(self) -> None:
        if self._stream is not None:
            self._stream[1].close()
            self._stream = None


__all__ = ["TRANSPORT_ERRORS", "LoadConnection", "Reply"]
