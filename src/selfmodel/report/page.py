"""The joined report as one self-contained HTML page: tables and inline SVG plots, no script,
no stylesheet or font from elsewhere (it opens from a file, offline, and prints)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from selfmodel.domain.report import (
    ENGINEERING_METRICS,
    Correlation,
    GroupSummary,
    JoinedReport,
)

PLOT_WIDTH = 320
PLOT_HEIGHT = 120
PLOT_MARGIN = 28
ENGINEERING_LABELS = {
    "latency_ms": "latency (ms)",
    "tokens": "tokens per block",
    "specificity": "specificity",
    "recall": "recall (eval runs)",
}
# The page's own rules (its body and headings), apart from those of its parts, which a page with
# a layout of its own (the Inspector's audit page) takes without these.
PAGE_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1d2330; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
"""
PARTS_STYLE = """
.muted { color: #5c6475; } .note { background: #fff6e0; padding: .5rem .8rem; }
table { border-collapse: collapse; margin: .6rem 0; } caption { text-align: left;
        font-weight: 600; padding-bottom: .3rem; }
th, td { border-bottom: 1px solid #dde1e8; padding: .3rem .7rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; } .card { border: 1px solid #dde1e8;
         border-radius: 6px; padding: .6rem .9rem; min-width: 9rem; }
.card b { display: block; font-size: 1.3rem; } .plots { display: flex; flex-wrap: wrap;
          gap: 1rem; } figure { margin: 0; } figcaption { font-size: .85rem; }
.pos { background: #e3f3e6; } .neg { background: #fbe4e4; }
"""
STYLE = PAGE_STYLE + PARTS_STYLE


def number(value: float | None, digits: int = 3) -> str:
    """A figure to three significant digits; "–" for none."""
    return "–" if value is None else f"{value:.{digits}g}"


