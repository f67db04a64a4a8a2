"""``selfmodel bench serve`` end to end: real server processes, real HTTP load, both backends."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfmodel.cli import app
from tests.support.postgres import PostgresCluster

runner = CliRunner()


@pytest.mark.slow
def test_bench_serve_loads_sqlite_and_two_postgres_processes(
    tmp_path: Path, pg_cluster: PostgresCluster
) -> None:
    out = tmp_path / "serve.json"
    with pg_cluster.database() as url:
        result = runner.invoke(
            app,
            [
                "bench", "serve", "--duration", "1", "--concurrency", "4",
                "--pg-url", url, "--observe-share", "0.25", "--json", str(out),
            ],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["observe_share"] == 0.25
    assert report["embedding_floor"]["p50_ms"] > 0
    backends = report["backends"]
    assert backends["sqlite"]["processes"] == 1 and backends["postgresql"]["processes"] == 2
    for backend in backends.values():
        assert backend["errors"] == 0
        assert 0 < backend["client_cores"] <= os.cpu_count()  # a share of the machine it ran on
        assert backend["rows"]["context"]["requests"] > 0
    assert "embedding floor" in result.output and "postgresql ×2 context" in result.output


@pytest.mark.parametrize(
    "args",
    [["--duration", "0"], ["--pg-processes", "0"], ["--observe-share", "1.5"]],
)
def test_bench_serve_refuses_bad_options(args: list[str]) -> None:
    result = runner.invoke(app, ["bench", "serve", "--no-pg", *args])
    assert result.exit_code == 2
