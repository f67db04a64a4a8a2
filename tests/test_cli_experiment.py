"""``selfmodel experiment …``: define from --variant specs, list, show, assign, stop; bad input
is one line on stderr and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app
from selfmodel.cli.experiment import parse_variant
from selfmodel.embedding import SentenceTransformerEmbedder

runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "160"})


def test_a_variant_spec_names_its_weight_config_and_ranking_weights() -> None:
    assert parse_variant("off:personalized=false") == {
        "name": "off",
        "config": {"ranking": {}, "personalized": False},
    }
    assert parse_variant("dense: weight=2, keyword_weight=0, budget_tokens=200,strip_names=no") == {
        "name": "dense",
        "weight": 2,
        "config": {"ranking": {"keyword_weight": 0, "strip_names": False}, "budget_tokens": 200},
    }
    assert parse_variant("plain") == {"name": "plain", "config": {"ranking": {}}}


def test_an_experiment_is_created_listed_assigned_and_stopped(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    db = str(tmp_path / "cli.db")
    with SelfModel.open(db, embedder=embedder) as sm:
        sm.observe("maya", "I love hiking.")
    created = invoke(
        "experiment", "create", "pers", "--variant", "off:personalized=false",
        "--variant", "on:mmr_lambda=0.6,weight=3", "--layer", "memory", "--traffic", "0.5",
        "--db", db,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "personalization off" in created.output and "mmr_lambda=0.6" in created.output
    shown = invoke("experiment", "show", "pers", "--db", db, "--json")
    data = json.loads(shown.output)
    assert (data["layer"], data["bucket_end"], data["variants"][1]["weight"]) == (
        "memory",
        5000,
        3.0,
    )
    listed = invoke("experiment", "list", "--db", db)
    assert "pers" in listed.output and "running" in listed.output
    assigned = invoke("experiment", "assign", "pers", "maya", "--db", db, "--json")
    got = json.loads(assigned.output)
    with SelfModel.open(db, embedder=embedder) as sm:
        assert got["variant"] == sm.assignment("maya", "pers").variant
    stopped = invoke("experiment", "stop", "pers", "--db", db)
    assert stopped.exit_code == 0 and "stopped" in stopped.output
    bad = invoke("experiment", "create", "x", "--variant", "a:nope=1", "--variant", "b", "--db", db)
    assert bad.exit_code == 2 and "nope" in bad.output
    unknown = invoke("experiment", "show", "nope", "--db", db)
    assert unknown.exit_code == 1
