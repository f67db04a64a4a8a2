"""The HTTP API for tests: keys minted in a real store, the app in-process or on a real socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from selfmodel.bench.serving import free_port
from selfmodel.server.http_protocol import H11ProtocolWithJsonErrors
from selfmodel.storage import Store
from selfmodel.tenancy import Scope, Tenancy

STARTUP_TIMEOUT_S = 15.0


def new_workspace_key(store: Store, workspace: str, scope: Scope = Scope.ADMIN) -> str:
    """Create ``workspace`` if needed and return a fresh key of ``scope`` for it."""
    tenancy = Tenancy(store)
    ws = store.get_workspace(workspace) or tenancy.create_workspace(workspace)
    return tenancy.mint_key(ws, scope, name=f"test {scope.value}").secret


def asgi_client(app: FastAPI, key: str | None = None) -> httpx.AsyncClient:
    """An httpx client talking to ``app`` in-process (no socket)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers
    )


@contextmanager
def running_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread; yields the base URL; stops after.

    It is served as ``selfmodel serve`` serves it: with the same HTTP protocol class.
    """
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            http=H11ProtocolWithJsonErrors,
            log_config=None,
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT_S)


def raw_request(base_url: str, request: bytes, timeout: float = 10.0) -> httpx.Response:
    """Send ``request`` byte for byte to the server at ``base_url``; its answer, read to the close.

    For requests no HTTP client would send (a ``Content-Length`` that is not a number, say).
    """
    url = httpx.URL(base_url)
    assert url.port is not None
    received = b""
    with socket.create_connection((url.host, url.port), timeout=timeout) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = [
        (name.strip(), value.strip())
        for name, value in (line.split(":", 1) for line in header_lines)
    ]
    return httpx.Response(int(status_line.split()[1]), headers=headers, content=body)


__all__ = ["asgi_client", "free_port", "new_workspace_key", "raw_request", "running_server"]
