"""``selfmodel eval report``: one self-contained HTML page of a workspace's evaluation and drift.

Plots are inline SVG written here — no script, no stylesheet or font from a CDN, no plotting
dependency — so the file opens anywhere, offline, and can be attached to a ticket:

- each suite's mean recall over its runs, with its change points (dashed) and the level of each
  segment between them;
- query distributions before and after: the two windows' query embeddings projected on their
  first two principal components, and the query-length and kind-of-belief shares side by side;
- the self-model change rate of both windows and the users whose model changed most;
- the open alerts.

Text from the store (suite names, statements of beliefs that moved, user ids) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from itertools import pairwise

import numpy as np

from selfmodel.domain import Alert
from selfmodel.evaluation.drift import CategoricalShift
from selfmodel.evaluation.monitor import DriftReport
from selfmodel.evaluation.quality import QualitySeries

# Colours of the reference and the current window, and of a fall; readable on white and by
# people with the commonest colour-vision deficiencies (blue/orange).
REFERENCE = "#1f77b4"
CURRENT = "#ff7f0e"
FALL = "#c0392b"
WIDTH = 560  # of every plot, in CSS pixels: two fit side by side in 1280
HEIGHT = 240
PAD = 40
# Moved beliefs listed per user (the JSON of `eval drift` has them all).
MOVES_SHOWN = 4

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto;
       max-width: 1200px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px;
     border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #666; } .row { display: flex; flex-wrap: wrap; gap: 24px; }
figure { margin: 0; } figcaption { color: #555; font-size: 13px; max-width: 560px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 4px 10px;
        border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { background: #fafafa; } .num { text-align: right; font-variant-numeric: tabular-nums; }
.alert { color: #c0392b; font-weight: 600; } .ok { color: #2e7d32; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; }
"""


def render_report(
    report: DriftReport,
    alerts: Sequence[Alert],
    points: tuple[np.ndarray, np.ndarray] | None,
) -> str:
    """The page. ``points``: the two windows' queries in two dimensions (or None: too few)."""
    ref, cur = report.reference, report.current
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>selfmodel evaluation — {escape(report.workspace)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Evaluation and drift — workspace {escape(report.workspace)}</h1>",
        f"<p class='meta'>Reference window {ref.start:%Y-%m-%d %H:%M} – {ref.end:%Y-%m-%d %H:%M}"
        f" UTC, current window {cur.start:%Y-%m-%d %H:%M} – {cur.end:%Y-%m-%d %H:%M} UTC · "
        f"α = {report.alpha:g}</p>",
        _alerts_section(report, alerts),
        _quality_section(report.quality),
        _input_section(report, points),
        _self_model_section(report),
        "</body></html>",
    ]
    return "\n".join(parts)


# -- sections --------------------------------------------------------------------------------


def _alerts_section(report: DriftReport, alerts: Sequence[Alert]) -> str:
    rows = "".join(
        f"<tr><td>{escape(a.kind.value)}</td><td>{a.first_seen_at:%Y-%m-%d %H:%M}</td>"
        f"<td class='num'>{a.seen_count}</td><td>{escape(a.message)}</td></tr>"
        for a in alerts
    )
    found = "".join(f"<li class='alert'>{escape(line)}</li>" for line in report.alerts)
    return (
        "<h2 id='alerts'>Alerts</h2>"
        + (
            f"<p>This report finds:</p><ul>{found}</ul>"
            if found
            else "<p class='ok'>This report finds no drift.</p>"
        )
        + (
            "<table><tr><th>open alert</th><th>first seen</th><th>seen</th><th>message</th></tr>"
            f"{rows}</table>"
            if rows
            else "<p>No open alert in the workspace.</p>"
        )
    )


def _quality_section(series: Sequence[QualitySeries]) -> str:
    if not series:
        return "<h2 id='quality'>Eval scores over runs</h2><p>No eval run recorded.</p>"
    figures = []
    for q in series:
        changes = ", ".join(
            f"from run {escape(c.run_id)}: {c.before_mean:.3f} → {c.after_mean:.3f} "
            f"(p = {c.p_value:.2g})"
            for c in q.changes
        )
        caption = (
            f"Suite <b>{escape(q.suite)}</b> (data {escape(q.dataset_sha256[:8])}), "
            f"{len(q.scores)} runs: mean recall@{q.k}. "
            + (f"Change points: {changes}." if changes else escape(q.note or "No change point."))
        )
        figures.append(
            f"<figure class='trend'>{trend_svg(q)}<figcaption>{caption}</figcaption></figure>"
        )
    return (
        "<h2 id='quality'>Eval scores over runs</h2><div class='row'>" + "".join(figures) + "</div>"
    )