def table(caption: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A captioned table; ``rows`` are HTML already (escape text first)."""
    head = "".join(f"<th scope='col'>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><caption>{escape(caption)}</caption><tr>{head}</tr>{body}</table>"


def _group_rows(groups: Sequence[GroupSummary], outcomes: Sequence[str]) -> list[list[str]]:
    rows = []
    for g in groups:
        by_metric = {o.metric: o for o in g.outcomes}
        cells = [
            escape(g.name),
            str(g.traces),
            str(g.users),
            number(g.latency_ms_p50),
            number(g.latency_ms_p95),
            number(g.tokens),
            number(g.specificity),
        ]
        for label in outcomes:
            o = by_metric.get(label)
            cells.append(
                "–" if o is None else f"{number(o.value)} <span class='muted'>({o.events})</span>"
            )
        rows.append(cells)
    return rows


def plot(title: str, days: Sequence[str], values: Sequence[float | None]) -> str:
    """A small line chart of one daily series as inline SVG (gaps where a day has no value)."""
    known = [v for v in values if v is not None]
    width, height, m = PLOT_WIDTH, PLOT_HEIGHT, PLOT_MARGIN
    label = escape(title)
    if not known:
        return (
            f"<figure><svg width='{width}' height='{height}' role='img' aria-label='{label}:"
            f" no data'><text x='{m}' y='{height / 2}' fill='#5c6475'>no data</text></svg>"
            f"<figcaption>{label}</figcaption></figure>"
        )
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = (width - 2 * m) / max(1, len(values) - 1)

    def point(i: int, v: float) -> str:
        return f"{m + i * step:.1f},{height - m - (v - low) / span * (height - 2 * m):.1f}"

    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(point(i, v))
    lines = "".join(
        f"<polyline fill='none' stroke='#2b6cb0' stroke-width='2' points='{' '.join(r)}'/>"
        for r in runs
        if len(r) > 1
    )
    dots = "".join(
        f"<circle cx='{p.split(',')[0]}' cy='{p.split(',')[1]}' r='2.5' fill='#2b6cb0'/>"
        for r in runs
        for p in r
    )
    first, last = escape(days[0]) if days else "", escape(days[-1]) if days else ""
    return (
        f"<figure><svg width='{width}' height='{height}' role='img' aria-label='{label}'>"
        + f"<line x1='{m}' y1='{height - m}' x2='{width - m}' y2='{height - m}' stroke='#aab'/>"
        + (f"<text x='2' y='{m}' font-size='11'>{number(high)}</text>" if high != low else "")
        + f"<text x='2' y='{height - m}' font-size='11'>{number(low)}</text>"
        + f"<text x='{m}' y='{height - 8}' font-size='11'>{first}</text>"
        f"<text x='{width - m}' y='{height - 8}' font-size='11' text-anchor='end'>{last}</text>"
        f"{lines}{dots}</svg><figcaption>{label}</figcaption></figure>"
    )


# Colours of grouped bars, in series order: blue and orange (the eval report's two windows),
# then a green; readable by people with the commonest colour-vision deficiencies.
BAR_COLOURS = ("#2b6cb0", "#dd6b20", "#2f855a")


def bars(
    title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]
) -> str:
    """Grouped bars as inline SVG: one group per category, one bar per series (from zero; a
    missing value draws none). Sized like ``plot``, so both sit side by side."""
    width, height, m = PLOT_WIDTH, PLOT_HEIGHT, PLOT_MARGIN
    label = escape(title)
    known = [v for _, values in series for v in values if v is not None]
    if not categories or not known:
        return plot(title, [], [])
    low, high = min(0.0, *known), max(0.0, *known)
    span = (high - low) or 1.0
    slot = (width - 2 * m) / len(categories)
    bar = slot * 0.8 / max(1, len(series))

    def y(v: float) -> float:
        return height - m - (v - low) / span * (height - 2 * m)

    body = [f"<line x1='{m}' y1='{y(0):.1f}' x2='{width - m}' y2='{y(0):.1f}' stroke='#aab'/>"]
    for i, category in enumerate(categories):
        left = m + slot * i + slot * 0.1
        for j, (name, values) in enumerate(series):
            v = values[i] if i < len(values) else None
            if v is None:
                continue
            top, bottom = sorted((y(v), y(0)))
            body.append(
                f"<rect x='{left + j * bar:.1f}' y='{top:.1f}' width='{bar:.1f}' "
                f"height='{max(bottom - top, 0.5):.1f}' fill='{BAR_COLOURS[j % len(BAR_COLOURS)]}'>"
                f"<title>{escape(name)}, {escape(category)}: {number(v)}</title></rect>"
            )
    # Every category is named under its group when the labels fit (long ones cut when there is
    # room for a word); else the first and the last (each bar's tooltip names its own).
    room = int(slot // 6)
    if max(len(c) for c in categories) <= room or room >= 8:
        names = "".join(
            f"<text x='{m + slot * (i + 0.5):.1f}' y='{height - m + 12}' font-size='10' "
            f"text-anchor='middle'>{escape(c[:room])}</text>"
            for i, c in enumerate(categories)
        )
    else:
        names = (
            f"<text x='{m}' y='{height - 8}' font-size='11'>{escape(categories[0][:16])}</text>"
            f"<text x='{width - m}' y='{height - 8}' font-size='11' text-anchor='end'>"
            f"{escape(categories[-1][:16])}</text>"
        )
    legend = " · ".join(
        f"<tspan fill='{BAR_COLOURS[j % len(BAR_COLOURS)]}'>■</tspan> {escape(name)}"
        for j, (name, _) in enumerate(series)
    )
    return (
        f"<figure><svg width='{width}' height='{height}' role='img' aria-label='{label}'>"
        + "".join(body)
        + f"<text x='2' y='{m}' font-size='11'>{number(high)}</text>"
        + (f"<text x='2' y='{height - m}' font-size='11'>{number(low)}</text>" if low else "")
        + names
        + (f"<text x='{m}' y='12' font-size='11'>{legend}</text>" if len(series) > 1 else "")
        + f"</svg><figcaption>{label}</figcaption></figure>"
    )


def _correlation_rows(found: Sequence[Correlation], outcomes: Sequence[str]) -> list[list[str]]:
    by_pair = {(c.engineering, c.outcome): c for c in found}
    rows = []
    for metric in ENGINEERING_METRICS:
        cells = [escape(ENGINEERING_LABELS[metric])]
        for label in outcomes:
            c = by_pair.get((metric, label))
            if c is None or c.r is None:
                days = 0 if c is None else c.days
                cells.append(f"<span class='muted'>– ({_days(days)})</span>")
                continue
            tone = "pos" if c.r > 0 else "neg"
            cells.append(
                f"<span class='{tone}'>r {c.r:+.2f}</span>"
                f" <span class='muted'>p {c.p_value:.2g}, {_days(c.days)}</span>"
            )
        rows.append(cells)
    return rows


def render(report: JoinedReport) -> str:
    """The report as a complete HTML document."""
    outcomes = sorted({o.metric for o in report.overall.outcomes})
    o = report.overall
    cards = "".join(
        f"<div class='card'><span class='muted'>{escape(name)}</span><b>{value}</b></div>"
        for name, value in (
            ("context calls", str(o.traces)),
            ("users", str(o.users)),
            (
                "latency p50 / p95 (ms)",
                f"{number(o.latency_ms_p50)} / {number(o.latency_ms_p95)}",
            ),
            ("tokens per block", number(o.tokens)),
            ("specificity", number(o.specificity)),
            ("recall (last eval run)", number(report.recall)),
            *((f"{m.metric}", number(m.value)) for m in o.outcomes),
        )
    )
    header = [
        "group", "calls", "users", "latency p50", "latency p95", "tokens", "specificity",
        *(f"{label}{' per call' if not _valued(report, label) else ''}" for label in outcomes),
    ]  # fmt: skip
    days = [d.day.isoformat() for d in report.daily]
    plots = "".join(
        plot(ENGINEERING_LABELS[m], days, [d.engineering.get(m) for d in report.daily])
        for m in ENGINEERING_METRICS
    ) + "".join(
        plot(label, days, [d.outcomes.get(label) for d in report.daily]) for label in outcomes
    )
    notes = "".join(f"<p class='note'>{escape(n)}</p>" for n in report.notes)
    window = f"{report.start:%Y-%m-%d %H:%M} – {report.end:%Y-%m-%d %H:%M} UTC"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>selfmodel report — {escape(report.workspace)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>What the self-model does for people — {escape(report.workspace)}</h1>"
        f"<p class='muted'>{escape(window)}. Engineering metrics from the traces of context"
        " calls and from eval runs; outcomes recorded about those calls. Definitions:"
        " docs/experiments.md.</p>"
        f"{notes}<div class='cards'>{cards}</div>"
        "<h2>Per experiment variant</h2>"
        + table(
            "Variants (- : calls under no experiment)",
            header,
            _group_rows(report.variants, outcomes),
        )
        + "<h2>Per segment</h2>"
        + table(
            "Users the self-model covers, and the rest",
            header,
            _group_rows(report.segments, outcomes),
        )
        + f"<h2>Over time</h2><div class='plots'>{plots}</div>"
        "<h2>How engineering metrics move with outcomes</h2>"
        + table(
            "Pearson's r across days (a correlation, not a cause)",
            ["engineering metric", *outcomes],
            _correlation_rows(report.correlations, outcomes),
        )
        + "</body></html>"
    )


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _valued(report: JoinedReport, label: str) -> bool:
    return not any(o.per_call for o in report.overall.outcomes if o.metric == label)


__all__ = ["PAGE_STYLE", "PARTS_STYLE", "STYLE", "bars", "number", "plot", "render", "table"]
