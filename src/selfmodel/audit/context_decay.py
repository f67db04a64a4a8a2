"""Context decay: does what the product hands the model hold up as each person's history grows?

- **history scale**: the window's context calls by the length of the user's history at the
  call (observations that had happened by then), in bins that grow by about three: p95 latency,
  tokens per block and the share of full blocks per bin; graded on the p95 latency of the third
  of calls with the longest histories;
- **recall by history length**: from the latest eval run that recorded it (``recall_by_history``:
  one point per history of the suite — a LoCoMo file's conversations), the fall of recall from
  the shortest history to the longest;
- **stale beliefs served**: belief items of the window's blocks that no longer held when served
  — superseded, rejected or decayed, as the store knows now, at or before the call's moment;
- **full blocks**: blocks left with no room for another of their lines (the budget cut them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from selfmodel.audit.grading import against, measured, not_measured, plural, section, share
from selfmodel.audit.recorded import Call, Recorded
from selfmodel.config import AuditSettings
from selfmodel.domain import Belief, BeliefEventType, BeliefStatus
from selfmodel.domain.audit import Check, Figure, Plot, Reference, Section, Series
from selfmodel.domain.time import to_utc

KEY = "context_decay"
CONTEXT_COMMAND = 'selfmodel context USER "QUERY"'
# Upper edges of the history bins (observations): each about three times the last, so the bins
# are even on the log scale histories spread over.
HISTORY_EDGES = (10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000)
ENDED = (BeliefStatus.SUPERSEDED, BeliefStatus.REJECTED, BeliefStatus.DECAYED)
ENDINGS = (BeliefEventType.SUPERSEDED, BeliefEventType.REJECTED, BeliefEventType.DECAYED)
REFERENCES_SHOWN = 5


def context_decay(recorded: Recorded, settings: AuditSettings) -> Section:
    """The context decay section."""
    return section(
        KEY,
        "Context decay",
        "Does what the model is handed hold up as each person's history grows?",
        [
            _history_scale(recorded, settings),
            _recall_by_history(recorded, settings),
            _stale(recorded, settings),
            _full_blocks(recorded, settings),
        ],
    )


def p95(values: Sequence[float]) -> float | None:
    return float(np.percentile(values, 95)) if values else None


def history_bin(length: int) -> str:
    low = 0
    for edge in HISTORY_EDGES:
        if length <= edge:
            return f"{low}–{edge}"
        low = edge + 1
    return f"> {HISTORY_EDGES[-1]}"


def _binned(calls: Sequence[Call]) -> dict[str, list[Call]]:
    by_bin: dict[str, list[Call]] = {}
    for call in sorted(calls, key=lambda c: c.history or 0):
        by_bin.setdefault(history_bin(call.history or 0), []).append(call)
    return by_bin


def _history_scale(recorded: Recorded, settings: AuditSettings) -> Check:
    calls = [c for c in recorded.calls if c.history is not None]
    if not calls:
        return not_measured(
            "history_scale",
            "Latency and tokens as histories grow",
            "No context call about one user was traced in the window.",
            CONTEXT_COMMAND,
        )
    ordered = sorted(calls, key=lambda c: (c.history or 0, c.trace.latency_ms))
    third = max(1, len(ordered) // 3)
    short, long = ordered[:third], ordered[-third:]
    long_p95 = p95([c.trace.latency_ms for c in long]) or 0.0
    short_p95 = p95([c.trace.latency_ms for c in short]) or 0.0
    status, thresholds = against(settings, "context_p95_ms", long_p95)
    bins = _binned(calls)
    x = list(bins)

    def per_bin(value: Any) -> list[float | None]:
        return [value(members) for members in bins.values()]

    slowest = sorted(long, key=lambda c: -c.trace.latency_ms)[:REFERENCES_SHOWN]
    longest = max(c.history or 0 for c in calls)
    return measured(
        key="history_scale",
        title="Latency and tokens as histories grow",
        status=status,
        finding=f"The third of calls whose user had said most (up to {longest} observations) "
        f"took {long_p95:.0f} ms at p95, against {short_p95:.0f} ms for the third whose user "
        f"had said least; {plural(len(calls), 'call')} in {plural(len(bins), 'history bin')}.",
        figures=[
            Figure(name="p95 latency, longest histories", value=long_p95, unit="ms"),
            Figure(name="p95 latency, shortest histories", value=short_p95, unit="ms"),
            Figure(name="longest history", value=longest, unit="observations"),
            Figure(name="calls", value=len(calls)),
        ],
        thresholds=thresholds,
        references=[
            Reference(
                kind="trace",
                id=c.trace.id,
                note=f"{c.trace.latency_ms:.0f} ms at {c.history} observations",
            )
            for c in slowest
        ],
        plots=[
            Plot(
                title="p95 latency of context calls by history length",
                x_label="observations in the user's history",
                y_label="ms",
                x=x,
                series=[
                    Series(
                        name="p95 latency",
                        values=per_bin(lambda m: p95([c.trace.latency_ms for c in m])),
                    )
                ],
            ),
            Plot(
                title="Tokens per block by history length",
                x_label="observations in the user's history",
                y_label="tokens",
                x=x,
                series=[
                    Series(
                        name="mean tokens",
                        values=per_bin(lambda m: float(np.mean([c.tokens for c in m]))),
                    )
                ],
            ),
            Plot(
                title="Share of full blocks by history length",
                x_label="observations in the user's history",
                y_label="share of blocks",
                x=x,
                series=[
                    Series(
                        name="full blocks",
                        values=per_bin(lambda m: sum(c.full for c in m) / len(m)),
                    )
                ],
            ),
        ],
        action="Open the slowest long-history traces (`selfmodel trace ID`) and measure the "
        "deployment's machine with `selfmodel bench scale`.",
    )


def _recall_by_history(recorded: Recorded, settings: AuditSettings) -> Check:
    run = next(
        (
            r
            for r in recorded.eval_runs
            if to_utc(r.finished_at) < recorded.end
            and len(r.summary.get("recall_by_history") or []) >= 2
        ),
        None,
    )
    if run is None:
        return not_measured(
            "recall_by_history",
            "Recall as histories grow",
            "No eval run recorded recall over histories of different lengths (a LoCoMo file's "
            "conversations differ in length).",
            "selfmodel eval run --locomo FILE",
        )
    points = sorted(run.summary["recall_by_history"], key=lambda p: p["messages"])
    first, last = points[0], points[-1]
    fall = float(first["recall"]) - float(last["recall"])
    status, thresholds = against(settings, "recall_fall", fall)
    return measured(
        key="recall_by_history",
        title="Recall as histories grow",
        status=status,
        finding=f"Eval run {run.id} ({run.suite}) found recall@{run.k} {first['recall']:.2f} "
        f"after {first['messages']} messages and {last['recall']:.2f} after {last['messages']}: "
        + (f"a fall of {fall:.2f}." if fall > 0 else "no fall."),
        figures=[
            Figure(name="recall, shortest history", value=float(first["recall"])),
            Figure(name="recall, longest history", value=float(last["recall"])),
            Figure(name="fall", value=fall),
        ],
        thresholds=thresholds,
        references=[Reference(kind="eval_run", id=run.id)],
        plots=[
            Plot(
                title=f"Eval recall@{run.k} by history length ({run.suite})",
                x_label="messages in the history",
                y_label="mean recall",
                x=[str(p["messages"]) for p in points],
                series=[Series(name="recall", values=[float(p["recall"]) for p in points])],
            )
        ],
        action="Compare the long histories' items across configurations (`selfmodel eval "
        "compare`) and favour the profile and beliefs over raw moments as histories grow.",
    )


def ended_at(belief: Belief, endings: dict[str, datetime]) -> datetime | None:
    """When a belief stopped holding (None: it still holds)."""
    if belief.status not in ENDED:
        return None
    if belief.valid_to is not None:
        return to_utc(belief.valid_to)
    return endings.get(belief.id)


def _stale(recorded: Recorded, settings: AuditSettings) -> Check:
    endings: dict[str, datetime] = {}
    for event in recorded.events:
        if event.type in ENDINGS:
            endings[event.belief_id] = min(
                to_utc(event.at), endings.get(event.belief_id, to_utc(event.at))
            )
    served = 0
    stale: list[tuple[Call, str]] = []
    for call in recorded.calls:
        for item in call.chosen:
            if item.get("item_type") != "belief":
                continue
            served += 1
            belief = recorded.beliefs.get(str(item.get("id")))
            end = ended_at(belief, endings) if belief is not None else None
            if end is not None and end <= call.asked_at:
                stale.append((call, str(item.get("id"))))
    if not served:
        return not_measured(
            "stale_served",
            "Stale beliefs served",
            "No belief was served in a traced context block in the window.",
            CONTEXT_COMMAND,
        )
    value = len(stale) / served
    status, thresholds = against(settings, "stale_share", value)
    references: list[Reference] = []
    for call, belief_id in stale[:REFERENCES_SHOWN]:
        references.append(Reference(kind="trace", id=call.trace.id, note=f"served {belief_id}"))
        references.append(Reference(kind="belief", id=belief_id, note="ended before the call"))
    return measured(
        key="stale_served",
        title="Stale beliefs served",
        status=status,
        finding=f"{len(stale)} of {served} beliefs served in the window's blocks "
        f"({share(value)}) no longer held when they were served.",
        figures=[
            Figure(name="stale beliefs served", value=value, unit="share"),
            Figure(name="beliefs served", value=served),
        ],
        thresholds=thresholds,
        references=references,
        action="Keep the queue short (`selfmodel worker`), so what people say replaces what they "
        "said before the next call: `selfmodel why-not TRACE BELIEF` shows when it ended.",
    )


def _full_blocks(recorded: Recorded, settings: AuditSettings) -> Check:
    calls = [c for c in recorded.calls if c.chosen]
    if not calls:
        return not_measured(
            "full_blocks",
            "Blocks cut by the budget",
            "No traced context block in the window held an item.",
            CONTEXT_COMMAND,
        )
    full = [c for c in calls if c.full]
    value = len(full) / len(calls)
    status, thresholds = against(settings, "full_blocks", value)
    budgets = sorted({c.budget for c in calls if c.budget is not None})
    return measured(
        key="full_blocks",
        title="Blocks cut by the budget",
        status=status,
        finding=f"{share(value)} of {plural(len(calls), 'block')} had no room left for another "
        f"of their lines (budgets {', '.join(map(str, budgets)) or 'unknown'} tokens; mean "
        f"{np.mean([c.tokens for c in calls]):.0f} used).",
        figures=[
            Figure(name="full blocks", value=value, unit="share"),
            Figure(name="mean tokens", value=float(np.mean([c.tokens for c in calls]))),
            Figure(name="blocks", value=len(calls)),
        ],
        thresholds=thresholds,
        references=[
            Reference(kind="trace", id=c.trace.id, note=f"{c.tokens}/{c.budget} tokens")
            for c in full[:REFERENCES_SHOWN]
        ],
        action="Raise the budget (`SELFMODEL_DEFAULT_BUDGET_TOKENS`) or test a tighter ranking as "
        "an experiment; `selfmodel why-not TRACE ITEM` names what the budget cut.",
    )


__all__ = ["KEY", "context_decay", "ended_at", "history_bin", "p95"]
