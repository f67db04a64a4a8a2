"""`selfmodel serve` as a real process: it serves, and SIGTERM shuts it down cleanly."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.processes import start_api, stop_process, wait_ready


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
