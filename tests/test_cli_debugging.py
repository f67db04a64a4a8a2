"""The debugging commands on a real file: replay (recorded, --set, --config, --dense-only),
why-not, as-of, lineage, and `bench replay` on a small LoCoMo-format conversation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app
from selfmodel.domain.time import utcnow
from selfmodel.embedding import SentenceTransformerEmbedder

runner = CliRunner()
MESSAGES = [
    {"content": "I love hiking in the mountains.", "occurred_at": "2024-03-02T09:00:00Z"},
    {"content": "I'm a nurse at the children's hospital.", "occurred_at": "2024-03-02T09:01:00Z"},
    {"content": "I play chess with my brother Tom.", "occurred_at": "2024-03-09T20:00:00Z"},
]


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args), env={"COLUMNS": "160"})


@pytest.fixture
def recorded(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> tuple[str, str, str]:
    """A store with one trace: (db, trace id, id of the first item of its block)."""
    db = str(tmp_path / "cli.db")
    with SelfModel.open(db, embedder=embedder) as sm:
        sm.observe("maya", MESSAGES)
        result = sm.context("maya", "hiking in the mountains", limit=2)
    return db, result.trace_id, result.items[0].id


def test_replay_prints_reproduced_and_a_diff_under_set_and_config(
    recorded: tuple[str, str, str], tmp_path: Path
) -> None:
    db, trace, _ = recorded
    same = invoke("replay", trace, "--db", db)
    assert same.exit_code == 0, same.output
    assert "reproduced exactly" in same.output

    wider = invoke("replay", trace, "--db", db, "--set", "limit=3", "--json")
    assert wider.exit_code == 0, wider.output
    answer = json.loads(wider.output)
    assert answer["config"]["limit"] == 3 and len(answer["gained"]) == 1
    assert answer["differences"] and not answer["reproduced"]

    config = tmp_path / "dense.toml"
    config.write_text("[ranking]\nkeyword_weight = 0\n")
    from_file = invoke("replay", trace, "--db", db, "--config", str(config), "--json")
    dense = invoke("replay", trace, "--db", db, "--dense-only", "--json")
    assert json.loads(from_file.output)["config"]["ranking"]["keyword_weight"] == 0
    assert json.loads(dense.output)["config"]["ranking"]["request_keyword_weight"] == 0


def test_replay_refuses_bad_settings_in_one_line(recorded: tuple[str, str, str]) -> None:
    db, trace, _ = recorded
    bad = invoke("replay", trace, "--db", db, "--set", "ranking.colour=3")
    assert bad.exit_code == 2 and "unknown ranking setting" in bad.output
    malformed = invoke("replay", trace, "--db", db, "--set", "limit")
    assert malformed.exit_code == 2 and "KEY=VALUE" in malformed.output
    missing = invoke("replay", "trc_nope", "--db", db)
    assert missing.exit_code == 1 and "no trace" in missing.output


def test_why_not_as_of_and_lineage_print_their_answers(recorded: tuple[str, str, str]) -> None:
    db, trace, item = recorded
    chosen = invoke("why-not", trace, item, "--db", db)
    assert chosen.exit_code == 0 and chosen.output.startswith("chosen")
    with SelfModel.open(db) as sm:
        chess = next(
            o.id
            for o in sm.store.list_observations(sm.workspace.id, [sm.user("maya").id])
            if "chess" in o.content
        )
    cut = invoke("why-not", trace, chess, "--db", db, "--json")
    assert json.loads(cut.output)["verdict"] in {"rank_cutoff", "held_by_belief", "diversity"}

    past = invoke("as-of", "maya", "--trace", trace, "--db", db, "--json")
    assert past.exit_code == 0
    assert json.loads(past.output)["trace_id"] == trace
    now = invoke("as-of", "maya", "--at", utcnow().isoformat(), "--all", "--db", db)
    assert now.exit_code == 0 and "hiking" in now.output

    lineage = invoke("lineage", trace, item, "--db", db)
    assert lineage.exit_code == 0


def test_bench_replay_reproduces_every_trace_of_a_small_conversation(tmp_path: Path) -> None:
    data = {
        "speaker_a": "Ana",
        "speaker_b": "Ben",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a puppy called Rex last week!"},
            {
                "speaker": "Ben",
                "dia_id": "D1:2",
                "text": "Congrats! I just started learning guitar.",
            },
        ],
        "session_2_date_time": "10:00 am on 20 June, 2023",
        "session_2": [
            {"speaker": "Ana", "dia_id": "D2:1", "text": "I ran my first 10k yesterday."},
            {"speaker": "Ben", "dia_id": "D2:2", "text": "I moved to Lisbon for a new job."},
        ],
        "qa": [
            {"question": "What is Ana's dog called?", "evidence": ["D1:1"], "category": 4},
            {"question": "What does Ben play?", "evidence": ["D1:2"], "category": 4},
            {"question": "When did Ana run a 10k?", "evidence": ["D2:1"], "category": 2},
            {"question": "Where does Ben live?", "evidence": ["D2:2"], "category": 1},
        ],
    }
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "report.json"
    result = invoke("bench", "replay", str(path), "--json", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["traces"] == 2 * 2 * 3 + 4
    assert report["reproduced"] == report["traces"]
    assert f"reproduced {report['traces']}/{report['traces']}" in result.output
    assert set(report["dense_only"]["recall@10"]) >= {"recorded", "dense_only_replay"}
