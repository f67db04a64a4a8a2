"""The worked examples of docs/extraction.md, docs/retrieval.md and README.md, recomputed.

Tables marked ``<!-- check: NAME -->`` are parsed out of the markdown and every row is compared
with what the real code gives: the local extractor for the sentence tables, the real engine (a
temporary SQLite store, the bundled MiniLM) for the revision stories and the context block. A
change of behaviour fails here until the page that describes it is updated.
"""

from __future__ import annotations

import contextlib
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from selfmodel import SelfModel
from selfmodel.domain import Facet, Observation, Role
from selfmodel.extraction.base import CandidateBelief, ExtractionRequest
from selfmodel.extraction.local import LocalExtractor
from tests.support.markdown import DOCS, README, checked_tables, fenced

DITTO = "〃"
NONE = "—"
# docs/extraction.md: "said by a speaker named Maya on Monday 3 July 2023 (09:00 UTC)".
SPEAKER = "Maya"
SAID_AT = datetime(2023, 7, 3, 9, tzinfo=UTC)
# The revision stories and the retrieval example: day 0 is Monday 4 March 2024, messages at
# 09:00 UTC, beliefs read at 12:00 the same day.
DAY_ZERO = datetime(2024, 3, 4, 9, tzinfo=UTC)
INTRODUCTION = "Hi, I'm Maya."


def day(n: int) -> datetime:
    return DAY_ZERO + timedelta(days=n)


def read_at(n: int) -> datetime:
    return day(n) + timedelta(hours=3)


def human(value: datetime | date | None) -> str:
    return "" if value is None else f"{value.day} {value:%B} {value.year}"


# -- docs/extraction.md: sentences -------------------------------------------------------------

EXTRACTION = checked_tables(DOCS / "extraction.md")


def messages(table: str) -> list[tuple[str, str, list[dict[str, str]]]]:
    """(before, said, expected candidate rows) per message of a sentence table."""
    grouped: list[tuple[str, str, list[dict[str, str]]]] = []
    for row in EXTRACTION[table]:
        if row["said"] == DITTO:
            grouped[-1][2].append(row)
        else:
            grouped.append((row.get("before", ""), row["said"], [row]))
    return [(b, s, [r for r in rows if r["statement"] != NONE]) for b, s, rows in grouped]


def frame_highlights(candidate: CandidateBelief) -> str:
    """The frame column of docs/extraction.md for ``candidate``."""
    frame = candidate.frame
    parts = []
    if frame.facet is not None:
        parts.append(f"{frame.facet.value} = {frame.value}")
    if frame.negated:
        parts.append("negated")
    if frame.change:
        parts.append("change")
    if frame.displaces:
        parts.append("displaces")
    if candidate.contradicts:
        parts.append(f'denies "{candidate.contradicts}"')
    if frame.interests:
        parts.append("interests: " + ", ".join(frame.interests))
    people = [r for r in frame.related if r.relation != "pet"]
    pets = [r for r in frame.related if r.relation == "pet"]
    if people:
        parts.append(
            "people: " + ", ".join(" ".join(filter(None, (r.relation, r.name))) for r in people)
        )
    if pets:
        parts.append(
            "pets: " + ", ".join(" ".join(filter(None, (r.species or "pet", r.name))) for r in pets)
        )
    if frame.domain:
        parts.append(frame.domain)
    return "; ".join(parts) or NONE


def as_row(candidate: CandidateBelief) -> dict[str, str]:
    origin = candidate.origin.value
    if candidate.strength < 1.0:
        origin += f", {candidate.strength:g}"
    return {
        "statement": candidate.statement,
        "kind": candidate.kind.value,
        "origin": origin,
        "frame": frame_highlights(candidate),
    }


@pytest.fixture(scope="module")
def extractor() -> LocalExtractor:
    return LocalExtractor()


def extract(extractor: LocalExtractor, said: str, before: str = "") -> list[dict[str, str]]:
    def observation(key: str, text: str, role: Role = Role.USER) -> Observation:
        return Observation(
            id=key,
            workspace_id="ws",
            user_id="maya",
            content=text,
            occurred_at=SAID_AT,
            recorded_at=SAID_AT,
            role=role,
        )

    preceding: tuple[Observation, ...] = ()
    if before:
        role, _, text = before.partition(": ")
        preceding = (observation("before", text, Role(role)),)
    request = ExtractionRequest(
        observation=observation("said", said), subject=SPEAKER, preceding=preceding
    )
    return [as_row(c) for c in extractor.extract([request])]


def expected(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: r[k] for k in ("statement", "kind", "origin", "frame")} for r in rows]


@pytest.mark.parametrize(
    ("said", "rows"),
    [(said, rows) for table in ("sentences", "known-gaps") for _, said, rows in messages(table)],
)
def test_the_extraction_table_is_what_the_local_extractor_gives(
    extractor: LocalExtractor, said: str, rows: list[dict[str, str]]
) -> None:
    assert extract(extractor, said) == expected(rows)