def _input_section(report: DriftReport, points: tuple[np.ndarray, np.ndarray] | None) -> str:
    d = report.input_drift
    verdict = (
        escape(d.note)
        if d.note
        else f"MMD² {d.statistic:.4f}, permutation p = {d.p_value:.4f}: "
        + ("<span class='alert'>drift</span>" if d.drifted else "<span class='ok'>no drift</span>")
    )
    scatter = (
        f"<figure>{scatter_svg(*points)}<figcaption>{d.reference_queries} reference and "
        f"{d.current_queries} current queries, embedded and projected on their first two "
        f"principal components. {verdict}</figcaption></figure>"
        if points is not None
        else f"<p>{verdict}</p>"
    )
    bars = "".join(
        f"<figure>{bars_svg(shift)}<figcaption>{escape(shift.name)}: share of each window · "
        f"PSI {shift.psi:.3f}, χ² p = {shift.p_value:.2g}"
        + (" — <span class='alert'>shift</span>" if shift.drifted else "")
        + "</figcaption></figure>"
        for shift in report.categorical
    )
    legend = (
        f"<p class='legend'><span style='background:{REFERENCE}'></span>reference window"
        f"<span style='background:{CURRENT}'></span>current window</p>"
    )
    return (
        "<h2 id='inputs'>Queries and beliefs formed, before and after</h2>"
        + legend
        + f"<div class='row'>{scatter}{bars}</div>"
    )


def _self_model_section(report: DriftReport) -> str:
    s = report.self_model
    rates = rate_svg(s.reference.change_rate, s.current.change_rate)
    verdict = (
        escape(s.note)
        if s.note
        else f"rise {s.change_rate_rise:+.2f}, χ² p = {s.p_value:.2g}: "
        + ("<span class='alert'>drift</span>" if s.drifted else "<span class='ok'>no drift</span>")
    )
    rows = []
    top = max((u.changes for u in s.changed_most), default=0) or 1
    for u in s.changed_most:
        moved = "; ".join(
            f"{escape(m.event)}: {escape(m.statement)}" for m in u.moved[:MOVES_SHOWN]
        )
        more = len(u.moved) - MOVES_SHOWN
        if more > 0:
            moved += f"; … {more} more"
        bar = (
            f"<svg width='120' height='12' role='img' aria-label='{u.changes} changes'>"
            f"<rect width='{120 * u.changes / top:.1f}' height='12' fill='{CURRENT}'/></svg>"
        )
        rows.append(
            f"<tr><td>{escape(u.user)}</td><td class='num'>{u.changes}</td><td>{bar}</td>"
            f"<td class='num'>{u.confidence_shift:+.2f}</td><td>{moved}</td></tr>"
        )
    users = (
        "<table><tr><th>user</th><th>changes</th><th></th><th>Δ confidence</th>"
        "<th>beliefs that moved</th></tr>" + "".join(rows) + "</table>"
        if rows
        else "<p>No user's self-model changed in the current window.</p>"
    )
    return (
        "<h2 id='self-models'>Self-models</h2><div class='row'>"
        f"<figure>{rates}<figcaption>Share of belief events that supersede or contradict a "
        f"belief: {s.reference.events} reference events, {s.current.events} current · "
        f"{verdict}</figcaption></figure></div>"
        f"<h3>Users whose self-model changed most (current window)</h3>{users}"
    )


# -- plots -----------------------------------------------------------------------------------


def _svg(body: str, label: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(label)}'>"
        f"<rect width='{width}' height='{height}' fill='white'/>{body}</svg>"
    )


def _y_axis(low: float, high: float, ticks: int = 5) -> str:
    lines = []
    for i in range(ticks + 1):
        value = low + (high - low) * i / ticks
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * i / ticks
        lines.append(
            f"<line x1='{PAD}' x2='{WIDTH - 10}' y1='{y:.1f}' y2='{y:.1f}' stroke='#eee'/>"
            f"<text x='{PAD - 6}' y='{y + 4:.1f}' text-anchor='end'>{value:.2f}</text>"
        )
    return "".join(lines)


def trend_svg(series: QualitySeries) -> str:
    """Mean recall over runs; change points dashed; each segment's level drawn flat."""
    n = len(series.scores)
    span = max(n - 1, 1)

    def x(i: float) -> float:
        return PAD + (WIDTH - PAD - 20) * i / span

    def y(v: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * v

    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(series.scores))
    body = [_y_axis(0.0, 1.0)]
    bounds = [0, *(c.position for c in series.changes), n]
    for start, end in pairwise(bounds):
        level = float(np.mean(series.scores[start:end]))
        body.append(
            f"<line class='level' x1='{x(start):.1f}' x2='{x(end - 1):.1f}' y1='{y(level):.1f}' "
            f"y2='{y(level):.1f}' stroke='#999' stroke-width='2' opacity='0.7'/>"
        )
    for c in series.changes:
        colour = FALL if c.fell else "#2e7d32"
        body.append(
            f"<line class='change-point' x1='{x(c.position - 0.5):.1f}' "
            f"x2='{x(c.position - 0.5):.1f}' y1='{PAD / 2}' y2='{HEIGHT - PAD}' stroke='{colour}' "
            f"stroke-dasharray='5 4' stroke-width='2'/><text x='{x(c.position - 0.5) + 4:.1f}' "
            f"y='{PAD / 2 + 10}' fill='{colour}'>{'▼' if c.fell else '▲'} p = {c.p_value:.2g}"
            "</text>"
        )
    body.append(f"<polyline fill='none' stroke='{REFERENCE}' stroke-width='2' points='{points}'/>")
    body.extend(
        f"<circle cx='{x(i):.1f}' cy='{y(v):.1f}' r='3' fill='{REFERENCE}'>"
        f"<title>{escape(series.run_ids[i])}: {v:.3f}</title></circle>"
        for i, v in enumerate(series.scores)
    )
    body.append(
        f"<text x='{WIDTH / 2:.0f}' y='{HEIGHT - 8}' text-anchor='middle'>run (oldest first)</text>"
    )
    return _svg("".join(body), f"mean recall of suite {series.suite} over {n} runs")


