"""The extraction benchmark: beliefs against LoCoMo's annotated per-session facts.

For each conversation file: every speaker becomes a user of a fresh temporary SQLite store and all
turns go through the real pipeline (``SelfModel.ingest``: redaction, extraction, embedding,
revision). Then, per speaker, the beliefs (every status: a superseded belief was still extracted)
are compared with the gold facts of ``session_N_observation`` (``{speaker: [[fact, dia_id], …]}``):

- **fact recall** — share of gold facts for which some belief about that speaker is at least
  ``MATCH_SIMILARITY`` close (MiniLM cosine) *and* cites the fact's turn as supporting evidence;
- **precision proxy** — share of beliefs at least ``MATCH_SIMILARITY`` close to some gold fact of
  the same speaker (any turn: a fact repeated in a later turn is still a true fact);
- **F1** — 2PR / (P + R) of the two, so storing more (recall up) is weighed against storing
  noise (precision down);
- **beliefs per 100 turns** and **turns/s** of the whole ingest (embedding and revision included).

In the same run three verbatim **baselines** store text as "beliefs" citing its turn, scored the
same way (their turns/s covers splitting + embedding): every first-person sentence
(``first_person``), every sentence (``every_sentence``) and every whole turn (``whole_turns``).
They bracket what keeping the transcript would give: more recall for more, noisier text. They
know whom each turn is said to, as the system does (``addressed``): "you" and a nickname of the
other speaker are written as their name, as gold facts and the system's beliefs write them.

A **reliability** table bins the system's beliefs by confidence and gives the share in each bin
that matches a gold fact: a confidence worth its name rises with that share.
Scores are micro-averaged over all files.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from selfmodel.domain import EvidenceStance
from selfmodel.embedding import Embedder
from selfmodel.errors import InvalidFileError
from selfmodel.extraction.dates import find_relative_dates
from selfmodel.extraction.local import split_sentences
from selfmodel.ingest.files import (
    LocomoTurn,
    locomo_batches,
    locomo_turns,
    read_locomo_file,
)

# Cosine similarity (all-MiniLM-L6-v2, after ``content_only``) at which a belief states a gold
# fact. Measured on LoCoMo 26 + 30: a gold fact against the best system belief from its own turn
# scores a median 0.68; against the speaker's beliefs from other turns a median 0.16 and a 99th
# percentile of 0.56-0.60. At 0.6 fewer than 1% of unrelated pairs match while about two thirds
# of same-turn restatements do (the baseline's verbatim sentences behave the same way).
MATCH_SIMILARITY = 0.6
# Pronouns that make a sentence first-person for the baseline ("I", "my", "we", "I'm", …).
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself|we|we're|us|our)\b", re.I)

_MONTH_OR_SEASON = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "spring|summer|fall|autumn|winter"
)
# Absolute dates as the extractor writes them ("in the week of 26 June 2023", "on 5 July 2023",
# "in August 2023", "since 2020").
_ABSOLUTE_DATE = re.compile(
    r"\b(?:(?:in|on|around|since|until|by|during)\s+)?(?:the\s+(?:week|weekend)\s+of\s+)?"
    rf"(?:(?:\d{{1,2}}\s+)?(?:{_MONTH_OR_SEASON})\s+\d{{4}}(?:/\d{{2}})?|(?:in|since)\s+\d{{4}})\b",
    re.IGNORECASE,
)
# Any anchor will do when relative dates are only located, never resolved.
_ANY_DAY = datetime(2000, 1, 1, tzinfo=UTC)

# Confidence bins of the reliability table: [0, 0.5), [0.5, 0.6), …, [0.9, 1]. Tenths from 0.5
# up, where nearly all beliefs sit (a plain statement starts between 0.55 and 0.65 and rises
# with reinforcement); below 0.5 are the hedged and the contradicted, few enough for one bin.
RELIABILITY_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9)

SYSTEM = "system"
FIRST_PERSON = "first_person"
EVERY_SENTENCE = "every_sentence"
WHOLE_TURNS = "whole_turns"
BASELINES = (FIRST_PERSON, EVERY_SENTENCE, WHOLE_TURNS)
# The report's key for ``first_person`` before there were three baselines; still written so
# readers of older reports keep working.
BASELINE = "baseline"
METRICS = ("fact_recall", "precision", "f1", "beliefs_per_100_turns", "turns_per_s")

Progress = Callable[[int], None]

# Said once before the clock starts, so that the models and word lists an ingest loads on first
# use (the embedding model, the spaCy pipeline, lemminflect's tables, dateparser's data: seconds)
# are not counted as the first file's ingest (the other benchmarks warm up the same way).
WARM_UP = (
    "Went hiking with my sister yesterday and loved it.",
    "I'm training for the Berlin marathon in April; running is my thing now.",
)


@dataclass(frozen=True)
class GoldFact:
    speaker: str
    text: str
    dia_ids: frozenset[str]


@dataclass(frozen=True)
class Extracted:
    """One belief (or baseline sentence) about a speaker, with the turns it cites.

    ``confidence`` is the belief's confidence; verbatim baselines have none.
    """

    speaker: str
    text: str
    dia_ids: frozenset[str]
    confidence: float | None = None


@dataclass
class Tally:
    """Counts behind one system's metrics, summed over files."""

    facts: int = 0
    facts_found: int = 0
    beliefs: int = 0
    beliefs_matching: int = 0
    turns: int = 0
    seconds: float = 0.0
    # Whether each scored belief matches some gold fact, in the order given to ``score``.
    matched: list[bool] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.facts += other.facts
        self.facts_found += other.facts_found
        self.beliefs += other.beliefs
        self.beliefs_matching += other.beliefs_matching
        self.turns += other.turns
        self.seconds += other.seconds
        self.matched.extend(other.matched)

    def metrics(self) -> dict[str, float]:
        recall = _ratio(self.facts_found, self.facts)
        precision = _ratio(self.beliefs_matching, self.beliefs)
        return {
            "fact_recall": recall,
            "precision": precision,
            "f1": f1(precision, recall),
            "beliefs_per_100_turns": 100.0 * _ratio(self.beliefs, self.turns),
            "turns_per_s": _ratio(self.turns, self.seconds),
        }