@pytest.mark.parametrize(
    ("before", "said", "rows"), messages("with-turns-before"), ids=lambda v: str(v)[:30]
)
def test_the_table_of_messages_read_with_the_turn_before(
    extractor: LocalExtractor, before: str, said: str, rows: list[dict[str, str]]
) -> None:
    assert extract(extractor, said, before) == expected(rows)


def test_the_documented_tables_are_all_there() -> None:
    assert {"sentences", "with-turns-before", "known-gaps"} <= set(EXTRACTION)
    assert len(messages("sentences")) >= 30


# -- docs/extraction.md: revision stories ------------------------------------------------------


def tell(sm: SelfModel, user: str, table: str) -> int:
    """Replay a story table through the engine; each row's beliefs must be as documented."""
    sm.observe(user, {"content": INTRODUCTION, "occurred_at": day(0).isoformat()})
    assert sm.user(user).display_name == SPEAKER
    last = 0
    for row in EXTRACTION[table]:
        last = int(row["day"])
        sm.observe(user, {"content": row["said"], "occurred_at": day(last).isoformat()})
        seen = {
            f"{b.statement} · {b.status.value} · {b.confidence:.2f}"
            for b in sm.beliefs(user, status=None, now=read_at(last))
        }
        assert seen == set(row["beliefs, read that day"].split("<br>")), row["said"]
    return last


def test_story_a_facet_moves_whatever_the_wording(sm: SelfModel) -> None:
    last = tell(sm, "story-a", "story-facet")
    residence = sm.profile("story-a", now=read_at(last)).facets[Facet.RESIDENCE]
    held = [(residence.value, human(residence.since), human(residence.until))]
    held += [(p.value, human(p.since), human(p.until)) for p in residence.replaced]
    documented = [
        (r["residence"], r["since"], r["until"]) for r in EXTRACTION["story-facet-profile"]
    ]
    assert held == documented


def test_story_b_a_reported_change_ends_a_like(sm: SelfModel) -> None:
    tell(sm, "story-b", "story-change")


def test_story_c_paraphrases_reinforce(sm: SelfModel) -> None:
    tell(sm, "story-c", "story-paraphrase")


def test_story_d_a_hedged_contradiction_leaves_a_conflict(sm: SelfModel) -> None:
    last = tell(sm, "story-d", "story-hedged")
    (conflict,) = sm.conflicts("story-d", now=read_at(last))
    assert {conflict.belief.statement, conflict.against.statement} == {
        "Maya smokes a pack a day",
        "Maybe Maya quit smoking",
    }


# -- docs/retrieval.md: the example block ------------------------------------------------------

RETRIEVAL = DOCS / "retrieval.md"


def sections(block: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = ""
    for line in block.strip().splitlines():
        if line.startswith("- "):
            out[current].append(line)
        else:
            current = line
            out[current] = []
    return out


def test_the_retrieval_example_block_is_what_context_gives(sm: SelfModel) -> None:
    sm.store.get_or_create_user(sm.workspace.id, "maya")
    sm.set_display_name("maya", SPEAKER)
    for row in checked_tables(RETRIEVAL)["conversation"]:
        sm.observe(
            "maya", {"content": row["said"], "occurred_at": day(int(row["day"])).isoformat()}
        )
    (metal,) = [b for b in sm.beliefs("maya", now=read_at(9)) if "heavy metal" in b.statement]
    sm.reject(metal.id)
    result = sm.context("maya", "Suggest something to do this weekend.", now=day(10))
    documented = sections(fenced(RETRIEVAL, "<!-- check: block -->"))
    produced = sections(result.text)
    assert list(produced) == list(documented)
    for title, lines in documented.items():
        if title.startswith("Beliefs"):  # ranked by float scores: the set is the claim
            assert sorted(produced[title]) == sorted(lines)
        else:
            assert produced[title] == lines, title
    payload = sm.trace(result.trace_id).payload
    assert payload["request"] is True and payload["withheld_moments"] == 1
    used = re.search(r"\((\d+)\s+of\s+(\d+)\s+tokens\)", RETRIEVAL.read_text(encoding="utf-8"))
    assert used and (result.tokens, result.budget_tokens) == (int(used[1]), int(used[2]))


# -- README.md: the ten lines ------------------------------------------------------------------


def test_the_readme_example_runs_and_names_the_person(
    embedder: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``embedder`` loads the bundled model once for the run; the example's own SelfModel reuses it.
    code = fenced(README, "## Ten lines of Python", "python")
    assert len(code.strip().splitlines()) <= 14
    monkeypatch.chdir(tmp_path)  # the example opens ./selfmodel.db
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    out = printed.getvalue()
    assert "What is known about Maya:" in out
    assert "Profile:" in out
    assert "Maya wants the assistant to keep its answers short" in out
    assert "Maya is training for a half marathon" in out
    assert out.count("0.60  ") == 2  # "It prints two beliefs at 0.60"
