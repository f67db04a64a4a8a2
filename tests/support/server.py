"""The HTTP API for tests: keys minted in a real store, the app in-process or on a real socket."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from selfmodel.bench.serving import free_port
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
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread; yields the base URL; stops after."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
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


__all__ = ["asgi_client", "free_port", "new_workspace_key", "running_server"]