def _ratio(part: float, whole: float) -> float:
    return float(part / whole) if whole else float("nan")


def f1(precision: float, recall: float) -> float:
    """The harmonic mean 2PR / (P + R): 0 when both are 0, NaN when either is unknown."""
    if math.isnan(precision) or math.isnan(recall):
        return math.nan
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def reliability(beliefs: Sequence[Extracted], matched: Sequence[bool]) -> list[dict[str, Any]]:
    """Beliefs binned by confidence (``RELIABILITY_EDGES``): count and share matching a fact.

    Beliefs without a confidence (baselines) are left out.
    """
    if len(beliefs) != len(matched):
        raise ValueError("one match flag per belief is needed")
    edges = [0.0, *RELIABILITY_EDGES, math.inf]
    rows = []
    for low, high in itertools.pairwise(edges):
        inside = [
            (b.confidence, hit)
            for b, hit in zip(beliefs, matched, strict=True)
            if b.confidence is not None and low <= b.confidence < high
        ]
        if low == 0.0:
            label = f"<{high:g}"
        elif math.isinf(high):
            label = f">={low:g}"
        else:
            label = f"{low:g}-{high:g}"
        rows.append(
            {
                "bin": label,
                "low": low,
                "high": None if math.isinf(high) else high,
                "beliefs": len(inside),
                "matching": sum(hit for _, hit in inside),
                "share_matching": _ratio(sum(hit for _, hit in inside), len(inside)),
                "mean_confidence": _ratio(sum(c for c, _ in inside), len(inside)),
            }
        )
    return rows


def load_facts(data: dict[str, Any], source: str) -> list[GoldFact]:
    """The annotated facts of every ``session_N_observation``, or ``InvalidFileError``."""
    facts: list[GoldFact] = []
    for key, value in data.items():
        if not re.fullmatch(r"session_\d+_observation", key):
            continue
        if not isinstance(value, dict):
            raise InvalidFileError(f"{source}: {key} is not a mapping of speaker to facts")
        for speaker, items in value.items():
            if not isinstance(items, list):
                raise InvalidFileError(f"{source}: {key}[{speaker!r}] is not a list of facts")
            for item in items:
                if not (isinstance(item, list) and len(item) == 2):
                    raise InvalidFileError(f"{source}: {key} has a fact that is not [fact, dia_id]")
                ids = frozenset(
                    part.strip()
                    for entry in (item[1] if isinstance(item[1], list) else [item[1]])
                    for part in str(entry).replace(",", ";").split(";")
                    if part.strip()
                )
                facts.append(GoldFact(str(speaker), str(item[0]), ids))
    if not facts:
        raise InvalidFileError(f"{source} has no session_N_observation facts to score against")
    return facts


def load_file(path: str | Path) -> tuple[dict[str, Any], list[LocomoTurn], list[GoldFact]]:
    path = Path(path)
    data = read_locomo_file(path)
    return data, list(locomo_turns(data)), load_facts(data, str(path))


