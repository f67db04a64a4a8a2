"""The processes the ``bench serve`` benches run: ``selfmodel serve`` and ``selfmodel worker``
children on loopback, each logging to a file and stopped by whoever started it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

SERVER_START_TIMEOUT_S = 120.0
READY_POLL_S = 0.2
STOP_TIMEOUT_S = 30.0
KILL_TIMEOUT_S = 10.0  # a SIGKILLed process is gone at once; longer means something is stuck
LOG_TAIL_CHARS = 2_000
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def bootstrap(db: str, workspace: str = "bench") -> str:
    """A workspace and an admin key in ``db``, made directly (as `selfmodel key create` does)."""
    from selfmodel.storage import open_store
    from selfmodel.tenancy import Scope, Tenancy

    store = open_store(db)
    try:
        tenancy = Tenancy(store)
        ws = store.get_workspace(workspace) or tenancy.create_workspace(workspace)
        return tenancy.mint_key(ws, Scope.ADMIN, "bench serve").secret
    finally:
        store.close()


def start_server(db: str, port: int, log: Path, *, worker: bool = True) -> subprocess.Popen[bytes]:
    """``selfmodel serve`` on ``port``; with ``worker=False`` queued work waits for a worker."""
    command = [sys.executable, "-m", "selfmodel", "serve", "--db", db, "--port", str(port)]
    command += ["--host", HOST, "--log-level", "warning"]
    command += ["--worker" if worker else "--no-worker"]
    with log.open("ab") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)


def start_worker(
    db: str, worker_id: str, log: Path, *, lease_s: float, batch: int
) -> subprocess.Popen[bytes]:
    """``selfmodel worker`` as a separate process, named ``worker_id`` in job leases."""
    command = [sys.executable, "-m", "selfmodel", "worker", "--db", db]
    command += ["--worker-id", worker_id, "--lease", str(lease_s), "--batch", str(batch)]
    command += ["--log-level", "info"]  # a line per job: what a killed worker was doing
    with log.open("ab") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)


def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``/readyz`` until it answers 200; fail (with the log's end) if the server exits."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-LOG_TAIL_CHARS:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(READY_POLL_S)
    raise RuntimeError("server did not become ready in time")


def start_servers(
    stack: ExitStack, db: str, processes: int, workdir: Path, *, worker: bool = True
) -> list[str]:
    """``processes`` API servers on ``db``, started together and stopped when ``stack`` closes;
    their base URLs once all are ready. ``db`` is migrated already (``bootstrap``)."""
    started: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    for _ in range(processes):
        port = free_port()
        log = workdir / f"serve-{port}.log"
        process = start_server(db, port, log, worker=worker)
        stack.callback(stop, process)
        started.append((f"http://{HOST}:{port}", process, log))
    for base, process, log in started:
        wait_ready(base, process, log)
    return [base for base, _, _ in started]


def stop(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> int:
    """SIGTERM (a graceful stop), then SIGKILL if it is still running after ``timeout``.

    Returns the exit code: 0 for a graceful stop, ``-SIGKILL`` when it had to be killed.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=KILL_TIMEOUT_S)


__all__ = [
    "bootstrap",
    "free_port",
    "start_server",
    "start_servers",
    "start_worker",
    "stop",
    "wait_ready",
]