def scatter_svg(reference: np.ndarray, current: np.ndarray) -> str:
    """Two samples of 2-D points, reference and current."""
    both = np.vstack([reference, current])
    low, high = both.min(axis=0), both.max(axis=0)
    size = np.where(high - low > 0, high - low, 1.0)

    def place(p: np.ndarray) -> tuple[float, float]:
        u = (p - low) / size
        return PAD + (WIDTH - 2 * PAD) * u[0], HEIGHT - PAD - (HEIGHT - 2 * PAD) * u[1]

    dots = []
    for points, colour, label in (
        (reference, REFERENCE, "reference"),
        (current, CURRENT, "current"),
    ):
        for p in points:
            cx, cy = place(p)
            dots.append(
                f"<circle class='{label}' cx='{cx:.1f}' cy='{cy:.1f}' r='3.5' fill='{colour}' "
                "fill-opacity='0.75'/>"
            )
    frame = (
        f"<rect x='{PAD / 2}' y='{PAD / 2}' width='{WIDTH - PAD}' height='{HEIGHT - PAD}' "
        "fill='none' stroke='#ddd'/>"
        f"<text x='{WIDTH / 2:.0f}' y='{HEIGHT - 6}' text-anchor='middle'>first principal "
        "component</text>"
    )
    return _svg(frame + "".join(dots), "query embeddings of both windows")


def bars_svg(shift: CategoricalShift) -> str:
    """Each category's share of the reference and the current window, side by side."""
    ref_total = sum(shift.reference_counts) or 1
    cur_total = sum(shift.current_counts) or 1
    shares = [
        (c, r / ref_total, k / cur_total)
        for c, r, k in zip(
            shift.categories, shift.reference_counts, shift.current_counts, strict=True
        )
    ]
    n = max(len(shares), 1)
    slot = (WIDTH - PAD - 20) / n
    bar = slot * 0.35
    body = [_y_axis(0.0, 1.0)]
    for i, (category, r, k) in enumerate(shares):
        left = PAD + slot * i + slot * 0.15
        for j, (value, colour) in enumerate(((r, REFERENCE), (k, CURRENT))):
            h = (HEIGHT - 2 * PAD) * value
            body.append(
                f"<rect x='{left + j * bar:.1f}' y='{HEIGHT - PAD - h:.1f}' width='{bar:.1f}' "
                f"height='{h:.1f}' fill='{colour}'><title>{escape(category)}: {value:.0%}</title>"
                "</rect>"
            )
        body.append(
            f"<text x='{left + bar:.1f}' y='{HEIGHT - PAD + 14}' text-anchor='middle'>"
            f"{escape(category[:14])}</text>"
        )
    return _svg("".join(body), f"{shift.name}: shares before and after")


def rate_svg(reference: float | None, current: float | None) -> str:
    """The change rate of both windows as two bars (an empty window draws none)."""
    width = 300
    body = []
    for i, (value, colour, label) in enumerate(
        ((reference, REFERENCE, "reference"), (current, CURRENT, "current"))
    ):
        y = PAD + i * 70
        w = (width - 120) * (value or 0.0)
        body.append(
            f"<text x='10' y='{y + 20}'>{label}</text>"
            f"<rect x='90' y='{y}' width='{w:.1f}' height='30' fill='{colour}'/>"
            f"<text x='{96 + w:.1f}' y='{y + 20}'>"
            f"{'–' if value is None else f'{value:.0%}'}</text>"
        )
    return _svg("".join(body), "belief change rate of both windows", width=width, height=200)


def project_2d(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both samples on the pooled sample's first two principal components (SVD of the
    centred data), so the picture shows where the queries moved, not an arbitrary slice."""
    pooled = np.vstack([reference, current])
    centred = pooled - pooled.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2].T if vt.shape[0] >= 2 else np.eye(pooled.shape[1], 2)
    projected = centred @ axes
    return projected[: len(reference)], projected[len(reference) :]


__all__ = ["project_2d", "render_report"]