def score(facts: Sequence[GoldFact], extracted: Sequence[Extracted], embedder: Embedder) -> Tally:
    """Match ``extracted`` against ``facts`` speaker by speaker (counts only; no timing)."""
    tally = Tally(facts=len(facts), beliefs=len(extracted), matched=[False] * len(extracted))
    for speaker in {f.speaker for f in facts} | {e.speaker for e in extracted}:
        gold = [f for f in facts if f.speaker == speaker]
        positions = [n for n, e in enumerate(extracted) if e.speaker == speaker]
        mine = [extracted[n] for n in positions]
        if not gold or not mine:
            continue
        sims = (
            embedder.embed([content_only(f.text, speaker) for f in gold])
            @ embedder.embed([content_only(e.text, speaker) for e in mine]).T
        )
        close = sims >= MATCH_SIMILARITY
        for i, fact in enumerate(gold):
            if any(close[i, j] and fact.dia_ids & mine[j].dia_ids for j in range(len(mine))):
                tally.facts_found += 1
        for j, hit in enumerate(close.any(axis=0)):
            tally.matched[positions[j]] = bool(hit)
        tally.beliefs_matching += int(close.any(axis=0).sum())
    return tally


def content_only(text: str, speaker: str) -> str:
    """What ``text`` says, without whom it is about or when: name, pronouns and dates removed.

    Gold facts and system beliefs name the speaker ("Caroline …"), a verbatim sentence says "I";
    gold facts keep the speaker's relative dates ("last week"), beliefs resolve them ("in the week
    of 26 June 2023"). Left in, a shared name lifts the similarity of any two statements about one
    person and a rewritten date lowers that of a faithful restatement, so matching compares the
    content alone — the same way for the system and the baseline. (Resolving dates correctly is
    tested in tests/test_extraction_local.py, not scored here.)
    """
    for mention in reversed(find_relative_dates(text, _ANY_DAY, prefer_future=False)):
        text = text[: mention.start] + " " + text[mention.end :]
    text = _ABSOLUTE_DATE.sub(" ", text)
    text = re.sub(rf"\b{re.escape(speaker)}(?:'s)?\b", " ", text, flags=re.IGNORECASE)
    return " ".join(_FIRST_PERSON.sub(" ", text).split())


def system_beliefs(
    sm: Any, speakers: Sequence[str], now: datetime | None = None
) -> list[Extracted]:
    """Every belief about each speaker with the LoCoMo turns its supporting evidence comes from,
    read as of ``now`` (the end of the conversation: confidence is computed for a moment)."""
    out: list[Extracted] = []
    ws = sm.workspace.id
    for speaker in speakers:
        beliefs = sm.beliefs(speaker, status=None, now=now)
        if not beliefs:
            continue
        evidence = sm.store.list_evidence(ws, [b.id for b in beliefs])
        observations = {
            o.id: o for o in sm.store.get_observations(ws, [e.observation_id for e in evidence])
        }
        cited: dict[str, set[str]] = {}
        for e in evidence:
            obs = observations.get(e.observation_id)
            if e.stance is EvidenceStance.SUPPORTS and obs is not None:
                cited.setdefault(e.belief_id, set()).add(_dia_id(obs))
        out.extend(
            Extracted(speaker, b.statement, frozenset(cited.get(b.id, ())), b.confidence)
            for b in beliefs
        )
    return out


def _dia_id(observation: Any) -> str:
    """The LoCoMo turn id of an observation: metadata ``dia_id``, else the id's ``D1:3`` tail."""
    dia = observation.metadata.get("dia_id")
    if dia is not None:
        return str(dia)
    return ":".join(str(observation.external_id or "").split(":")[-2:])


