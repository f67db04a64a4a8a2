"""Personalization metrics on a LoCoMo-format conversation's two speakers: their full
self-models give specific, distinct blocks; "personalization off" gives neither; coverage and
belief use count what they say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app
from selfmodel.evaluation.personalization import SAME_MEANING
from selfmodel.ingest.files import read_conversation_file

QUERIES = [
    "What does she enjoy doing in her free time?",
    "What is important to her?",
    "Tell me about her family and plans.",
]
OFF, ON = {"name": "off", "config": {"personalized": False}}, {"name": "on"}


SESSIONS = [
    (
        "1:56 pm on 8 May, 2023",
        [
            ("Caroline", "I went to an LGBTQ support group yesterday and it was so powerful."),
            ("Melanie", "I ran a charity race for mental health last Saturday."),
            ("Caroline", "I'm researching adoption agencies because I want to be a mother."),
            ("Melanie", "I have three kids and we love camping at the beach."),
            ("Caroline", "I want to become a counselor for transgender youth."),
            ("Melanie", "I love pottery and I made a black and white bowl in class."),
        ],
    ),
    (
        "10:00 am on 20 May, 2023",
        [
            ("Caroline", "I moved from Sweden four years ago with my grandmother's necklace."),
            ("Melanie", "I play the clarinet and I started when I was young."),
            ("Caroline", "I love reading books about self-acceptance."),
            ("Melanie", "I have been married to my husband for five years."),
        ],
    ),
]


def locomo(tmp_path: Path) -> Path:
    """Two speakers with lives of their own, in LoCoMo's file format."""
    conversation: dict[str, object] = {"speaker_a": "Caroline", "speaker_b": "Melanie"}
    for n, (when, turns) in enumerate(SESSIONS, start=1):
        conversation[f"session_{n}_date_time"] = when
        conversation[f"session_{n}"] = [
            {"speaker": speaker, "dia_id": f"D{n}:{k}", "text": text}
            for k, (speaker, text) in enumerate(turns, start=1)
        ]
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps(conversation), encoding="utf-8")
    return path


@pytest.fixture
def speakers(sm: SelfModel, tmp_path: Path) -> SelfModel:
    sm.ingest(read_conversation_file(locomo(tmp_path)))
    assert {u.external_id for u in sm.users()} == {"Caroline", "Melanie"}
    return sm


def ask_everyone(sm: SelfModel) -> None:
    for query in QUERIES:
        for user in ("Caroline", "Melanie"):
            sm.context(user, query)


def split_experiment(sm: SelfModel) -> str:
    """An experiment that puts the two speakers in different variants (its salt is random:
    define again until it does; each try has even odds)."""
    for attempt in range(40):
        name = f"pers-{attempt}"
        sm.create_experiment(name, [OFF, ON])
        variants = {sm.assignment(u, name).variant for u in ("Caroline", "Melanie")}
        if variants == {"off", "on"}:
            return name
        sm.stop_experiment(name)
    raise AssertionError("forty experiments never split two users")


def test_full_self_models_give_specific_distinct_blocks_and_an_empty_one_neither(
    speakers: SelfModel,
) -> None:
    ask_everyone(speakers)  # no experiment: both speakers' own self-models
    name = split_experiment(speakers)
    ask_everyone(speakers)
    report = speakers.personalization()
    by_variant = {v.variant: v for v in report.variants}
    full, off, on = by_variant["-"], by_variant[f"{name}:off"], by_variant[f"{name}:on"]
    assert full.traces == 2 * len(QUERIES) and full.empty_blocks == 0
    assert full.specificity > 0.5
    assert full.queries_compared == len(QUERIES) and full.distinctiveness is not None
    assert full.distinctiveness > 0.2
    assert off.traces == len(QUERIES) == off.empty_blocks
    assert off.specificity == 0.0 and off.distinctiveness is None  # one user: nothing to compare
    assert on.specificity > 0.5
    assert report.coverage.active_users == 2 and report.coverage.share == 1.0


