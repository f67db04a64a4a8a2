"""The audit as one self-contained HTML page: no script, nothing fetched from elsewhere, plots as
inline SVG (the joined report's helpers, ``selfmodel.report.page``), readable at 375 px.

First the verdict — the problem to act on first and each section's status and next action —
then each section with its checks: the finding, its figures, its plots, the ids behind it (with
the command that opens each) and, when not measured, the command that would measure it. Text
from the store (workspace name, user ids, notes) is escaped.

The Inspector shows the same report within its own layout: ``audit_body`` with a ``link`` that
turns the ids it has pages for into links, and ``STYLESHEET`` served as a file (its pages allow
no inline style).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

from selfmodel.domain.audit import AuditReport, AuditStatus, Check, Figure, Plot, Reference, Section
from selfmodel.report.page import PARTS_STYLE, STYLE, bars, number, plot

LABELS = {
    AuditStatus.HEALTHY: "healthy",
    AuditStatus.AT_RISK: "at risk",
    AuditStatus.FAILING: "failing",
    AuditStatus.NOT_MEASURED: "not measured",
}
# How each kind of id is opened from a shell next to the database.
OPEN_WITH = {
    "trace": "selfmodel trace {id}",
    "eval_run": "selfmodel eval history",
    "user": "selfmodel show {id}",
    "alert": "selfmodel eval alerts",
    "experiment": "selfmodel experiment show {id}",
    "belief": "selfmodel history {id}",
    "job": "store.get_job('{id}')",
    "outcome": "selfmodel outcomes USER",
    "audit_record": "selfmodel audit-log --json",
}
AUDIT_STYLE = """
.badge { display: inline-block; border-radius: 999px; padding: 0 .6rem; font-size: .8rem;
         font-weight: 600; vertical-align: middle; white-space: nowrap; }