# "you" and its forms, as the person addressed: "you're" → "Jon is".
_SECOND_PERSON = {
    "you": "{}", "your": "{}'s", "yours": "{}'s", "yourself": "{}",
    "you're": "{} is", "you've": "{} has", "you'll": "{} will", "you'd": "{} would",
}  # fmt: skip
_SECOND_PERSON_WORD = re.compile(
    r"\b(?:" + "|".join(sorted(map(re.escape, _SECOND_PERSON), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")


def addressed(text: str, addressee: str) -> str:
    """``text`` with the person it is said to named, the way the system's beliefs name them (the
    baselines get what the system knows): "you"/"your" become ``addressee``, and a word of three
    letters or more that the addressee's name starts with ("Mel" for Melanie) becomes the name."""
    text = _SECOND_PERSON_WORD.sub(
        lambda m: _SECOND_PERSON[m.group(0).lower()].format(addressee), text
    )
    return _CAPITALISED.sub(
        lambda m: addressee if addressee.lower().startswith(m.group(0).lower()) else m.group(0),
        text,
    )


def addressed_turns(data: dict[str, Any], turns: Sequence[LocomoTurn]) -> list[LocomoTurn]:
    """Each turn as the baselines read it: said to the other speaker (see ``addressed``)."""
    a, b = str(data["speaker_a"]), str(data["speaker_b"])
    other = {a: b, b: a}
    return [dataclasses.replace(t, text=addressed(t.text, other[t.speaker])) for t in turns]


def first_person_beliefs(turns: Sequence[LocomoTurn]) -> list[Extracted]:
    """Every first-person sentence, verbatim, as a belief about its speaker citing its turn."""
    return [
        Extracted(turn.speaker, sentence.text, frozenset([turn.dia_id]))
        for turn in turns
        for sentence in split_sentences(turn.text)
        if _FIRST_PERSON.search(sentence.text)
    ]


def every_sentence_beliefs(turns: Sequence[LocomoTurn]) -> list[Extracted]:
    """Every sentence of every turn, verbatim (questions and small talk too)."""
    return [
        Extracted(turn.speaker, sentence.text, frozenset([turn.dia_id]))
        for turn in turns
        for sentence in split_sentences(turn.text)
    ]


def whole_turn_beliefs(turns: Sequence[LocomoTurn]) -> list[Extracted]:
    """Each whole turn, verbatim, as one belief: the transcript itself."""
    return [Extracted(turn.speaker, turn.text, frozenset([turn.dia_id])) for turn in turns]


_BASELINE_BELIEFS: dict[str, Callable[[Sequence[LocomoTurn]], list[Extracted]]] = {
    FIRST_PERSON: first_person_beliefs,
    EVERY_SENTENCE: every_sentence_beliefs,
    WHOLE_TURNS: whole_turn_beliefs,
}


def run_extraction_bench(
    paths: Sequence[str | Path],
    embedder: Embedder,
    *,
    on_total: Callable[[int], None] | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the benchmark over ``paths``; returns the JSON-ready report (overall and per file)."""
    from selfmodel.engine import SelfModel  # the bench is an outer shell around the engine

    if not paths:
        raise InvalidFileError("at least one LoCoMo file is needed")
    loaded = [(Path(p).stem, *load_file(p)) for p in paths]
    advance = on_progress or (lambda n: None)
    if on_total:
        on_total(sum(2 * len(turns) for _, _, turns, _ in loaded))
    totals = {name: Tally() for name in (SYSTEM, *BASELINES)}
    per_file: dict[str, dict[str, dict[str, float]]] = {}
    system_beliefs_all: list[Extracted] = []
    with (
        tempfile.TemporaryDirectory(prefix="selfmodel-extraction-") as tmp,
        SelfModel.open(str(Path(tmp) / "warm-up.db"), embedder=embedder) as sm,
    ):
        sm.observe("warm-up", list(WARM_UP))
    for stem, data, turns, facts in loaded:
        with (
            tempfile.TemporaryDirectory(prefix="selfmodel-extraction-") as tmp,
            SelfModel.open(str(Path(tmp) / "bench.db"), embedder=embedder) as sm,
        ):
            batches = locomo_batches(data, source=f"locomo:{stem}")
            started = time.perf_counter()
            sm.ingest(batches, on_progress=advance)
            elapsed = time.perf_counter() - started
            beliefs = system_beliefs(
                sm, [b.user for b in batches], max(t.occurred_at for t in turns)
            )
        tallies = {SYSTEM: score(facts, beliefs, embedder)}
        tallies[SYSTEM].turns, tallies[SYSTEM].seconds = len(turns), elapsed
        system_beliefs_all.extend(beliefs)

        said = addressed_turns(data, turns)
        for name, make in _BASELINE_BELIEFS.items():
            started = time.perf_counter()
            verbatim = make(said)
            embedder.embed([s.text for s in verbatim])  # what storing them would cost
            elapsed = time.perf_counter() - started
            tallies[name] = score(facts, verbatim, embedder)
            tallies[name].turns, tallies[name].seconds = len(turns), elapsed
        advance(len(turns))

        per_file[stem] = {name: tally.metrics() for name, tally in tallies.items()}
        for name, tally in tallies.items():
            totals[name].add(tally)
    baselines = {name: totals[name].metrics() for name in BASELINES}
    return {
        SYSTEM: totals[SYSTEM].metrics(),
        "baselines": baselines,
        BASELINE: baselines[FIRST_PERSON],
        "per_file": per_file,
        "reliability": reliability(system_beliefs_all, totals[SYSTEM].matched),
        "match_similarity": MATCH_SIMILARITY,
        "facts": totals[SYSTEM].facts,
        "turns": totals[SYSTEM].turns,
    }


__all__ = [
    "BASELINES",
    "MATCH_SIMILARITY",
    "METRICS",
    "RELIABILITY_EDGES",
    "Extracted",
    "GoldFact",
    "addressed",
    "every_sentence_beliefs",
    "f1",
    "first_person_beliefs",
    "load_facts",
    "reliability",
    "run_extraction_bench",
    "score",
    "whole_turn_beliefs",
]
