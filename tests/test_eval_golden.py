"""Golden sets: the documented example runs as shown, bad files name line and field, evidence
matches word for word whatever the case and punctuation, and runs keep no one's words."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from selfmodel.cli import app
from selfmodel.errors import InvalidFileError
from selfmodel.evaluation import golden_suite
from selfmodel.evaluation.golden import covers, normalized
from tests.support.evaluation import GOLDEN_EXAMPLE
from tests.support.markdown import DOCS, checked_tables

runner = CliRunner()

GOOD_ITEM = {
    "id": "tea",
    "user": "ada",
    "history": [{"text": "I drink green tea every morning.", "timestamp": "2024-05-01T08:00:00Z"}],
    "query": "What does Ada drink?",
    "evidence": ["green tea"],
}


def write_lines(path: Path, *items: object) -> Path:
    path.write_text(
        "".join((i if isinstance(i, str) else json.dumps(i)) + "\n" for i in items),
        encoding="utf-8",
    )
    return path


def test_the_documented_example_runs_and_is_recorded(tmp_path: Path) -> None:
    db = tmp_path / "eval.db"
    out = tmp_path / "run.json"
    result = runner.invoke(
        app, ["eval", "run", "--golden", str(GOLDEN_EXAMPLE), "--db", str(db), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    # The table docs/evaluation.md shows for this file, row by row.
    shown = [
        {
            "item": item["item_id"],
            "recall@10": f"{item['recall']:.3f}",
            "evidence found": f"{item['evidence_found']} of {item['evidence_total']}",
            "violations": str(item["violations"]),
        }
        for item in report["items"]
    ]
    assert shown == checked_tables(DOCS / "evaluation.md")["golden-example"]
    assert report["run"]["suite"] == "golden-set"
    assert report["run"]["dataset_sha256"] == golden_suite(GOLDEN_EXAMPLE).dataset_sha256
    history = runner.invoke(app, ["eval", "history", "--db", str(db)])
    assert history.exit_code == 0, history.output
    assert report["run"]["id"] in history.output

    # What is recorded holds ids and numbers, never what the people in the suite said.
    lines = [json.loads(line) for line in GOLDEN_EXAMPLE.read_text().splitlines()]
    said = [m["text"] for item in lines for m in item["history"]]
    said += [item["query"] for item in lines] + [q for item in lines for q in item["evidence"]]
    with sqlite3.connect(db) as conn:
        stored = json.dumps(
            [conn.execute(f"SELECT * FROM {t}").fetchall() for t in ("eval_runs", "eval_items")]
        )
    assert report["run"]["id"] in stored
    assert not [text for text in said if text in stored]


def test_items_sharing_a_user_and_history_share_one_ingest() -> None:
    suite = golden_suite(GOLDEN_EXAMPLE)
    assert [len(h.items) for h in suite.histories] == [2, 1]


@pytest.mark.parametrize(
    ("lines", "line", "field"),
    [
        ([GOOD_ITEM, "{not json"], 2, None),
        ([GOOD_ITEM, "[1, 2]"], 2, None),
        ([{k: v for k, v in GOOD_ITEM.items() if k != "query"}], 1, "query"),
        ([GOOD_ITEM, {**GOOD_ITEM, "id": "b", "evidence": []}], 2, "evidence"),
        (
            [{**GOOD_ITEM, "history": [{"text": "hi", "timestamp": "last tuesday"}]}],
            1,
            "history.0.timestamp",
        ),
        ([{**GOOD_ITEM, "must_not_contain": ["?!"]}], 1, "must_not_contain"),
        ([{**GOOD_ITEM, "colour": "red"}], 1, "colour"),
        ([GOOD_ITEM, "", GOOD_ITEM], 3, "id"),
    ],
)
def test_a_bad_golden_set_names_the_line_and_field(
    tmp_path: Path, lines: list[object], line: int, field: str | None
) -> None:
    path = write_lines(tmp_path / "bad.jsonl", *lines)
    with pytest.raises(InvalidFileError) as raised:
        golden_suite(path)
    assert raised.value.details["line"] == line
    assert f"bad.jsonl:{line}" in raised.value.message
    assert "Value error" not in raised.value.message  # our words, not pydantic's wrapping
    if field is not None:
        assert raised.value.details["field"] == field
        assert field in raised.value.message


def test_an_empty_golden_set_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidFileError, match="no golden-set items"):
        golden_suite(write_lines(tmp_path / "empty.jsonl", ""))


def test_a_bad_golden_set_fails_the_command_with_its_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", GOOD_ITEM, {**GOOD_ITEM, "id": "x", "query": ""})
    result = runner.invoke(
        app, ["eval", "run", "--golden", str(path), "--db", str(tmp_path / "e.db")]
    )
    assert result.exit_code == 2
    assert "bad.jsonl:2: query" in result.output


def test_evidence_matches_whole_words_ignoring_case_and_punctuation() -> None:
    assert covers(
        "I'm training for the Berlin Marathon, in April!", "training for the berlin marathon"
    )
    assert covers("Maya prefers “short” answers.", 'prefers "short" answers')
    assert covers("I’m in", "I'm in")
    assert not covers("I was training for the Berlin marathon", "Berlin marathons")
    assert not covers("pineapple", "apple")
    assert not covers("anything", "...")


@given(
    before=st.text(max_size=20),
    phrase=st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=20),
    after=st.text(max_size=20),
)
def test_a_phrase_is_found_in_any_text_that_says_it_between_word_breaks(
    before: str, phrase: str, after: str
) -> None:
    text = f"{before} {phrase}, {after}"
    assert normalized(phrase) == "" or covers(text, phrase)


@pytest.mark.parametrize("given", [[], ["--locomo", "conv.json"]])
def test_eval_run_takes_exactly_one_suite(tmp_path: Path, given: list[str]) -> None:
    golden = [] if not given else ["--golden", str(GOLDEN_EXAMPLE)]
    result = runner.invoke(app, ["eval", "run", *golden, *given, "--db", str(tmp_path / "e.db")])
    assert result.exit_code == 2
    assert "exactly one of --golden FILE and --locomo FILE" in result.output
