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
from selfmodel.domain.experiments import (
    DEFAULT_ALPHA,
    DEFAULT_HORIZON_USERS,
    DEFAULT_MDE_RELATIVE,
    DEFAULT_POWER,
    DEFAULT_PRE_PERIOD_DAYS,
    ExperimentAnalysis,
    SampleSizeGuide,
)
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


def _interval(low: float, high: float) -> str:
    return f"[{low:+.4g}, {high:+.4g}]"


def print_analysis(found: ExperimentAnalysis) -> None:
    arms = Table(
        title=f"{escape(found.experiment)} on {escape(found.metric)}"
        f" ({found.start:%Y-%m-%d} – {found.end:%Y-%m-%d %H:%M})"
    )
    for column in ("variant", "exposed", "expected share", "with a value", "mean", "sd"):
        arms.add_column(column)
    for arm in found.arms:
        arms.add_row(
            escape(arm.variant),
            str(arm.exposed),
            f"{arm.expected_share:.1%}",
            str(arm.users),
            "" if arm.mean is None else f"{arm.mean:.4g}",
            "" if arm.sd is None else f"{arm.sd:.4g}",
        )
    console.print(arms)
    srm = found.sample_ratio
    verdict = "[red]MISMATCH[/red]" if srm.mismatch else "ok"
    console.print(f"sample ratio: chi² {srm.chi2:.3g}, p {srm.p_value:.3g} — {verdict}")
    level = f"{1 - found.alpha:.0%}"
    table = Table(title=f"Against the control ({level} intervals)")
    for column in (
        "variant",
        "effect",
        "interval",
        "relative",
        "p",
        "CUPED effect",
        "CUPED interval",
        "variance cut",
        "always-valid p",
        "confidence sequence",
        "users for mde",
    ):
        table.add_column(column)
    for c in found.comparisons:
        e, cu, sq, n = c.effect, c.cuped, c.sequential, c.sample_size
        if e is None:
            table.add_row(escape(c.variant), "too few users", *[""] * 9)
            continue
        table.add_row(
            escape(c.variant),
            f"{e.estimate:+.4g}",
            _interval(e.ci_low, e.ci_high),
            "" if e.relative is None else f"{e.relative:+.1%}",
            f"{e.p_value:.3g}",
            "" if cu is None else f"{cu.effect.estimate:+.4g}",
            "" if cu is None else _interval(cu.effect.ci_low, cu.effect.ci_high),
            "" if cu is None else f"{cu.variance_reduction:.0%}",
            "" if sq is None else f"{sq.p_value:.3g}" + (" ✔" if sq.significant else ""),
            "" if sq is None else _interval(sq.ci_low, sq.ci_high),
            "" if n is None or n.users_needed is None else _needed(n),
        )
    console.print(table)
    for warning in found.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")


def _needed(guide: SampleSizeGuide) -> str:
    with_cuped = (
        f" ({guide.users_needed_with_cuped} with CUPED)"
        if guide.users_needed_with_cuped is not None
        else ""
    )
    return f"{guide.users_needed}{with_cuped}; now {guide.users_now}"


@experiment_app.command("analyze")
@friendly_errors
def analyze(
    name: Annotated[str, typer.Argument(help="The experiment's name or id.")],
    metric: Annotated[
        str,
        typer.Option(help="An outcome kind (rating, thumbs_up, returned …) or metric:NAME."),
    ],
    alpha: Annotated[float, typer.Option(help="Significance level.")] = DEFAULT_ALPHA,
    power: Annotated[float, typer.Option(help="Power for the sample size.")] = DEFAULT_POWER,
    mde: Annotated[
        float, typer.Option(help="Smallest relative effect worth detecting.")
    ] = DEFAULT_MDE_RELATIVE,
    horizon: Annotated[
        int, typer.Option(help="Users at which the sequential test is sharpest.")
    ] = DEFAULT_HORIZON_USERS,
    pre_period_days: Annotated[
        float, typer.Option(help="Days before exposure that make the CUPED covariate.")
    ] = DEFAULT_PRE_PERIOD_DAYS,
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every variant against the control on one metric: effect, CUPED, always-valid p."""
    with opened(db, workspace) as sm:
        found = sm.analyze_experiment(
            name,
            metric,
            alpha=alpha,
            power=power,
            mde=mde,
            horizon=horizon,
            pre_period_days=pre_period_days,
        )
    if as_json:
        console.print_json(found.model_dump_json())
        return
    print_analysis(found)
