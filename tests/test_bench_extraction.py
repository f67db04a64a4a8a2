"""``selfmodel bench extraction`` on a tiny LoCoMo-format conversation the test writes itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from selfmodel.bench.extraction import (
    METRICS,
    Extracted,
    GoldFact,
    content_only,
    run_extraction_bench,
    score,
)
from selfmodel.cli.bench import bench_app
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.errors import InvalidFileError


def conversation() -> dict[str, Any]:
    return {
        "speaker_a": "Ann",
        "speaker_b": "Bob",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a rescue dog last week!"},
            {"speaker": "Bob", "dia_id": "D1:2", "text": "Wow, congrats! How is he doing?"},
            {"speaker": "Ann", "dia_id": "D1:3", "text": "He's great. I work as a vet nurse."},
            {"speaker": "Bob", "dia_id": "D1:4", "text": "I started learning the violin."},
        ],
        "session_2_date_time": "10:00 am on 20 May, 2023",
        "session_2": [
            {"speaker": "Bob", "dia_id": "D2:1", "text": "Hi Ann! Did you get my message?"},
            {"speaker": "Ann", "dia_id": "D2:2", "text": "I ran my first half marathon."},
        ],
        "session_1_observation": {
            "Ann": [
                ["Ann adopted a rescue dog last week.", "D1:1"],
                ["Ann works as a vet nurse.", "D1:3"],
            ],
            "Bob": [["Bob started learning the violin.", "D1:4"]],
        },
        "session_2_observation": {"Ann": [["Ann ran her first half marathon.", "D2:2"]]},
    }


def write(tmp_path: Path, data: dict[str, Any], name: str = "tiny.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_plain_first_person_facts_are_all_found_and_cite_their_turns(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    report = run_extraction_bench([write(tmp_path, conversation())], embedder)
    system = report["system"]
    assert system["fact_recall"] == 1.0
    assert system["precision"] == 1.0  # the greeting and the question produce nothing
    assert system["beliefs_per_100_turns"] == pytest.approx(100 * 4 / 6)
    assert system["turns_per_s"] > 0
    baseline = report["baseline"]
    # The baseline keeps the first-person question ("Did you get my message?"); the system not.
    assert baseline["beliefs_per_100_turns"] > system["beliefs_per_100_turns"]
    assert baseline["precision"] < 1.0


def test_a_matching_belief_from_another_turn_does_not_count_as_found(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    data = conversation()
    data["session_1_observation"]["Bob"] = [["Bob started learning the violin.", "D1:2"]]
    report = run_extraction_bench([write(tmp_path, data)], embedder)
    assert report["system"]["fact_recall"] == pytest.approx(3 / 4)
    assert report["system"]["precision"] == 1.0  # still true of Bob: precision ignores the turn


def test_json_out_holds_exactly_the_tracked_metrics(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = CliRunner().invoke(
        bench_app,
        ["extraction", "--data", str(write(tmp_path, conversation())), "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "fact_recall" in result.output and "baseline" in result.output
    written = json.loads(out.read_text())
    assert set(written) == {"system", "baseline"}
    for metrics in written.values():
        assert set(metrics) == set(METRICS)
        assert 0.0 <= metrics["fact_recall"] <= 1.0
        assert 0.0 <= metrics["precision"] <= 1.0


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("session_1_observation") and d.pop("session_2_observation"), "no session"),
        (lambda d: d.update(session_2_observation={"Ann": "ran a marathon"}), "not a list"),
        (lambda d: d.update(session_2_observation={"Ann": [["only the fact"]]}), "[fact, dia_id]"),
        (lambda d: d.pop("speaker_b"), "not LoCoMo"),
    ],
)
def test_malformed_files_are_refused_with_a_reason(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, mutate: Any, message: str
) -> None:
    data = conversation()
    mutate(data)
    with pytest.raises(InvalidFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        run_extraction_bench([write(tmp_path, data)], embedder)


def test_a_missing_file_exits_with_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(bench_app, ["extraction", "--data", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_matching_ignores_who_and_when_so_the_baseline_is_not_penalised_for_saying_i() -> None:
    assert content_only("In the week of 26 June 2023 Ann adopted Ann's dog", "Ann") == (
        "adopted dog"
    )
    assert content_only("I adopted my dog last week", "Ann") == "adopted dog"


def test_score_counts_a_fact_once_however_many_beliefs_match_it(
    embedder: SentenceTransformerEmbedder,
) -> None:
    facts = [GoldFact("Ann", "Ann works as a vet nurse.", frozenset({"D1:3"}))]
    beliefs = [
        Extracted("Ann", "Ann works as a vet nurse", frozenset({"D1:3"})),
        Extracted("Ann", "Ann is a veterinary nurse", frozenset({"D1:3"})),
        Extracted("Bob", "Bob works as a vet nurse", frozenset({"D1:3"})),  # another speaker
    ]
    tally = score(facts, beliefs, embedder)
    assert (tally.facts, tally.facts_found) == (1, 1)
    assert (tally.beliefs, tally.beliefs_matching) == (3, 2)
