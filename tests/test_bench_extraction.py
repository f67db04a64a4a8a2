"""``selfmodel bench extraction`` on a tiny LoCoMo-format conversation the test writes itself."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from selfmodel.bench.extraction import (
    BASELINES,
    METRICS,
    Extracted,
    GoldFact,
    content_only,
    every_sentence_beliefs,
    f1,
    first_person_beliefs,
    reliability,
    run_extraction_bench,
    score,
    whole_turn_beliefs,
)
from selfmodel.cli.bench import bench_app
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.errors import InvalidFileError
from selfmodel.ingest.files import LocomoTurn


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
    assert system["f1"] == 1.0
    baseline = report["baselines"]["first_person"]
    # The baseline keeps the first-person question ("Did you get my message?"); the system not.
    assert baseline["beliefs_per_100_turns"] > system["beliefs_per_100_turns"]
    assert baseline["precision"] < 1.0
    # Every sentence and every whole turn are in the same run: all facts, more noise.
    every, whole = report["baselines"]["every_sentence"], report["baselines"]["whole_turns"]
    assert every["fact_recall"] == whole["fact_recall"] == 1.0
    assert whole["beliefs_per_100_turns"] == 100.0
    assert every["precision"] < baseline["precision"] and every["f1"] < system["f1"]


def test_a_matching_belief_from_another_turn_does_not_count_as_found(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    data = conversation()
    data["session_1_observation"]["Bob"] = [["Bob started learning the violin.", "D1:2"]]
    report = run_extraction_bench([write(tmp_path, data)], embedder)
    assert report["system"]["fact_recall"] == pytest.approx(3 / 4)
    assert report["system"]["precision"] == 1.0  # still true of Bob: precision ignores the turn


def test_json_out_holds_every_system_per_file_and_the_reliability_table(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    data = write(tmp_path, conversation())
    result = CliRunner().invoke(
        bench_app, ["extraction", "--data", str(data), "--json", str(out)], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    for shown in ("fact recall", "F1", "every_sentence", "whole_turns", "Reliability"):
        assert shown in result.output
    written = json.loads(out.read_text())
    assert set(written) == {
        "system",
        "baselines",
        "baseline",
        "per_file",
        "reliability",
        "match_similarity",
        "facts",
        "turns",
    }
    assert (
        set(written["baselines"])
        == set(BASELINES)
        == {
            "first_person",
            "every_sentence",
            "whole_turns",
        }
    )
    assert written["baseline"] == written["baselines"]["first_person"]  # old readers still work
    assert set(written["per_file"]) == {"tiny"}
    assert set(written["per_file"]["tiny"]) == {"system", *BASELINES}
    assert written["match_similarity"] == 0.6
    for metrics in [written["system"], *written["baselines"].values()]:
        assert set(metrics) == set(METRICS)
        for key in ("fact_recall", "precision", "f1"):
            assert 0.0 <= metrics[key] <= 1.0
        assert metrics["f1"] == pytest.approx(f1(metrics["precision"], metrics["fact_recall"]))
    bins = written["reliability"]
    assert [b["bin"] for b in bins] == ["<0.5", "0.5-0.6", "0.6-0.7", "0.7-0.8", "0.8-0.9", ">=0.9"]
    assert sum(b["beliefs"] for b in bins) == 4  # every system belief lands in one bin


def test_verbatim_baselines_keep_what_their_names_say() -> None:
    turns = [
        LocomoTurn("Ann", "D1:1", 1, datetime(2023, 5, 8, tzinfo=UTC), "Hi Bob! I got a dog."),
        LocomoTurn("Bob", "D1:2", 1, datetime(2023, 5, 8, tzinfo=UTC), "Nice. What breed?"),
    ]
    assert [e.text for e in first_person_beliefs(turns)] == ["I got a dog."]
    assert [e.text for e in every_sentence_beliefs(turns)] == [
        "Hi Bob!",
        "I got a dog.",
        "Nice.",
        "What breed?",
    ]
    whole = whole_turn_beliefs(turns)
    assert [(e.speaker, e.text, e.dia_ids) for e in whole] == [
        ("Ann", "Hi Bob! I got a dog.", frozenset({"D1:1"})),
        ("Bob", "Nice. What breed?", frozenset({"D1:2"})),
    ]
    assert all(e.confidence is None for e in whole)


def test_f1_is_the_harmonic_mean_and_says_when_it_is_undefined() -> None:
    assert f1(0.5, 0.5) == 0.5
    assert f1(0.393, 0.592) == pytest.approx(2 * 0.393 * 0.592 / (0.393 + 0.592))
    assert f1(1.0, 0.0) == 0.0 and f1(0.0, 0.0) == 0.0
    assert math.isnan(f1(math.nan, 0.5))


def test_reliability_bins_by_confidence_and_counts_the_matching_share() -> None:
    def belief(confidence: float | None) -> Extracted:
        return Extracted("Ann", "x", frozenset(), confidence)

    beliefs = [belief(c) for c in (0.2, 0.55, 0.6, 0.65, 0.69, 0.95, 1.0, None)]
    matched = [False, True, True, False, True, True, True, True]
    bins = {b["bin"]: b for b in reliability(beliefs, matched)}
    assert list(bins) == ["<0.5", "0.5-0.6", "0.6-0.7", "0.7-0.8", "0.8-0.9", ">=0.9"]
    assert (bins["<0.5"]["beliefs"], bins["<0.5"]["matching"]) == (1, 0)
    assert bins["0.6-0.7"]["beliefs"] == 3  # 0.6 opens its bin; 0.69 stays below 0.7
    assert bins["0.6-0.7"]["share_matching"] == pytest.approx(2 / 3)
    assert bins[">=0.9"]["beliefs"] == 2 and bins[">=0.9"]["share_matching"] == 1.0
    assert bins["0.8-0.9"]["beliefs"] == 0 and math.isnan(bins["0.8-0.9"]["share_matching"])
    assert sum(b["beliefs"] for b in bins.values()) == 7  # no confidence (a baseline): left out


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
    assert tally.matched == [True, True, False]  # per belief, in the order given


def test_baselines_name_whom_a_turn_is_said_to_as_the_system_does() -> None:
    from selfmodel.bench.extraction import addressed

    assert addressed("Thanks, Mel! You're so kind and your art is great.", "Melanie") == (
        "Thanks, Melanie! Melanie is so kind and Melanie's art is great."
    )
    # Too short to be a nickname ("Me"), or not the start of the name ("Jon"): kept.
    assert addressed("Me too, Jon!", "Melanie") == "Me too, Jon!"
