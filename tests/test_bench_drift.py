"""`selfmodel bench drift`: one seed through the real pipeline and the worker — the steady
workspace raises nothing, the shifted one both expected alerts — and the command prints it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfmodel.cli import app

runner = CliRunner()


@pytest.mark.slow
def test_one_seed_of_the_drift_bench_through_the_command(tmp_path: Path) -> None:
    out = tmp_path / "drift.json"
    result = runner.invoke(
        app,
        ["bench", "drift", "--seeds", "1", "--first-seed", "3", "--json", str(out)],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "false alarm rate 0.000 (0/1 steady seeds with any alert)" in result.output
    report = json.loads(out.read_text())
    assert report["seeds"] == 1
    assert report["false_alarm_rate"] == 0.0 and report["per_seed"][0]["steady"] == []
    assert report["detection_rate"] == {"input_drift": 1.0, "self_model_drift": 1.0}
    assert report["thresholds"]["drift_alpha"] == 0.01
