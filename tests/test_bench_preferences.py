"""``selfmodel bench preferences``: the generator, its templates, and a small real run."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from selfmodel.bench.preferences import (
    CHOSEN,
    PLAIN,
    SyntheticUser,
    TemplateBank,
    generate_users,
    load_templates,
    run_preferences,
)
from selfmodel.cli import app
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.errors import InvalidFileError, InvalidInputError

runner = CliRunner()
# A request may share at most this share of content words with the statement it depends on
# (Jaccard); on average far less. Above it, keyword search would find the preference by luck.
MAX_REQUEST_OVERLAP = 0.15
MAX_MEAN_REQUEST_OVERLAP = 0.03
SYSTEMS = {"system", "dense", "bm25", "hybrid"}
METRICS = {"recall@1", "recall@5", "recall@10", "ci95", "requests"}


@pytest.fixture(scope="module")
def bank() -> TemplateBank:
    return load_templates()


def snapshot(users: list[SyntheticUser]) -> list[Any]:
    return [
        (u.name, u.batch().messages, [(r.text, r.evidence_id) for r in u.requests]) for u in users
    ]


def test_the_bundled_templates_are_many_diverse_and_split_half_and_half(bank: TemplateBank) -> None:
    templates = bank.templates
    assert len(templates) >= 40
    assert Counter((t.split, t.style) for t in templates) == {
        ("dev", PLAIN): len(templates) // 4,
        ("dev", CHOSEN): len(templates) // 4,
        ("test", PLAIN): len(templates) // 4,
        ("test", CHOSEN): len(templates) // 4,
    }
    assert len({t.domain for t in templates}) >= 10
    assert all(1 <= len(t.requests) <= 2 and t.says for t in templates)
    assert {turn.role for session in bank.filler for turn in session} == {"user", "assistant"}


def test_requests_share_few_words_with_the_preference_they_depend_on(bank: TemplateBank) -> None:
    overlaps = []
    for template in bank.templates:
        for request in template.requests:
            for says in template.says:
                overlap = bank.overlap(request, says)
                assert overlap <= MAX_REQUEST_OVERLAP, (template.id, request, says)
                overlaps.append(overlap)
    assert sum(overlaps) / len(overlaps) <= MAX_MEAN_REQUEST_OVERLAP


def test_overlap_is_the_jaccard_of_stemmed_content_words(bank: TemplateBank) -> None:
    assert bank.content_words("I'm loving my dogs") == {"love", "dog"}
    assert bank.overlap("I love dogs and cats", "Dogs love me") == pytest.approx(2 / 3)
    assert bank.overlap("Explain how mortgages work.", "Please keep answers short.") == 0.0
    assert bank.overlap("the", "a") == 0.0  # nothing but stop words on either side


def test_the_generator_is_deterministic_per_seed_and_per_user(bank: TemplateBank) -> None:
    five = generate_users(bank, users=5, seed=11)
    assert snapshot(five) == snapshot(generate_users(bank, users=5, seed=11))
    assert snapshot(five) != snapshot(generate_users(bank, users=5, seed=12))
    # Each user has its own stream: the first five of ten are the same five.
    assert snapshot(generate_users(bank, users=10, seed=11)[:5]) == snapshot(five)


def test_splits_keep_dev_and_test_templates_apart(bank: TemplateBank) -> None:
    def used(split: str) -> set[str]:
        people = generate_users(bank, users=20, split=split)
        return {r.template.split for u in people for r in u.requests}

    assert used("dev") == {"dev"}
    assert used("test") == {"test"}
    assert used("all") == {"dev", "test"}
    assert len(bank.for_split("dev")) == len(bank.for_split("test")) == len(bank.templates) // 2


def test_a_user_states_half_plainly_half_by_choosing_one_session_a_day_among_chat(
    bank: TemplateBank,
) -> None:
    (user,) = generate_users(bank, users=1, per_user=8)
    preferences = [s for _, s in user.sessions if s.template is not None]
    assert Counter(s.template.style for s in preferences if s.template) == {PLAIN: 4, CHOSEN: 4}
    assert len(user.sessions) == 8 * 3  # two unrelated sessions per preference
    days = [at.date() for at, _ in user.sessions]
    assert days == sorted(days) and len(set(days)) == len(days)  # one session per day
    for session in preferences:
        assert session.evidence_turn is not None
        assert session.turns[session.evidence_turn].role == "user"
        if session.template and session.template.style == CHOSEN:
            assert session.turns[session.evidence_turn - 1].role == "assistant"  # the options
    messages = user.batch().messages
    assert {m["role"] for m in messages} == {"user", "assistant"}
    assert all(m["occurred_at"] < user.now for m in messages)
    ids = {m["id"] for m in messages}
    assert all(r.evidence_id in ids for r in user.requests)


def test_bad_arguments_are_refused_with_a_reason(
    bank: TemplateBank, embedder: SentenceTransformerEmbedder
) -> None:
    with pytest.raises(InvalidInputError, match="unknown split 'prod'"):
        generate_users(bank, split="prod")
    with pytest.raises(InvalidInputError, match="users must be positive"):
        run_preferences(embedder, users=0)
    with pytest.raises(InvalidInputError, match="templates in split 'dev'"):
        generate_users(bank, per_user=100)


def test_a_malformed_templates_file_is_refused(tmp_path: Path) -> None:
    data = json.loads(json.dumps(_bundled()))
    data["templates"][0]["split"] = "prod"
    path = tmp_path / "templates.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidFileError, match="split must be dev or test"):
        load_templates(path)


def _bundled() -> dict[str, Any]:
    from importlib import resources

    text = (resources.files("selfmodel.bench") / "preference_templates.json").read_text("utf-8")
    return dict(json.loads(text))


def test_one_run_scores_the_system_and_every_baseline_and_writes_it_all(tmp_path: Path) -> None:
    out = tmp_path / "preferences.json"
    args = ["--users", "1", "--per-user", "2", "--seed", "3", "--split", "test"]
    result = runner.invoke(
        app, ["bench", "preferences", *args, "--json", str(out)], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    assert "Preference recall, split test" in result.output and "lead in recall@10" in result.output
    report = json.loads(out.read_text())
    assert (report["split"], report["seed"], report["users"]) == ("test", 3, 1)
    assert report["preferences_per_user"] == 2
    (user,) = generate_users(load_templates(), users=1, per_user=2, seed=3, split="test")
    assert report["requests"] == len(user.requests)
    assert report["turns"] == len(user.batch().messages)
    systems = {"system": report["system"], **report["baselines"]}
    assert set(systems) == SYSTEMS
    for result_of in systems.values():
        assert set(result_of["by_style"]) == {PLAIN, CHOSEN}
        for row in [result_of["overall"], *result_of["by_style"].values()]:
            assert set(row) == METRICS
            for k in (1, 5, 10):
                low, high = row["ci95"][f"recall@{k}"]
                assert 0.0 <= low <= row[f"recall@{k}"] <= high <= 1.0
            assert row["recall@1"] <= row["recall@5"] <= row["recall@10"]
        assert result_of["overall"]["requests"] == report["requests"]
    lead = report["lead"]
    assert lead["metric"] == "recall@10" and set(lead["by_style"]) == {PLAIN, CHOSEN}
    assert lead["overall"]["best_baseline"] in report["baselines"]
    assert lead["overall"]["lead"] == pytest.approx(
        lead["overall"]["system"] - lead["overall"]["baseline"]
    )
    assert lead["bootstrap"]["unit"] == "request"
    overlap = report["overlap"]["request_vs_statement"]
    assert 0.0 <= overlap["mean"] <= overlap["max"] <= MAX_REQUEST_OVERLAP
    assert set(overlap["by_style"]) == {PLAIN, CHOSEN}


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--split", "prod"], "unknown split 'prod'"), (["--users", "0"], "users must be positive")],
)
def test_the_command_refuses_bad_input_with_a_message(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["bench", "preferences", *args])
    assert result.exit_code == 2
    assert message in result.output
