"""Debug loops: when an answer is bad, can anyone say why?

- **traced answers**: the share of the window's outcomes that judge an answer (feedback, accepted,
  task completed, continued) and name the trace of that answer;
- **replay**: a seeded sample of the window's traces replayed against the self-model as it was;
  the share that reproduce their block exactly;
- **bad outcomes**: thumbs down, corrections and low ratings of the window — the share that name
  their trace, how long after the answer they arrived, and the traces to open first;
- **unexplained items**: chosen belief items whose lineage is gone (no evidence left, and not
  written or confirmed by the person).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from selfmodel.audit.grading import against, measured, not_measured, section, share
from selfmodel.audit.recorded import BELIEF, Call, Recorded
from selfmodel.audit.thresholds import BAD_RATING
from selfmodel.config import AuditSettings
from selfmodel.domain import BeliefOrigin, Outcome, OutcomeKind
from selfmodel.domain.audit import AuditStatus, Check, Figure, Reference, Section
from selfmodel.domain.time import to_utc

KEY = "debug_loops"
# Outcomes that judge one answer (a returned visit or a custom metric may judge none).
ANSWER_KINDS = frozenset(
    {
        OutcomeKind.THUMBS_UP,
        OutcomeKind.THUMBS_DOWN,
        OutcomeKind.RATING,
        OutcomeKind.CORRECTION,
        OutcomeKind.ACCEPTED,
        OutcomeKind.TASK_COMPLETED,
        OutcomeKind.CONTINUED,
    }
)
OUTCOME_COMMAND = "POST /v1/users/{user}/outcomes"
# Origins whose belief explains itself: the person wrote or confirmed it.
SELF_EXPLAINED = frozenset({BeliefOrigin.EDITED, BeliefOrigin.CONFIRMED})
REPLAY_SEED = 0
REFERENCES_SHOWN = 5


@dataclass(frozen=True)
class Replayed:
    """One trace replayed by the audit."""

    trace_id: str
    reproduced: bool
    note: str = ""  # the fields that differed, or why it could not be replayed


def replay_sample(calls: Sequence[Call], size: int) -> list[str]:
    """The trace ids the audit replays: a seeded sample of the window's, oldest first."""
    ids = [c.trace.id for c in calls]
    if len(ids) <= size:
        return ids
    chosen = set(random.Random(REPLAY_SEED).sample(ids, size))
    return [i for i in ids if i in chosen]


def is_bad(outcome: Outcome) -> bool:
    if outcome.kind in (OutcomeKind.THUMBS_DOWN, OutcomeKind.CORRECTION):
        return True
    return outcome.kind is OutcomeKind.RATING and (outcome.value or 0) <= BAD_RATING


def debug_loops(
    recorded: Recorded, replays: Sequence[Replayed], settings: AuditSettings
) -> Section:
    """The debug loops section (``replays``: what the engine found replaying the sample)."""
    outcomes = [o for o in recorded.outcomes if recorded.within(o.occurred_at)]
    return section(
        KEY,
        "Debug loops",
        "When an answer is bad, can anyone say which memory, evidence and config produced it?",
        [
            _traced_answers(outcomes, settings),
            _replay(recorded, replays, settings),
            _bad_outcomes(recorded, outcomes, settings),
            _unexplained(recorded, settings),
        ],
    )


def _traced_answers(outcomes: Sequence[Outcome], settings: AuditSettings) -> Check:
    judged = [o for o in outcomes if o.kind in ANSWER_KINDS]
    if not judged:
        return not_measured(
            "traced_answers",
            "Answers with a trace",
            "No outcome judging an answer was recorded in the window (record them with the "
            "trace_id of the answer).",
            OUTCOME_COMMAND,
        )
    untraced = [o for o in judged if o.trace_id is None]
    value = 1 - len(untraced) / len(judged)
    status, thresholds = against(settings, "traced_answers", value)
    return measured(
        key="traced_answers",
        title="Answers with a trace",
        status=status,
        finding=f"{share(value)} of the {len(judged)} outcomes judging an answer name the trace "
        "of that answer.",
        figures=[
            Figure(name="judged answers with a trace", value=value, unit="share"),
            Figure(name="judged answers", value=len(judged)),
        ],
        thresholds=thresholds,
        references=[
            Reference(kind="outcome", id=o.id, note=f"{o.kind.value} without a trace")
            for o in untraced[:REFERENCES_SHOWN]
        ],
        action="Pass the trace_id of each context call along with the answer and send it back "
        "with the feedback (record_outcome(..., trace_id=…)).",
    )


