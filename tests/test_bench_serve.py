"""``selfmodel bench serve`` end to end: real server processes, real HTTP load, both backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from selfmodel.cli import app
from selfmodel.cli.bench_serve import context_ratios, segment_order
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
                "--pg-url", url, "--observe-share", "0.25", "--rounds", "2",
                "--json", str(out),
            ],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["observe_share"] == 0.25 and report["rounds"] == 2
    floor = report["embedding_floor"]
    assert floor["p50_ms"] > 0 and floor["embedder"] == "all-MiniLM-L6-v2"
    assert floor["computes_in"] in ("bfloat16", "float32")
    assert f"all-MiniLM-L6-v2, {floor['computes_in']}" in result.output
    backends = report["backends"]
    assert backends["sqlite"]["processes"] == 1 and backends["postgresql"]["processes"] == 2
    for backend in backends.values():
        assert backend["errors"] == 0
        assert 0 < backend["client_cores"] <= os.cpu_count()  # a share of the machine it ran on
        assert backend["rows"]["context"]["requests"] > 0
        # Two turns each, and the table's rate is theirs together.
        assert len(backend["context_per_s_by_round"]) == 2
        assert backend["wall_s"] >= 2 * 0.5
    ratio = report["context_ratios"]["postgresql"]
    assert len(ratio["by_round"]) == 2 and ratio["overall"] > 0
    assert "embedding floor" in result.output and "postgresql ×2 context" in result.output
    assert "postgresql / sqlite context calls a second" in result.output


def test_backends_take_turns_every_other_round_reversed() -> None:
    assert segment_order(["sqlite", "postgresql"], 3) == [
        ("sqlite", 0), ("postgresql", 0), ("postgresql", 1),
        ("sqlite", 1), ("sqlite", 2), ("postgresql", 2),
    ]  # fmt: skip
    assert segment_order(["sqlite"], 2) == [("sqlite", 0), ("sqlite", 1)]


def test_context_ratios_are_over_the_first_backend_round_by_round() -> None:
    def result(per_s: float, by_round: list[float]) -> dict[str, Any]:
        return {"rows": {"context": {"per_s": per_s}}, "context_per_s_by_round": by_round}

    ratios = context_ratios(
        {"sqlite": result(60.0, [50.0, 70.0]), "postgresql": result(54.0, [50.0, 56.0])}
    )
    assert ratios == {"postgresql": {"overall": 0.9, "by_round": [1.0, 0.8]}}
    assert context_ratios({"sqlite": result(60.0, [60.0])}) == {}


@pytest.mark.parametrize(
    "args",
    [
        ["--duration", "0"],
        ["--pg-processes", "0"],
        ["--observe-share", "1.5"],
        ["--rounds", "0"],
    ],
)
def test_bench_serve_refuses_bad_options(args: list[str]) -> None:
    result = runner.invoke(app, ["bench", "serve", "--no-pg", *args])
    assert result.exit_code == 2


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            if parent == pid:
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_bench_serve_ended_by_sigterm_stops_the_servers_it_started(tmp_path: Path) -> None:
    """A `kill` or a CI timeout sends SIGTERM: the run unwinds as on Ctrl-C, and no API server
    it started is left running."""
    bench = subprocess.Popen(
        [sys.executable, "-m", "selfmodel", "bench", "serve", "--no-pg", "--duration", "300"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        cwd=tmp_path,
    )
    servers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not servers and bench.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            servers = [p for p in _children(bench.pid) if b"serve" in _cmdline(p)]
        assert servers, "no server was started"
        bench.send_signal(signal.SIGTERM)
        _, stderr = bench.communicate(timeout=60)
        assert bench.returncode == 128 + signal.SIGTERM, stderr.decode()[-2000:]
        assert not [pid for pid in servers if _running(pid)]
    finally:
        if bench.poll() is None:
            bench.kill()
        for pid in servers:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