.healthy { background: #e3f3e6; color: #1e5e2b; } .at_risk { background: #fff1d6; color: #7a4b00; }
.failing { background: #fbe4e4; color: #8f1d1d; } .not_measured { background: #eceef2;
           color: #3d4452; }
.verdict { border-left: 4px solid #8f1d1d; padding: .4rem .9rem; background: #fdf3f3; }
.verdict.calm { border-color: #1e5e2b; background: #f1f8f2; }
.overview .card { flex: 1 1 15rem; } .card p { margin: .3rem 0 0; font-size: .9rem; }
section.check { border-top: 1px solid #dde1e8; padding: .4rem 0 .8rem; }
section.check h3 { font-size: 1rem; margin: .5rem 0 .3rem; }
.check-body { display: flex; flex-wrap: wrap; gap: .5rem 2rem; align-items: flex-start; }
.check-body .text { flex: 1 1 24rem; min-width: 0; } .check-body .plots { flex: 0 1 auto; }
ul.figs { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem; }
ul.figs li { border: 1px solid #dde1e8; border-radius: 6px; padding: .2rem .6rem;
             font-size: .85rem; } ul.figs b { font-size: 1rem; margin-right: .3rem; }
.scroll { overflow-x: auto; max-width: 100%; } code { overflow-wrap: anywhere; }
ul.refs { padding-left: 1.1rem; font-size: .88rem; } ul.refs li { margin: .15rem 0; }
.action { font-weight: 600; } .thresholds { font-size: .82rem; }
svg { max-width: 100%; height: auto; } figcaption { max-width: 320px; }
"""
# Only the standalone page owns its body and headings.
PAGE_STYLE = """
@media (max-width: 480px) { body { margin: 1rem auto; } h1 { font-size: 1.25rem; } }
"""
# The report's parts without the page's own rules, for a page with a layout of its own.
STYLESHEET = PARTS_STYLE + AUDIT_STYLE
# Where an id of a reference opens on the page showing the report (None: nowhere there).
Link = Callable[[Reference], str | None]


def badge(status: AuditStatus) -> str:
    return f"<span class='badge {status.value}'>{LABELS[status]}</span>"


def figure_value(f: Figure) -> str:
    """A figure in its unit, as a person reads it."""
    if f.value is None:
        return "–"
    if f.unit == "share":
        return f"{f.value:.0%}" if f.value >= 0.01 or f.value == 0 else f"{f.value:.2%}"
    if f.unit == "bytes":
        for size, name in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
            if abs(f.value) >= size:
                return f"{f.value / size:.3g} {name}"
        return f"{f.value:.0f} B"
    if f.value == int(f.value) and abs(f.value) >= 1000:
        return f"{int(f.value):,}" + (f" {f.unit}" if f.unit else "")
    return number(f.value) + (f" {f.unit}" if f.unit else "")


def prose(text: str) -> str:
    """Escaped text with its `commands` set as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _figures(check: Check) -> str:
    if not check.figures:
        return ""
    return (
        "<ul class='figs'>"
        + "".join(
            f"<li><b>{escape(figure_value(f))}</b>{escape(f.name)}</li>" for f in check.figures
        )
        + "</ul>"
    )


def _plot(p: Plot) -> str:
    title = p.title
    if p.kind == "bars":
        return bars(title, p.x, [(s.name, s.values) for s in p.series])
    return "".join(plot(title, p.x, s.values) for s in p.series)


def _reference(r: Reference, link: Link) -> str:
    opener = OPEN_WITH.get(r.kind, "").format(id=r.id)
    note = f" — {escape(r.note)}" if r.note else ""
    how = f" <span class='muted'>(<code>{escape(opener)}</code>)</span>" if opener else ""
    name = f"<code>{escape(r.id)}</code>"
    href = link(r)
    if href is not None:
        name = f"<a href='{escape(href)}'>{name}</a>"
    return f"<li>{escape(r.kind.replace('_', ' '))} {name}{note}{how}</li>"


def _no_link(_: Reference) -> None:
    return None


def _check(check: Check, link: Link) -> str:
    parts = [f"<p>{escape(check.finding)}</p>"]
    if check.command:
        parts.append(f"<p class='action'>To measure it: <code>{escape(check.command)}</code></p>")
    if check.next_action:
        parts.append(f"<p class='action'>Next: {prose(check.next_action)}</p>")
    parts.append(_figures(check))
    if check.references:
        parts.append(
            "<p class='muted'>Behind it:</p><ul class='refs'>"
            + "".join(_reference(r, link) for r in check.references)
            + "</ul>"
        )
    if check.thresholds:
        graded = ", ".join(f"{escape(k)} = {v:g}" for k, v in check.thresholds.items())
        parts.append(f"<p class='muted thresholds'>Graded against {graded}.</p>")
    plots = "".join(_plot(p) for p in check.plots)
    return (
        f"<section class='check' id='{escape(check.key)}'>"
        f"<h3>{escape(check.title)} {badge(check.status)}</h3><div class='check-body'>"
        f"<div class='text'>{''.join(parts)}</div>"
        + (f"<div class='plots'>{plots}</div>" if plots else "")
        + "</div></section>"
    )


def _section(s: Section, link: Link) -> str:
    return (
        f"<section class='problem' id='{escape(s.key)}'>"
        f"<h2>{escape(s.title)} {badge(s.status)}</h2>"
        f"<p class='muted'>{escape(s.question)}</p>"
        f"<p class='action'>{prose(s.next_action)}</p>"
        + "".join(_check(c, link) for c in s.checks)
        + "</section>"
    )


def _card(s: Section) -> str:
    counts = {status: sum(1 for c in s.checks if c.status is status) for status in AuditStatus}
    tally = ", ".join(f"{n} {LABELS[status]}" for status, n in counts.items() if n)
    return (
        f"<div class='card'><a href='#{escape(s.key)}'>{escape(s.title)}</a> {badge(s.status)}"
        f"<p class='muted'>{tally}</p><p>{prose(s.next_action)}</p></div>"
    )


def audit_body(report: AuditReport, link: Link = _no_link) -> str:
    """The report as the content of a page: its heading, window, verdict, overview and sections.

    ``link(reference)`` is where a listed id opens, if anywhere (the Inspector's trace and user
    pages); the command that opens it from a shell is shown either way.
    """
    sections = [*report.problems, report.readiness]
    if report.costliest is not None:
        first = report.section(report.costliest)
        verdict = (
            f"<p class='verdict'><b>Act first on {escape(first.title.lower())}</b> "
            f"({LABELS[first.status]}): {prose(first.next_action)}</p>"
        )
    else:
        verdict = (
            "<p class='verdict calm'>No problem is at risk or failing in what was measured; "
            "what is not measured says how to measure it.</p>"
        )
    window = (
        f"{report.start:%Y-%m-%d %H:%M} – {report.end:%Y-%m-%d %H:%M} UTC, generated "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC, {escape(report.backend)}"
    )
    return (
        f"<h1>Audit of workspace {escape(report.workspace)}</h1>"
        f"<p class='muted'>{window}. Computed from what this deployment recorded: eval runs, "
        "alerts, traces, replays, outcomes, experiments, the Mirror, the queue and the "
        "database (docs/audit.md).</p>"
        f"{verdict}<div class='cards overview'>"
        + "".join(_card(s) for s in sections)
        + "</div>"
        + "".join(_section(s, link) for s in sections)
    )


def render_audit(report: AuditReport) -> str:
    """The report as a complete, self-contained HTML document."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>selfmodel audit — {escape(report.workspace)}</title>"
        f"<style>{STYLE}{AUDIT_STYLE}{PAGE_STYLE}</style></head><body>"
        f"{audit_body(report)}</body></html>"
    )


__all__ = ["STYLESHEET", "Link", "audit_body", "render_audit"]