def _replay(recorded: Recorded, replays: Sequence[Replayed], settings: AuditSettings) -> Check:
    if not replays:
        return not_measured(
            "replay",
            "Replays that reproduce their trace",
            "No trace was replayed: none in the window"
            + (" (replays are off: SELFMODEL_AUDIT_REPLAY_SAMPLE=0)." if recorded.calls else "."),
            "selfmodel replay TRACE_ID",
        )
    failed = [r for r in replays if not r.reproduced]
    value = 1 - len(failed) / len(replays)
    status, thresholds = against(settings, "replay_reproduced", value)
    return measured(
        key="replay",
        title="Replays that reproduce their trace",
        status=status,
        finding=f"{len(replays) - len(failed)} of {len(replays)} traces replayed (a seeded "
        f"sample of the window's {len(recorded.calls)}) reproduced their block exactly.",
        figures=[
            Figure(name="reproduced", value=value, unit="share"),
            Figure(name="replayed", value=len(replays)),
        ],
        thresholds={**thresholds, "audit_replay_sample": settings.audit_replay_sample},
        references=[
            Reference(kind="trace", id=r.trace_id, note=r.note) for r in failed[:REFERENCES_SHOWN]
        ],
        action="Replay the traces listed (`selfmodel replay TRACE_ID`): a replay that differs is "
        "a lost input or a bug, and the debugging tools cannot be trusted until it is found.",
    )


def _bad_outcomes(
    recorded: Recorded, outcomes: Sequence[Outcome], settings: AuditSettings
) -> Check:
    bad = [o for o in outcomes if is_bad(o)]
    if not bad:
        if outcomes:
            return Check(
                key="bad_outcomes",
                title="Bad outcomes traced back",
                status=AuditStatus.HEALTHY,
                finding=f"None of the window's {len(outcomes)} outcomes is bad (thumbs down, a "
                f"correction or a rating of {BAD_RATING:g} or less).",
                figures=[Figure(name="bad outcomes", value=0)],
            )
        return not_measured(
            "bad_outcomes",
            "Bad outcomes traced back",
            "No outcome was recorded in the window.",
            OUTCOME_COMMAND,
        )
    created = {c.trace.id: to_utc(c.trace.created_at) for c in recorded.calls}
    linked = [o for o in bad if o.trace_id is not None]
    value = len(linked) / len(bad)
    delays = [
        (to_utc(o.recorded_at) - created[o.trace_id]).total_seconds()
        for o in linked
        if o.trace_id in created
    ]
    status, thresholds = against(settings, "traced_answers", value)
    delay = median(delays) if delays else None
    references = [
        Reference(kind="trace", id=o.trace_id, note=f"{o.kind.value}: open this one")
        for o in linked[:REFERENCES_SHOWN]
        if o.trace_id is not None
    ] + [
        Reference(kind="outcome", id=o.id, note=f"{o.kind.value} without a trace")
        for o in bad
        if o.trace_id is None
    ][:REFERENCES_SHOWN]
    return measured(
        key="bad_outcomes",
        title="Bad outcomes traced back",
        status=status,
        finding=f"{len(linked)} of {len(bad)} bad outcomes ({share(value)}) name the trace of "
        "their answer, one lookup from the memory, evidence and config behind it"
        + (f"; they arrived {_duration(delay)} after the answer (median)." if delay else "."),
        figures=[
            Figure(name="bad outcomes with a trace", value=value, unit="share"),
            Figure(name="bad outcomes", value=len(bad)),
            Figure(name="answer to bad outcome (median)", value=delay, unit="s"),
        ],
        thresholds={**thresholds, "bad_rating": BAD_RATING},
        references=references,
        action="Send the trace_id with every thumbs down and correction; for the ones listed, "
        "`selfmodel lineage TRACE ITEM` walks from the answer to its evidence.",
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7_200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3_600:.1f} h"


def _unexplained(recorded: Recorded, settings: AuditSettings) -> Check:
    items = [(call, item) for call in recorded.calls for item in call.chosen]
    if not items:
        return not_measured(
            "unexplained",
            "Items without lineage",
            "No traced context block in the window held an item.",
            'selfmodel context USER "QUERY"',
        )
    lost: list[tuple[Call, str]] = []
    for call, item in items:
        if item.get("item_type") != BELIEF:
            continue  # a raw moment is its own evidence
        belief_id = str(item.get("id"))
        belief = recorded.beliefs.get(belief_id)
        explained = belief is not None and (
            recorded.evidence.get(belief_id, 0) > 0 or belief.origin in SELF_EXPLAINED
        )
        if not explained:
            lost.append((call, belief_id))
    value = len(lost) / len(items)
    status, thresholds = against(settings, "unexplained", value)
    return measured(
        key="unexplained",
        title="Items without lineage",
        status=status,
        finding=f"{len(lost)} of {len(items)} items chosen in the window's blocks "
        f"({share(value)}) have no evidence left to say why they are believed.",
        figures=[
            Figure(name="items without lineage", value=value, unit="share"),
            Figure(name="items chosen", value=len(items)),
        ],
        thresholds=thresholds,
        references=[
            Reference(kind="trace", id=call.trace.id, note=f"chose {belief_id}")
            for call, belief_id in lost[:REFERENCES_SHOWN]
        ],
        action="Open the items listed (`selfmodel lineage TRACE ITEM`): a belief whose evidence is "
        "gone should be confirmed by the person in the Mirror or dropped.",
    )


__all__ = ["KEY", "Replayed", "debug_loops", "is_bad", "replay_sample"]
