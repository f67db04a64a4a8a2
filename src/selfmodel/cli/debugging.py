"""``selfmodel replay | why-not | as-of | lineage``: debugging a context call from the shell.

Thin: options become the engine's arguments (``--set ranking.keyword_weight=0`` becomes
``{"ranking": {"keyword_weight": 0}}``), the answers become tables.
"""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from selfmodel.cli.app import DbOption, WorkspaceOption, friendly_errors, opened
from selfmodel.cli.output import console
from selfmodel.domain.debugging import Lineage, ModelAsOf, ReplayResult, WhyNot
from selfmodel.errors import InvalidFileError, InvalidInputError

# The signals shown per item in a replay's diff; --json has every one.
SHOWN_SIGNALS = ("dense", "keyword", "rrf", "session_bonus", "confidence")
MAX_SIGNAL_COLUMNS = 5
# The dense-only replay: both keyword weights at 0 (what `--dense-only` sets).
DENSE_ONLY = {"ranking": {"keyword_weight": 0.0, "request_keyword_weight": 0.0}}

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]


def parse_overrides(sets: list[str]) -> dict[str, Any]:
    """``["ranking.keyword_weight=0", "limit=5"]`` as a nested config (values read as JSON,
    else kept as text)."""
    config: dict[str, Any] = {}
    for item in sets:
        path, sep, raw = item.partition("=")
        if not sep or not path.strip():
            raise InvalidInputError(f"--set {item!r}: expected KEY=VALUE, e.g. limit=5")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = config
        *parents, leaf = path.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InvalidInputError(f"--set {item!r}: {part} is not a group of settings")
        node[leaf] = value
    return config


def read_config_file(path: Path) -> dict[str, Any]:
    """A replay config from a JSON or TOML file (the shape of a trace's config)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidFileError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "TOML" if path.suffix == ".toml" else "JSON"
        raise InvalidFileError(f"{path} is not valid {kind}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidFileError(f"{path} must hold an object of settings")
    return data


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@friendly_errors
def replay_command(
    trace_id: Annotated[str, typer.Argument(help="A trace id (printed by `selfmodel context`).")],
    config_file: Annotated[
        Path | None,
        typer.Option("--config", help="JSON or TOML file of settings to change (a trace's shape)."),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Change one setting, e.g. ranking.keyword_weight=0 or limit=5; repeat."
        ),
    ] = None,
    dense_only: Annotated[
        bool, typer.Option("--dense-only", help="Weigh the keyword signal 0 (meaning alone).")
    ] = False,
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Run a `context` call again against the self-model as it was, and diff the blocks."""
    config: dict[str, Any] = DENSE_ONLY if dense_only else {}
    if config_file is not None:
        config = _merge(config, read_config_file(config_file))
    config = _merge(config, parse_overrides(sets or []))
    with opened(db, workspace) as sm:
        result = sm.replay(trace_id, config or None)
    if as_json:
        console.print_json(result.model_dump_json())
        return
    print_replay(result)


def print_replay(result: ReplayResult) -> None:
    verdict = (
        "[green]reproduced exactly[/green]"
        if result.reproduced
        else f"[yellow]differs in {', '.join(result.differences)}[/yellow]"
    )
    console.rule(f"replay of {result.trace_id}")
    console.print(f"{verdict} · overrides {json.dumps(result.overrides) or '{}'}")
    console.print(
        f"tokens {result.tokens_before} → {result.tokens_after}"
        f" ({result.tokens_after - result.tokens_before:+d}) · gained {len(result.gained)}"
        f" · lost {len(result.lost)}",
        highlight=False,
    )
    changed = [
        i
        for i in result.items
        if i.change != "kept"
        or i.signals
        or (i.rank_before, i.score_before, i.tokens_before)
        != (i.rank_after, i.score_after, i.tokens_after)
    ]
    unchanged = len(result.items) - len(changed)
    if not changed:
        console.print(f"all {unchanged} items of the block are as they were")
        return
    # Only the signals that moved somewhere get a column (the usual ones first).
    moved = {n for i in changed for n in i.signals}
    signals = [s for s in SHOWN_SIGNALS if s in moved]
    signals += sorted(moved - set(signals) - {"mmr"})
    signals = signals[:MAX_SIGNAL_COLUMNS]
    table = Table(
        title=f"Items that changed (new block order, then what was lost; {unchanged} unchanged)"
    )
    table.add_column("", width=1)
    table.add_column("item", ratio=1, min_width=36)
    for column in ("rank", "score", "tokens", *signals):
        table.add_column(column, justify="right")
    mark = {"gained": "[green]+[/green]", "lost": "[red]−[/red]", "kept": ""}
    for item in changed:
        table.add_row(
            mark[item.change],
            f"{item.text[:80]}\n[dim]{item.item_type} {item.id}[/dim]",
            _pair(item.rank_before, item.rank_after, "{}"),
            _pair(item.score_before, item.score_after, "{:.4f}"),
            _pair(item.tokens_before, item.tokens_after, "{}"),
            *(
                _pair(item.signals[s].before, item.signals[s].after, "{:.3f}")
                if s in item.signals
                else "="
                for s in signals
            ),
        )
    console.print(table)


