"""How a figure becomes a status, and checks a section: the rules every part of the audit shares.

A check compares one figure with two thresholds (at risk, failing). A section takes the worst
status of its measured checks, and the next action of that check; a section with no measured
check is not measured, and its next action is the first check's command. The problem to act on
first is the worst section, the earlier listed among equals (the issue's order: what costs most
to leave comes first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from selfmodel.audit.thresholds import FLOORS
from selfmodel.config import AuditSettings, audit_thresholds
from selfmodel.domain.audit import SEVERITY, AuditStatus, Check, Section


def graded(value: float, at_risk: float, failing: float, *, higher_is_better: bool) -> AuditStatus:
    """``value`` against its thresholds: past ``failing`` failing, past ``at_risk`` at risk.

    "Past" is below for a figure that should be high (a share covered), above for one that
    should be low (a latency, a share of stale items).
    """
    if higher_is_better:
        if value < failing:
            return AuditStatus.FAILING
        return AuditStatus.AT_RISK if value < at_risk else AuditStatus.HEALTHY
    if value > failing:
        return AuditStatus.FAILING
    return AuditStatus.AT_RISK if value > at_risk else AuditStatus.HEALTHY


def against(
    settings: AuditSettings, stem: str, value: float
) -> tuple[AuditStatus, dict[str, float]]:
    """``value`` graded against the settings pair of ``stem`` (``audit_<stem>`` and its failing
    twin), and those settings by name, as a check lists them."""
    at_risk, failing = audit_thresholds(stem)
    thresholds = {at_risk: getattr(settings, at_risk), failing: getattr(settings, failing)}
    status = graded(
        value, thresholds[at_risk], thresholds[failing], higher_is_better=stem in FLOORS
    )
    return status, thresholds


def measured(*, action: str, **fields: Any) -> Check:
    """A check that was measured: ``action`` is its next action unless it is healthy."""
    healthy = fields["status"] is AuditStatus.HEALTHY
    return Check(**fields, next_action=None if healthy else action)


def worst(statuses: Sequence[AuditStatus]) -> AuditStatus:
    """The worst measured status; not measured when none was measured."""
    measured = [s for s in statuses if s is not AuditStatus.NOT_MEASURED]
    if not measured:
        return AuditStatus.NOT_MEASURED
    return max(measured, key=lambda s: SEVERITY[s])


def section(key: str, title: str, question: str, checks: Sequence[Check]) -> Section:
    """A section of ``checks``: the worst status, and what to do about the worst check."""
    status = worst([c.status for c in checks])
    if status is AuditStatus.NOT_MEASURED:
        first = checks[0]
        action = f"Nothing here is measured yet: start with `{first.command}`."
    else:
        acting = next(c for c in checks if c.status is status)
        action = acting.next_action or "Nothing to do: keep the audit running (weekly)."
        unmeasured = sum(1 for c in checks if c.status is AuditStatus.NOT_MEASURED)
        if status is AuditStatus.HEALTHY and unmeasured:
            first = next(c for c in checks if c.status is AuditStatus.NOT_MEASURED)
            action = f"Measure what is not measured yet: `{first.command}`."
    return Section(
        key=key, title=title, question=question, status=status, next_action=action, checks=[*checks]
    )


def costliest(sections: Sequence[Section]) -> str | None:
    """The section to act on first: the worst measured, the first listed among equals."""
    measured = [s for s in sections if s.status is not AuditStatus.NOT_MEASURED]
    if not measured or all(s.status is AuditStatus.HEALTHY for s in measured):
        return None
    top = max(SEVERITY[s.status] for s in measured)
    return next(s.key for s in measured if SEVERITY[s.status] == top)


def share(value: float | None) -> str:
    """A share as a person reads it: ``0.1234`` -> ``12%`` (``0.004`` -> ``0.4%``)."""
    if value is None:
        return "–"
    percent = value * 100
    return f"{percent:.1f}%" if 0 < percent < 1 else f"{percent:.0f}%"


def size(n: float) -> str:
    """Bytes as a person reads them: ``1_970_000`` -> ``1.97 MB``."""
    for unit, name in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if abs(n) >= unit:
            return f"{n / unit:.3g} {name}"
    return f"{n:.0f} B"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 run``, ``2 runs`` (``words``: an irregular plural)."""
    return f"{n} {word if n == 1 else words or word + 's'}"


def sentence(parts: Sequence[str]) -> str:
    """Clauses joined into one sentence: capitalised, ending with a full stop."""
    text = "; ".join(p for p in parts if p)
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def not_measured(key: str, title: str, finding: str, command: str) -> Check:
    """A check that had no data to decide on, with the command that would give it some."""
    return Check(
        key=key, title=title, status=AuditStatus.NOT_MEASURED, finding=finding, command=command
    )


__all__ = [
    "costliest",
    "graded",
    "not_measured",
    "plural",
    "section",
    "sentence",
    "share",
    "size",
    "worst",
]
