"""`selfmodel serve` as a real process: it serves, answers bad HTTP in JSON, stops on SIGTERM.

One process for all three: starting one (imports, then the models) is what costs here."""

from __future__ import annotations

import os
import subprocess
import sys
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


@pytest.mark.slow
def test_warm_up_loads_what_would_load_on_the_first_request(tmp_path: Path) -> None:
    """In a fresh interpreter (this one has loaded everything already): nothing is loaded when
    the engine opens; after ``warm_up`` the embedding model and the language pipeline are."""
    script = """
import sys
from selfmodel import SelfModel
from selfmodel.embedding import sentence_transformers as embedding
from selfmodel.extraction.language import Language
with SelfModel.open(sys.argv[1]) as sm:
    before = (len(embedding._models), len(Language._loaded))
    sm.warm_up()
    print(before, (len(embedding._models), len(Language._loaded)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "warm.db")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "(0, 0) (1, 1)"


@pytest.mark.slow
def test_serve_with_a_missing_language_pipeline_stops_before_listening(tmp_path: Path) -> None:
    """The models load before the server listens: a pipeline that is not installed is one line
    saying how to install it, exit code 1, instead of a server failing its requests."""
    done = subprocess.run(
        [sys.executable, "-m", "selfmodel", "serve", "--db", str(tmp_path / "s.db"), "--port", "9"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "SELFMODEL_SPACY_MODEL": "xx_no_such_pipeline"},
    )
    assert done.returncode == 1, done.stderr
    assert "spaCy pipeline 'xx_no_such_pipeline' is not installed" in done.stderr
