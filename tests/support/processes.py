"""Real ``selfmodel`` processes for tests: API servers, always stopped afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from selfmodel.bench.serving import free_port
from selfmodel.bench.serving import stop as stop_process

READY_TIMEOUT_S = 90.0
READY_POLL_S = 0.1
LOG_TAIL_CHARS = 4000
HOST = "127.0.0.1"


def subprocess_env() -> dict[str, str]:
    """The environment of a child ``selfmodel`` process: quiet, and one thread for torch.

    Several model-loading processes share the test machine's cores; one intra-op thread each
    keeps them from oversubscribing it.
    """
    return {
        **os.environ,
        "TRANSFORMERS_VERBOSITY": "error",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": "1",
    }


def read_log(path: Path) -> str:
    """A child process's log so far ("" before it writes one)."""
    return path.read_text(errors="replace") if path.exists() else ""


def log_tail(path: Path) -> str:
    """The end of a process's log, to explain a failure."""
    return read_log(path)[-LOG_TAIL_CHARS:]


@dataclass
class ApiProcess:
    """A ``selfmodel serve`` child process and where it listens."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path


def start_api(location: str, name: str, log_dir: Path, *, worker: bool = False) -> ApiProcess:
    """``selfmodel serve`` on a free loopback port; its JSON log goes to ``log_dir/name.log``."""
    port = free_port()
    log = log_dir / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "selfmodel",
                "serve",
                "--db",
                location,
                "--host",
                HOST,
                "--port",
                str(port),
                "--worker" if worker else "--no-worker",
                "--log-level",
                "warning",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=subprocess_env(),
        )
    return ApiProcess(process, f"http://{HOST}:{port}", log)


def wait_ready(api: ApiProcess, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll ``/readyz`` until it answers 200; fail early (with the log) if the process exits."""
    deadline = time.monotonic() + timeout
    while True:
        if api.process.poll() is not None:
            raise AssertionError(
                f"{api.base_url} exited {api.process.returncode} before it was ready:\n"
                f"{log_tail(api.log)}"
            )
        try:
            if httpx.get(f"{api.base_url}/readyz", timeout=READY_POLL_S * 10).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet: keep polling until the deadline
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{api.base_url} not ready after {timeout:g} s:\n{log_tail(api.log)}"
            )
        time.sleep(READY_POLL_S)


def wait_for_log(
    process: subprocess.Popen[bytes], log: Path, text: str, timeout: float = READY_TIMEOUT_S
) -> None:
    """Wait until ``text`` appears in a child's log (e.g. ``worker started``)."""
    deadline = time.monotonic() + timeout
    while text not in read_log(log):
        if process.poll() is not None:
            raise AssertionError(f"process exited {process.returncode}:\n{log_tail(log)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {text!r} after {timeout:g} s:\n{log_tail(log)}")
        time.sleep(READY_POLL_S)


__all__ = [
    "ApiProcess",
    "log_tail",
    "read_log",
    "start_api",
    "stop_process",
    "subprocess_env",
    "wait_for_log",
    "wait_ready",
]
