"""The command line: real commands on real files; errors are one line and a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app
from selfmodel.embedding import SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture
def chat_file(tmp_path: Path) -> Path:
    path = tmp_path / "chat.jsonl"
    lines = [
        {
            "user": "maya",
            "id": "c1",
            "content": "I love hiking in the mountains.",
            "occurred_at": "2024-03-02T09:00:00Z",
        },
        {
            "user": "maya",
            "id": "c2",
            "content": "I'm a nurse at the children's hospital.",
            "occurred_at": "2024-03-02T09:01:00Z",
        },
        {
            "user": "tom",
            "id": "c3",
            "content": "I play chess every evening.",
            "occurred_at": "2024-03-03T20:00:00Z",
        },
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


@pytest.fixture
def locomo_file(tmp_path: Path) -> Path:
    """A tiny conversation in the LoCoMo format, written here (not copied from the benchmark)."""
    data = {
        "speaker_a": "Ana",
        "speaker_b": "Ben",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a puppy last week!"},
            {
                "speaker": "Ben",
                "dia_id": "D1:2",
                "text": "Congrats! I just started learning guitar.",
            },
        ],
        "session_2_date_time": "10:00 am on 20 June, 2023",
        "session_2": [
            {
                "speaker": "Ana",
                "dia_id": "D2:1",
                "text": "I ran my first 10k yesterday.",
                "blip_caption": "a woman holding a medal",
            },
        ],
    }
    path = tmp_path / "conversation.json"
    path.write_text(json.dumps(data))
    return path


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args), env={"COLUMNS": "160"})


def test_ingest_show_context_history_export_forget_round_trip(
    chat_file: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "cli.db")
    result = invoke("ingest", str(chat_file), "--db", db)
    assert result.exit_code == 0, result.output
    assert "3 new observations" in result.output

    again = invoke("ingest", str(chat_file), "--db", db)
    assert "0 new observations, 3 already known" in again.output

    shown = invoke("show", "maya", "--db", db)
    assert shown.exit_code == 0 and "hiking" in shown.output
    belief_id = next(w for w in shown.output.split() if w.startswith("bel_"))

    ctx = invoke("context", "maya", "what does she do outdoors?", "--db", db)
    assert ctx.exit_code == 0 and "hiking" in ctx.output and "trace trc_" in ctx.output

    hist = invoke("history", belief_id, "--db", db)
    assert hist.exit_code == 0 and "created" in hist.output

    out = tmp_path / "maya.json"
    exported = invoke("export", "maya", "--db", db, "--output", str(out))
    assert exported.exit_code == 0
    assert json.loads(out.read_text())["user"]["external_id"] == "maya"

    forgot = invoke("forget", "maya", "--db", db, "--yes")
    assert forgot.exit_code == 0 and "rows deleted" in forgot.output
    assert invoke("users", "--db", db).output.split() == ["tom"]


def test_area_option_reads_that_area_and_what_is_global(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    db = str(tmp_path / "areas.db")
    with SelfModel.open(db, embedder=embedder) as sm:
        sm.observe("maya", "Hi!")
        coach = sm.add_belief("maya", "Maya coaches the under-12s football team.", area="coach")
        gym = sm.add_belief("maya", "Maya lifts weights on Mondays.", area="gym")
        both = sm.add_belief("maya", "Maya prefers short answers.")
    for area, seen, unseen in (("coach", coach, gym), ("gym", gym, coach)):
        shown = invoke("show", "maya", "--db", db, "--area", area)
        assert shown.exit_code == 0, shown.output
        assert seen.id in shown.output and both.id in shown.output
        assert unseen.id not in shown.output
        block = invoke("context", "maya", "plan my week", "--db", db, "--area", area, "--json")
        assert block.exit_code == 0, block.output
        items = {i["id"] for i in json.loads(block.output)["items"]}
        assert seen.id in items and unseen.id not in items


def test_show_prints_the_profile_before_the_beliefs(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    # Said in the last weeks: `show` reads as of now, and what is long unsaid fades.
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    moved = today - timedelta(days=20)
    db = str(tmp_path / "profile.db")
    with SelfModel.open(db, embedder=embedder) as sm:
        for days_ago, text in [
            (40, "Hi! I'm Maya."),
            (39, "I live in London."),
            (20, "Home is now Edinburgh."),
            (19, "Our dog Biscuit loves the beach."),
            (18, "I like jazz."),
        ]:
            sm.observe("maya", {"content": text, "occurred_at": today - timedelta(days=days_ago)})
        liked = next(b for b in sm.beliefs("maya") if b.statement.endswith("likes jazz"))
        sm.confirm(liked.id)
        sm.observe("maya", {"content": "I don't like jazz.", "occurred_at": today})
    shown = invoke("show", "maya", "--db", db)
    assert shown.exit_code == 0, shown.output
    lines = [" ".join(line.strip("│ ").split()) for line in shown.output.splitlines()]
    assert "Maya · maya" in shown.output
    since = f"{moved.day} {moved:%b %Y}"
    assert f"Lives in Edinburgh · since {since} · before: London" in lines
    assert "Pets Maya has a dog named Biscuit" in lines
    assert "Conflict Maya likes jazz ⟷ Maya doesn't like jazz" in lines
    assert shown.output.index("Lives in") < shown.output.index("Self-model of maya")


def test_locomo_files_become_one_user_per_speaker_dated_by_session(
    locomo_file: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "locomo.db")
    result = invoke("ingest", str(locomo_file), "--db", db)
    assert result.exit_code == 0, result.output
    assert invoke("users", "--db", db).output.split() == ["Ana", "Ben"]
    exported = json.loads(invoke("export", "Ana", "--db", db).output)
    dates = [o["occurred_at"][:10] for o in exported["observations"]]
    assert dates == ["2023-05-08", "2023-06-20"]
    assert "medal" in exported["observations"][1]["content"]
    # Each turn is said to the other speaker (extraction names the listener by it).
    assert {o["metadata"]["addressee"] for o in exported["observations"]} == {"Ben"}


def test_a_locomo_turn_by_a_third_speaker_is_refused_naming_the_turn(
    locomo_file: Path, tmp_path: Path
) -> None:
    data = json.loads(locomo_file.read_text())
    data["session_2"][0]["speaker"] = "Cy"
    locomo_file.write_text(json.dumps(data))
    db = str(tmp_path / "locomo.db")
    result = invoke("ingest", str(locomo_file), "--db", db)
    assert result.exit_code == 2
    assert "turn D2:1 is by 'Cy', who is neither speaker_a ('Ana') nor speaker_b ('Ben')" in (
        result.output
    )
    assert invoke("users", "--db", db).output.split() == []  # nothing ingested


def test_errors_are_one_line_with_a_non_zero_exit(tmp_path: Path) -> None:
    db = str(tmp_path / "e.db")
    missing = invoke("show", "nobody", "--db", db)
    assert missing.exit_code == 1
    assert missing.output.strip().splitlines() == ["error: no user 'nobody' in workspace 'default'"]

    bad = tmp_path / "bad.json"
    bad.write_text("{ this is not json")
    result = invoke("ingest", str(bad), "--db", db)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "neither JSON nor JSONL" in result.output

    assert invoke("history", "bel_nope", "--db", db).exit_code == 1


def test_db_defaults_to_the_environment_variable(chat_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "from-env.db"
    result = runner.invoke(app, ["ingest", str(chat_file)], env={"SELFMODEL_DB": str(db)})
    assert result.exit_code == 0, result.output
    assert db.exists()


def test_cli_reference_is_generated_from_the_real_help() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import cli_docs
    finally:
        sys.path.pop(0)
    assert (ROOT / "docs" / "cli.md").read_text() == cli_docs.render(), (
        "docs/cli.md is stale: run `python scripts/cli_docs.py`"
    )


@pytest.mark.slow
def test_demo_command_runs_as_a_real_process(tmp_path: Path) -> None:
    """What `make run` does, as a newcomer would run it."""
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.run(
        [sys.executable, "-m", "selfmodel", "demo", "--db", str(tmp_path / "demo.db")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Self-model of maya" in proc.stdout
    # "Hi! I'm Maya": the name is learnt from the self-introduction and used from then on.
    assert "What is known about Maya" in proc.stdout
    assert "prefers short, direct answers" in proc.stdout


def test_outcomes_command_lists_what_was_recorded_as_a_table_or_json(
    chat_file: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "cli.db")
    assert invoke("ingest", str(chat_file), "--db", db).exit_code == 0
    with SelfModel.open(db) as sm:
        answer = sm.context("maya", "what does she do outdoors?")
        sm.record_outcome("maya", "rating", trace_id=answer.trace_id, value=4.5)
        sm.record_outcome("maya", "correction", label="Hiking [b]and[/b] climbing")
        workspace = sm.workspace.name
    table = invoke("outcomes", "maya", "--db", db, "--workspace", workspace)
    assert table.exit_code == 0, table.output
    assert "rating" in table.output and "4.5" in table.output
    assert "Hiking [b]and[/b] climbing" in table.output  # markup is shown, not applied
    listed = invoke("outcomes", "maya", "--db", db, "--workspace", workspace, "--json")
    assert [o["kind"] for o in json.loads(listed.output)] == ["rating", "correction"]
    only = invoke("outcomes", "maya", "--db", db, "--trace", answer.trace_id, "--json")
    assert [o["value"] for o in json.loads(only.output)] == [4.5]
    bad = invoke("outcomes", "maya", "--db", db, "--kind", "stars")
    assert bad.exit_code == 2 and "kind 'stars' is not one of" in bad.output
    unknown = invoke("outcomes", "nobody", "--db", db)
    assert unknown.exit_code == 1 and "no user 'nobody'" in unknown.output