def _pair(before: Any, after: Any, fmt: str) -> str:
    def one(value: Any) -> str:
        return "–" if value is None else fmt.format(value)

    return one(before) if before == after else f"{one(before)} → {one(after)}"


@friendly_errors
def why_not_command(
    trace_id: Annotated[str, typer.Argument(help="A trace id.")],
    item_id: Annotated[str, typer.Argument(help="A belief or observation id.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Why a belief or observation was (not) in a `context` call's block."""
    with opened(db, workspace) as sm:
        answer = sm.why_not(trace_id, item_id)
    if as_json:
        console.print_json(answer.model_dump_json())
        return
    print_why_not(answer)


def print_why_not(answer: WhyNot) -> None:
    console.print(
        f"[bold]{answer.verdict.value}[/bold]: {answer.explanation}", highlight=False, markup=True
    )
    shown = {k: v for k, v in answer.details.items() if not k.startswith("signals")}
    for key, value in shown.items():
        console.print(f"  {key}: {value}", highlight=False, markup=False)


@friendly_errors
def as_of_command(
    user: Annotated[str, typer.Argument(help="The product's id of the user.")],
    at: Annotated[
        datetime | None, typer.Option("--at", help="Record time: what had been written by then.")
    ] = None,
    trace_id: Annotated[
        str | None, typer.Option("--trace", help="Instead of --at: what this trace read.")
    ] = None,
    valid_at: Annotated[
        datetime | None,
        typer.Option("--valid-at", help="Valid time to read confidence at (default: --at)."),
    ] = None,
    every_status: Annotated[
        bool, typer.Option("--all", help="Every status, not only active beliefs.")
    ] = False,
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The user's beliefs as they were at a moment or as a trace read them."""
    with opened(db, workspace) as sm:
        model = sm.beliefs_as_of(
            user,
            at=at,
            trace_id=trace_id,
            valid_at=valid_at,
            status=None if every_status else "active",
        )
    if as_json:
        console.print_json(model.model_dump_json())
        return
    print_model(model)


def print_model(model: ModelAsOf) -> None:
    when = f"revision {model.revision}" if model.revision is not None else "record time"
    table = Table(
        title=f"{len(model.beliefs)} beliefs as of {model.recorded_at:%Y-%m-%d %H:%M:%S} "
        f"({when}), read at {model.valid_at:%Y-%m-%d %H:%M}"
        if model.recorded_at
        else f"{len(model.beliefs)} beliefs"
    )
    for column in ("statement", "kind", "status", "confidence", "evidence"):
        table.add_column(column, justify="right" if column == "confidence" else "left")
    for entry in model.beliefs:
        b = entry.belief
        table.add_row(
            f"{b.statement}\n[dim]{b.id}[/dim]",
            b.kind.value,
            b.status.value,
            f"{b.confidence:.2f}",
            f"{len(entry.supported_by)} for, {len(entry.contradicted_by)} against",
        )
    console.print(table)


@friendly_errors
def lineage_command(
    trace_id: Annotated[str, typer.Argument(help="A trace id.")],
    item_id: Annotated[str, typer.Argument(help="An item of its block.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Where an item of a `context` block came from: belief, history, evidence, extractor."""
    with opened(db, workspace) as sm:
        lineage = sm.lineage(trace_id, item_id)
    if as_json:
        console.print_json(lineage.model_dump_json())
        return
    print_lineage(lineage)


def print_lineage(lineage: Lineage) -> None:
    if lineage.observation is not None:
        o = lineage.observation
        console.print(f"a raw moment: [{o.occurred_at:%Y-%m-%d}] {o.content}", highlight=False)
        return
    then, now = lineage.belief_then, lineage.belief_now
    if then is not None:
        console.print(f"then: {then.statement} ({then.status.value})", highlight=False)
    if now is not None:
        console.print(f"now:  {now.statement} ({now.status.value})", highlight=False)
    for event in lineage.history:
        console.print(
            f"  {event.at:%Y-%m-%d %H:%M} {event.type.value} ({event.cause})"
            + (f" ← {event.observation_id}" if event.observation_id else ""),
            highlight=False,
        )
    for detail in lineage.evidence:
        console.print(f"  {detail.evidence.stance.value}: “{detail.said}”", highlight=False)
    for extraction in lineage.extractions:
        prompt = f", prompt {extraction.prompt_version}" if extraction.prompt_version else ""
        console.print(
            f"  read by {extraction.name} {extraction.version}{prompt} ({extraction.event})",
            highlight=False,
        )
