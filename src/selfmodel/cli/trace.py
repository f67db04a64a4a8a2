"""Rendering a stored ``context`` trace for ``selfmodel trace ID``."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from selfmodel.domain import TraceRecord

# Signals shown as columns; the JSON view has every one.
SHOWN_SIGNALS = ("dense", "keyword", "rrf", "session_bonus", "named_user_factor", "when_factor")


def trace_as_dict(record: TraceRecord) -> dict[str, Any]:
    """A trace as JSON-ready data."""
    return {
        "id": record.id,
        "workspace_id": record.workspace_id,
        "user_ids": list(record.user_ids),
        "query": record.query,
        "created_at": record.created_at.isoformat(),
        "latency_ms": record.latency_ms,
        "config": record.config,
        **record.payload,
    }


def print_trace(console: Console, record: TraceRecord, *, as_json: bool = False) -> None:
    """Print a trace: the question, the config, the candidates with their signals, the block."""
    if as_json:
        console.print_json(json.dumps(trace_as_dict(record), default=str))
        return
    payload = record.payload
    console.rule(f"trace {record.id}")
    console.print(f"query: {record.query!r}", highlight=False)
    if payload.get("matched_query") not in (None, record.query):
        console.print(f"matched as: {payload['matched_query']!r}", highlight=False)
    console.print(
        f"users {', '.join(record.user_ids)} · {record.created_at:%Y-%m-%d %H:%M:%S} · "
        f"{record.latency_ms:.1f} ms · {payload.get('tokens', 0)} tokens · "
        f"{payload.get('indexed_items', '?')} items indexed",
        highlight=False,
    )
    version = payload.get("model_version")
    if version:
        revisions = ", ".join(f"{u} r{r}" for u, r in version.get("revisions", {}).items())
        settled = "" if version.get("settled") else " (not settled: a write raced the read)"
        console.print(f"model version: {revisions}{settled}", highlight=False)
    if payload.get("temporal"):
        console.print(f"time: {payload['temporal']}", highlight=False)
    chosen = {item["id"] for item in payload.get("chosen", [])}
    table = Table(title="Candidates (best first; ✓ = chosen)")
    table.add_column("", width=1)
    table.add_column("item", ratio=1, min_width=30)
    table.add_column("score", justify="right")
    for signal in SHOWN_SIGNALS:
        table.add_column(signal, justify="right")
    for candidate in payload.get("candidates", []):
        signals = candidate.get("signals", {})
        table.add_row(
            "✓" if candidate["id"] in chosen else "",
            f"{candidate['text'][:120]}\n[dim]{candidate['item_type']} {candidate['id']}[/dim]",
            f"{candidate['score']:.4f}",
            *(f"{signals[s]:.3f}" if s in signals else "–" for s in SHOWN_SIGNALS),
        )
    console.print(table)
    console.print("config:", json.dumps(record.config, sort_keys=True), highlight=False)
    console.rule("block")
    console.print(payload.get("text") or "(empty)", highlight=False, markup=False)
