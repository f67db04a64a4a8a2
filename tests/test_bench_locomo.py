"""``selfmodel bench locomo`` and ``bench scale`` on tiny files written by the tests themselves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from selfmodel.bench.baselines import RawTurnBaselines
from selfmodel.bench.locomo import (
    BELIEFS_ONLY_BUDGET,
    Scores,
    lead_over_best_baseline,
    load_conversation,
    turn_unit,
)
from selfmodel.bench.report import percentile, write_json
from selfmodel.cli import app
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.errors import InvalidFileError

runner = CliRunner()
METRICS = {"recall@1", "recall@5", "recall@10", "recall@20", "all@10", "tokens@10"}


def _turn(speaker: str, dia: str, text: str, caption: str | None = None) -> dict[str, str]:
    turn = {"speaker": speaker, "dia_id": dia, "text": text}
    if caption:
        turn["blip_caption"] = caption
    return turn


@pytest.fixture
def locomo_file(tmp_path: Path) -> Path:
    data = {
        "speaker_a": "Ana",
        "speaker_b": "Ben",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            _turn("Ana", "D1:1", "Hi Ben! I adopted a grey cat called Miso yesterday."),
            _turn("Ben", "D1:2", "Congrats! I just started pottery classes.", "a clay bowl"),
            _turn("Ana", "D1:3", "I work as a nurse at the children's hospital."),
            _turn("Ben", "D1:4", "My dog Rex loves the beach."),
        ],
        "session_2_date_time": "10:00 am on 20 June, 2023",
        "session_2": [
            _turn("Ana", "D2:1", "I ran my first half marathon last Sunday!"),
            _turn("Ben", "D2:2", "Amazing. I finished my first vase in pottery class."),
        ],
        "qa": [
            {
                "question": "What pet did Ana adopt?",
                "answer": "a cat",
                "evidence": ["D1:1"],
                "category": 4,
            },
            {
                "question": "When did Ana run a half marathon?",
                "answer": "June 2023",
                "evidence": ["D2:1"],
                "category": 2,
            },
            {
                "question": "What has Ben made in pottery?",
                "answer": "a bowl, a vase",
                "evidence": ["D1:2", "D2:2"],
                "category": 1,
            },
            {
                "question": "What would Ana study?",
                "answer": "nursing",
                "evidence": ["D1:3"],
                "category": 3,
            },
            {
                "question": "What is Ana's boat called?",
                "answer": "n/a",
                "evidence": [],
                "category": 5,
            },
        ],
    }
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_units_are_dated_named_turns_with_their_photo_caption(locomo_file: Path) -> None:
    conv = load_conversation(locomo_file)
    assert turn_unit(conv.turns[1]) == (
        "[8 May 2023] Ben: Congrats! I just started pottery classes. [shares a photo: a clay bowl]"
    )
    assert [q.category for q in conv.questions] == ["4", "2", "1", "3"]  # category 5 left out


def test_bench_locomo_prints_a_table_and_writes_the_specified_json(
    locomo_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["bench", "locomo", "--data", str(locomo_file), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "selfmodel" in result.output and "hybrid" in result.output
    report = json.loads(out.read_text())
    for system in [report["system"], report["beliefs_only"], *report["baselines"].values()]:
        assert set(system["overall"]) == METRICS
        assert set(system["by_category"]) == {"1", "2", "3", "4"}
        for key in METRICS - {"tokens@10"}:
            assert 0.0 <= system["overall"][key] <= 1.0
    assert set(report["baselines"]) == {"bm25", "dense", "hybrid", "hybrid_names"}
    assert report["beliefs_only_budget"] == BELIEFS_ONLY_BUDGET
    assert 0 < report["beliefs_only"]["overall"]["tokens@10"] <= BELIEFS_ONLY_BUDGET
    assert set(report["latency_ms"]) == {"context_p50", "context_p95", "embed_query_p50"}
    assert report["full_tokens"] > 0 and report["system"]["overall"]["tokens@10"] > 0
    assert report["ingest_turns_per_s"] > 0 and report["embed_batch_per_s"] > 0
    # Six turns and k = 10: everything is retrieved, by the system and by every baseline.
    assert report["system"]["overall"]["recall@10"] == 1.0
    assert report["baselines"]["bm25"]["overall"]["recall@20"] <= 1.0
    # The system's lead over the best baseline, paired over questions.
    assert "lead in recall@10 over the best baseline" in result.output
    lead = report["lead"]
    assert lead["metric"] == "recall@10"
    assert lead["bootstrap"] == {
        "resamples": 2000,
        "seed": 20240501,
        "confidence": 0.95,
        "unit": "question",
    }
    assert set(lead["by_category"]) == {"1", "2", "3", "4"}
    for row in [lead["overall"], *lead["by_category"].values()]:
        assert row["best_baseline"] in report["baselines"]
        assert row["lead"] == pytest.approx(row["system"] - row["baseline"])
        assert row["ci95"][0] <= row["lead"] <= row["ci95"][1]


def test_lead_arithmetic_and_its_interval() -> None:
    evidence = frozenset({"D1:1"})

    def scored(hits: list[bool]) -> Scores:
        scores = Scores((10,))
        for hit in hits:
            scores.add("1", [{"D1:1"} if hit else set()], evidence, 0)
        return scores

    system = scored([True, True, True, False])
    baselines = {
        "bm25": scored([True, False, False, False]),
        "dense": scored([False, True, True, False]),
    }
    lead = lead_over_best_baseline(system, baselines)
    assert lead["overall"]["best_baseline"] == "dense"  # 0.5 beats 0.25
    assert lead["overall"]["lead"] == pytest.approx(0.25)
    low, high = lead["overall"]["ci95"]
    assert 0.0 <= low <= 0.25 <= high <= 1.0  # differences are 0 or +1: never below zero
    assert lead_over_best_baseline(system, baselines) == lead  # seeded: the same CI every run


def test_name_aware_hybrid_weights_the_named_speaker_and_matches_without_names(
    embedder: SentenceTransformerEmbedder,
) -> None:
    units = ["I love hiking in the hills", "I love hiking in the hills"]
    baselines = RawTurnBaselines(units, embedder.embed(units), ["Ana", "Ben"])
    embedded: list[str] = []

    def embed_one(text: str) -> np.ndarray:
        embedded.append(text)
        return embedder.embed_one(text)

    one = baselines.rankings("Where does Ben love hiking?", embed_one)
    assert one["hybrid"] == [0, 1]  # a tie: the order of the turns
    assert one["hybrid_names"] == [1, 0]  # Ben named, so Ben's turn first
    assert embedded == ["Where does Ben love hiking?", "Where does love hiking?"]
    both = baselines.rankings("Where do Ana and Ben love hiking?", embedder.embed_one)
    assert both["hybrid_names"] == [0, 1]  # naming everyone says nothing about whose turns


def test_two_files_after_one_data_option_are_both_run(locomo_file: Path, tmp_path: Path) -> None:
    second = tmp_path / "second.json"
    second.write_text(locomo_file.read_text(), encoding="utf-8")
    out = tmp_path / "r.json"
    result = runner.invoke(
        app, ["bench", "locomo", "--data", str(locomo_file), str(second), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["conversations"] == ["tiny", "second"]


def test_a_file_that_is_not_locomo_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "chat.json"
    bad.write_text(json.dumps([{"user": "a", "content": "hi"}]), encoding="utf-8")
    result = runner.invoke(app, ["bench", "locomo", "--data", str(bad)])
    assert result.exit_code == 2
    assert "not LoCoMo" in result.output
    with pytest.raises(InvalidFileError):
        load_conversation(tmp_path / "missing.json")


def test_non_positive_k_is_refused(locomo_file: Path) -> None:
    result = runner.invoke(app, ["bench", "locomo", "--data", str(locomo_file), "--k", "0"])
    assert result.exit_code == 2 and "positive" in result.output


def test_percentiles_interpolate_and_json_writes_nan_as_null(tmp_path: Path) -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    path = tmp_path / "x.json"
    write_json(path, {"a": float("nan"), "b": [1.0]})
    assert json.loads(path.read_text()) == {"a": None, "b": [1.0]}


@pytest.mark.slow
def test_bench_scale_reports_latency_and_memory_per_step(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    result = runner.invoke(
        app,
        ["bench", "scale", "--users", "2", "--per-user", "40", "--steps", "2", "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["synthetic_vectors"] is True
    assert [s["observations_per_user"] for s in report["steps"]] == [20, 40]
    assert all(s["context_warm_p50_ms"] > 0 and s["rss_mib"] > 0 for s in report["steps"])
    assert "warm p95 at 40 per user is" in result.output


@pytest.mark.slow
def test_bench_scale_takes_explicit_sizes(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    command = ["bench", "scale", "--users", "1", "--size", "30", "--size", "10", "--json", str(out)]
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert [s["observations_per_user"] for s in report["steps"]] == [10, 30]
    assert report["per_user"] == 30


def test_bench_scale_refuses_non_positive_sizes() -> None:
    result = runner.invoke(app, ["bench", "scale", "--users", "0"])
    assert result.exit_code == 2 and "positive" in result.output
    result = runner.invoke(app, ["bench", "scale", "--size", "0"])
    assert result.exit_code == 2 and "positive" in result.output


def test_bench_scale_asks_every_warm_call_a_new_question() -> None:
    # A repeated query finds its parse cached and times less than a real turn does.
    from selfmodel.bench.scale import DISTINCT_WARM_QUERIES, SAMPLED_USERS, WARM_QUERIES, warm_query

    asked = [warm_query(n) for n in range(DISTINCT_WARM_QUERIES)]
    assert len(set(asked)) == len(asked) >= 5 * SAMPLED_USERS * WARM_QUERIES  # five steps' worth
    assert all("my " not in q and "our " not in q for q in asked)
