"""`selfmodel serve` as a real process: it serves, answers bad HTTP in JSON, stops on SIGTERM."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.processes import start_api, stop_process, wait_ready
from tests.support.server import raw_request


@pytest.mark.slow
def test_sigterm_stops_serve_gracefully_and_closes_the_store(tmp_path: Path) -> None:
    db = tmp_path / "serve.db"
    api = start_api(str(db), "serve", tmp_path)
    try:
        wait_ready(api)
        assert httpx.get(f"{api.base_url}/healthz").status_code == 200
    finally:
        exit_code = stop_process(api.process)
    assert exit_code == 0
    # A closed SQLite store checkpoints and removes its WAL and shared-memory files.
    assert not Path(f"{db}-wal").exists()
    assert not Path(f"{db}-shm").exists()


@pytest.mark.slow
def test_serve_answers_a_request_uvicorn_cannot_parse_in_the_error_shape(tmp_path: Path) -> None:
    api = start_api(str(tmp_path / "serve.db"), "serve", tmp_path)
    try:
        wait_ready(api)
        response = raw_request(
            api.base_url,
            b"POST /v1/users/ada/observations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: abc\r\n\r\n{}",
        )
    finally:
        stop_process(api.process)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "bad_request"
