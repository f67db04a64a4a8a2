"""`selfmodel serve` as a real process: it serves, answers bad HTTP in JSON, stops on SIGTERM.

One process for all three: starting one (imports, then the models) is what costs here."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.processes import start_api, stop_process, wait_ready
from tests.support.server import raw_request


@pytest.mark.slow
def test_serve_answers_bad_http_in_the_error_shape_and_stops_gracefully_on_sigterm(
    tmp_path: Path,
) -> None:
    db = tmp_path / "serve.db"
    api = start_api(str(db), "serve", tmp_path)
    try:
        wait_ready(api)
        assert httpx.get(f"{api.base_url}/healthz").status_code == 200
        # A request uvicorn cannot parse is answered in the API's error shape, not in plain text.
        response = raw_request(
            api.base_url,
            b"POST /v1/users/ada/observations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: abc\r\n\r\n{}",
        )
    finally:
        exit_code = stop_process(api.process)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "bad_request"
    assert exit_code == 0
    # A closed SQLite store checkpoints and removes its WAL and shared-memory files.
    assert not Path(f"{db}-wal").exists()
    assert not Path(f"{db}-shm").exists()
