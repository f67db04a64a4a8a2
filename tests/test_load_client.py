"""The load generator's connection against a small real HTTP server on loopback: replies on one
kept-alive connection, a server that asks to close, and one that hangs up mid-exchange."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from selfmodel.bench.load_client import TRANSPORT_ERRORS, LoadConnection


@asynccontextmanager
async def server(behaviour: list[str]) -> AsyncIterator[tuple[str, list[int], list[bytes]]]:
    """Answers each request by the next word of ``behaviour``: ``ok`` (200, echoes the body),
    ``close`` (200 with Connection: close), ``bad`` (422), ``hangup`` (no reply). Yields the base
    URL, the port each request arrived from (one per connection) and the bodies received."""
    peers: list[int] = []
    bodies: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while behaviour:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                bodies.append(await reader.readexactly(length))
                peers.append(writer.get_extra_info("peername")[1])
                action = behaviour.pop(0)
                if action == "hangup":
                    break
                status = b"422 Unprocessable Entity" if action == "bad" else b"200 OK"
                extra = b"Connection: close\r\n" if action == "close" else b""
                reply = b'{"echo": ' + bodies[-1] + b"}"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n" + extra
                    + b"Content-Length: " + str(len(reply)).encode() + b"\r\n\r\n" + reply
                )  # fmt: skip
                await writer.drain()
                if action == "close":
                    break
        except asyncio.IncompleteReadError:
            pass  # the client closed its side
        finally:
            writer.close()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield f"http://127.0.0.1:{port}", peers, bodies


def test_replies_come_back_on_one_kept_alive_connection() -> None:
    async def scenario() -> None:
        async with server(["ok", "bad", "ok"]) as (base, peers, bodies):
            connection = LoadConnection(base, {"Authorization": "Bearer k"}, timeout=5)
            first = await connection.post("/a", {"n": 1})
            refused = await connection.post("/a", {"n": 2})
            third = await connection.post("/a", {"n": 3})
            connection.close()
        assert first.ok and json.loads(first.body) == {"echo": {"n": 1}}
        assert refused.status == 422 and not refused.ok
        assert third.ok
        assert len(set(peers)) == 1  # never reconnected
        assert [json.loads(b) for b in bodies] == [{"n": 1}, {"n": 2}, {"n": 3}]

    asyncio.run(scenario())


def test_a_server_that_asks_to_close_gets_a_new_connection_next_time() -> None:
    async def scenario() -> None:
        async with server(["close", "ok"]) as (base, peers, _):
            connection = LoadConnection(base, {}, timeout=5)
            assert (await connection.post("/a", {})).ok
            assert (await connection.post("/a", {})).ok
            connection.close()
        assert len(set(peers)) == 2

    asyncio.run(scenario())


def test_a_hang_up_raises_a_transport_error_and_the_next_request_reconnects() -> None:
    async def scenario() -> None:
        async with server(["hangup", "ok"]) as (base, peers, _):
            connection = LoadConnection(base, {}, timeout=5)
            with pytest.raises(TRANSPORT_ERRORS):
                await connection.post("/a", {"lost": True})
            assert (await connection.post("/a", {"kept": True})).ok
            connection.close()
        assert len(set(peers)) == 2

    asyncio.run(scenario())


def test_a_server_that_never_answers_times_out() -> None:
    async def scenario() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()  # until the client gives up and closes
            writer.close()

        listening = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        async with listening:
            connection = LoadConnection(f"http://127.0.0.1:{port}", {}, timeout=0.2)
            with pytest.raises(TimeoutError):
                await connection.post("/a", {})

    asyncio.run(scenario())


def test_only_plain_http_urls_with_a_port() -> None:
    for base in ("https://127.0.0.1:1", "http://127.0.0.1", "127.0.0.1:80"):
        with pytest.raises(ValueError, match="http://host:port"):
            LoadConnection(base, {}, timeout=1)