def test_users_who_said_the_same_get_blocks_neither_specific_nor_distinct(
    sm: SelfModel,
) -> None:
    for user in ("ann", "bea"):
        sm.observe(user, "I love painting sunsets by the sea.")
        sm.context(user, "What does she love?")
    (variant,) = sm.personalization().variants
    assert variant.traces == 2 and variant.specificity == 0.0
    assert variant.distinctiveness is not None and variant.distinctiveness < 1 - SAME_MEANING


def test_coverage_names_the_users_too_little_is_known_about(speakers: SelfModel) -> None:
    speakers.observe("quiet", "Hello there.")
    for user in ("Caroline", "Melanie", "quiet"):
        speakers.context(user, "What should we talk about?")
    coverage = speakers.personalization().coverage
    assert (coverage.active_users, coverage.covered) == (3, 2)
    assert [(u.user, u.confident_beliefs) for u in coverage.below] == [("quiet", 0)]
    assert speakers.personalization(min_beliefs=50).coverage.share == 0.0


def test_belief_use_counts_what_answers_reported_and_finds_idle_beliefs(
    speakers: SelfModel,
) -> None:
    used_belief = None
    for _ in range(3):
        answer = speakers.context("Melanie", "What does she enjoy doing in her free time?")
        beliefs = [i for i in answer.items if i.item_type == "belief"]
        assert len(beliefs) >= 2
        used_belief = used_belief or beliefs[0].id
        used = [used_belief] if used_belief in {b.id for b in beliefs} else []
        speakers.record_outcome(
            "Melanie", "thumbs_up", trace_id=answer.trace_id, used_item_ids=used
        )
    speakers.context("Melanie", "unreported")  # no outcome: not counted
    use = speakers.personalization().belief_use
    assert use.reported_traces == 3
    assert use.used == 3 and use.offered > use.used
    assert use.use_rate == pytest.approx(use.used / use.offered)
    idle = {b.belief_id for b in use.idle}
    assert idle and used_belief not in idle
    assert all(b.offered >= 3 and b.user == "Melanie" and b.tokens > 0 for b in use.idle)


def test_the_window_and_bad_settings(speakers: SelfModel) -> None:
    ask_everyone(speakers)
    from datetime import timedelta

    from selfmodel.domain.time import utcnow

    later = speakers.personalization(now=utcnow() + timedelta(days=40))
    assert later.variants == [] and later.coverage.share is None
    from selfmodel import InvalidInputError

    for bad in ({"days": 0}, {"min_confidence": 2}, {"min_beliefs": 0}):
        with pytest.raises(InvalidInputError):
            speakers.personalization(**bad)  # type: ignore[arg-type]


def test_the_command_prints_the_report_and_writes_json(
    speakers: SelfModel, db_path: Path, tmp_path: Path
) -> None:
    ask_everyone(speakers)
    out = tmp_path / "p.json"
    result = CliRunner().invoke(
        app,
        ["eval", "personalization", "--db", str(db_path), "-w", speakers.workspace.name,
         "--json", str(out)],
        env={"COLUMNS": "160"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "specificity" in result.output and "coverage: 2 of 2" in result.output
    data = json.loads(out.read_text())
    assert data["variants"][0]["variant"] == "-" and data["coverage"]["share"] == 1.0


def test_the_api_and_the_sdk_give_the_librarys_report(speakers: SelfModel) -> None:
    import httpx

    from selfmodel.client import Client
    from selfmodel.domain.time import utcnow
    from selfmodel.server import create_app
    from tests.support.server import new_workspace_key, running_server

    ask_everyone(speakers)
    now = utcnow()
    library = speakers.personalization(now=now, min_beliefs=2)
    key = new_workspace_key(speakers.store, speakers.workspace.name)
    with running_server(create_app(speakers)) as url:
        with Client(url, key) as client:
            assert client.personalization(now=now, min_beliefs=2) == library
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
            for bad in ({"days": "0"}, {"min_confidence": "2"}, {"min_offers": "0"}):
                refused = http.get("/v1/personalization", params=bad)
                assert refused.status_code == 422
                assert refused.json()["error"]["code"] == "invalid_input"
