"""``selfmodel experiment …``: define, list, stop, assign and analyse experiments."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from selfmodel.cli.app import DbOption, WorkspaceOption, friendly_errors, opened
from selfmodel.cli.output import console
from selfmodel.domain import Experiment
from selfmodel.errors import InvalidInputError

experiment_app: typer.Typer = typer.Typer(
    help="Experiments: variants of the context configuration, users assigned by hashing.",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
# Keys of a --variant spec that are the variant's own or its config's; any other is a ranking
# weight (a RankingConfig field).
_VARIANT_KEYS = {"weight"}
_CONFIG_KEYS = {"personalized", "budget_tokens", "moments"}
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def parse_variant(spec: str) -> dict[str, Any]:
    """``NAME[:key=value,...]`` as a variant: ``weight``, ``personalized``, ``budget_tokens``
    and ``moments`` are the variant's; any other key is a ranking weight."""
    name, _, settings = spec.partition(":")
    variant: dict[str, Any] = {"name": name.strip(), "config": {"ranking": {}}}
    for pair in filter(None, (p.strip() for p in settings.split(","))):
        key, sep, text = pair.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key or not text:
            raise InvalidInputError(f"--variant {spec!r}: expected NAME:key=value,…")
        value = _value(text)
        if key in _VARIANT_KEYS:
            variant[key] = value
        elif key in _CONFIG_KEYS:
            variant["config"][key] = value
        else:
            variant["config"]["ranking"][key] = value
    return variant


def _value(text: str) -> bool | int | float | str:
    lowered = text.lower()
    if lowered in _TRUE - {"1"}:
        return True
    if lowered in _FALSE - {"0"}:
        return False
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _settings(experiment: Experiment, name: str) -> str:
    variant = experiment.variant(name)
    if variant is None:
        return ""
    config = variant.config
    parts = [] if config.personalized else ["personalization off"]
    parts += [f"{k}={v}" for k, v in config.ranking.items()]
    if config.budget_tokens is not None:
        parts.append(f"budget_tokens={config.budget_tokens}")
    if config.moments is not None:
        parts.append(f"moments={str(config.moments).lower()}")
    return ", ".join(parts) or "as asked"


def print_experiment(experiment: Experiment) -> None:
    layer = f", layer {experiment.layer}" if experiment.layer else ""
    table = Table(
        title=f"{escape(experiment.name)} ({experiment.status.value}{layer},"
        f" traffic {experiment.traffic:g})"
    )
    for column in ("variant", "weight", "configuration"):
        table.add_column(column)
    for v in experiment.variants:
        label = f"{v.name} (control)" if v.name == experiment.control else v.name
        table.add_row(escape(label), f"{v.weight:g}", escape(_settings(experiment, v.name)))
    console.print(table)


@experiment_app.command("create")
@friendly_errors
def create(
    name: Annotated[str, typer.Argument(help="The experiment's name (a-z, 0-9, _ . : -).")],
    variant: Annotated[
        list[str],
        typer.Option(
            "--variant",
            help="NAME[:key=value,…] (2–10 of them): weight, personalized, budget_tokens, "
            "moments, or a ranking weight (e.g. off:personalized=false).",
        ),
    ],
    control: Annotated[
        str | None, typer.Option(help="The variant others are compared with (default: first).")
    ] = None,
    layer: Annotated[
        str | None, typer.Option(help="Experiments of one layer never share a user.")
    ] = None,
    traffic: Annotated[float, typer.Option(help="Share of the (layer's) users in it.")] = 1.0,
    description: Annotated[str | None, typer.Option(help="What it tests.")] = None,
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Define an experiment and start it."""
    variants = [parse_variant(spec) for spec in variant]
    with opened(db, workspace) as sm:
        made = sm.create_experiment(
            name,
            variants,
            control=control,
            layer=layer,
            traffic=traffic,
            description=description,
        )
    if as_json:
        console.print_json(made.model_dump_json())
        return
    print_experiment(made)


@experiment_app.command("list")
@friendly_errors
def list_command(
    db: DbOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False
) -> None:
    """The workspace's experiments, oldest first."""
    with opened(db, workspace) as sm:
        found = sm.experiments()
    if as_json:
        console.print_json(json.dumps([x.model_dump(mode="json") for x in found]))
        return
    table = Table(title=f"Experiments ({len(found)})")
    for column in ("name", "status", "layer", "traffic", "variants", "created"):
        table.add_column(column)
    for x in found:
        table.add_row(
            escape(x.name),
            x.status.value,
            escape(x.layer or ""),
            f"{x.traffic:g}",
            escape(", ".join(v.name for v in x.variants)),
            f"{x.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@experiment_app.command("show")
@friendly_errors
def show(
    name: Annotated[str, typer.Argument(help="The experiment's name or id.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """One experiment: its variants and their configurations."""
    with opened(db, workspace) as sm:
        found = sm.experiment(name)
    if as_json:
        console.print_json(found.model_dump_json())
        return
    print_experiment(found)


@experiment_app.command("stop")
@friendly_errors
def stop(
    name: Annotated[str, typer.Argument(help="The experiment's name or id.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Stop an experiment: it assigns nobody from now on; its analysis ends here."""
    with opened(db, workspace) as sm:
        stopped = sm.stop_experiment(name)
    console.print(f"{escape(stopped.name)} stopped at {stopped.stopped_at:%Y-%m-%d %H:%M} UTC")


@experiment_app.command("assign")
@friendly_errors
def assign(
    name: Annotated[str, typer.Argument(help="The experiment's name or id.")],
    user: Annotated[str, typer.Argument(help="Your id of the user.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Which variant a user is in (recorded as their exposure while the experiment runs)."""
    with opened(db, workspace) as sm:
        got = sm.assignment(user, name)
    if as_json:
        console.print_json(got.model_dump_json())
        return
    if got.variant is None:
        console.print(f"{escape(user)} is not in {escape(got.experiment)} ({got.reason})")
    else:
        console.print(f"{escape(user)} is in variant {escape(got.variant)} of {got.experiment}")
