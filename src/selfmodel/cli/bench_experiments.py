"""``selfmodel bench experiments``: false positives under daily peeks, power, CUPED (simulated)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from selfmodel.bench.experiments import DEFAULT_ALPHA as BENCH_ALPHA
from selfmodel.bench.experiments import (
    DEFAULT_DAYS,
    DEFAULT_EFFECT,
    DEFAULT_END_TO_END_USERS,
    DEFAULT_RHO,
    DEFAULT_SEEDS,
    DEFAULT_USERS,
    Plan,
)
from selfmodel.bench.report import write_json
from selfmodel.cli.bench import JsonOption
from selfmodel.cli.output import console, progress_bar
from selfmodel.errors import InvalidInputError


def _rate(found: dict[str, Any]) -> tuple[str, str]:
    low, high = found["ci95"]
    return f"{found['rate']:.3f}", f"[{low:.3f}, {high:.3f}]"


def experiments_command(
    json_out: JsonOption = None,
    seeds: Annotated[int, typer.Option(help="Simulated experiments (each seen daily).")] = (
        DEFAULT_SEEDS
    ),
    users: Annotated[int, typer.Option(help="Users per experiment.")] = DEFAULT_USERS,
    days: Annotated[int, typer.Option(help="Days users arrive over (one look a day).")] = (
        DEFAULT_DAYS
    ),
    rho: Annotated[
        float, typer.Option(help="Correlation of the pre-period covariate with the outcome.")
    ] = DEFAULT_RHO,
    effect: Annotated[
        float, typer.Option(help="Planted effect, in standard deviations of the outcome.")
    ] = DEFAULT_EFFECT,
    alpha: Annotated[float, typer.Option(help="Significance level.")] = BENCH_ALPHA,
    end_to_end_users: Annotated[
        int, typer.Option(help="Users of the run through a real store (0: skip it).")
    ] = DEFAULT_END_TO_END_USERS,
) -> None:
    """A/A false positives under daily peeking, power at a planted effect, CUPED narrowing —
    simulated over many seeds, then one experiment end to end through a real store."""
    from selfmodel.bench.experiments import run_end_to_end, run_simulation
    from selfmodel.cli.app import friendly_errors
    from selfmodel.cli.bench import bench_embedder

    plan = Plan(seeds=seeds, users=users, days=days, rho=rho, effect=effect, alpha=alpha)

    @friendly_errors
    def run() -> dict[str, Any]:
        try:
            plan.check()
        except ValueError as exc:
            raise InvalidInputError(str(exc)) from None
        if end_to_end_users < 0 or 0 < end_to_end_users < 8:
            raise InvalidInputError("--end-to-end-users must be 0 (skip) or at least 8")
        with progress_bar() as progress:
            task = progress.add_task("simulated experiments", total=seeds)
            report = run_simulation(plan, on_progress=lambda n: progress.advance(task, n))
            if end_to_end_users:
                store_task = progress.add_task("end to end", total=end_to_end_users)
                report["end_to_end"] = run_end_to_end(
                    bench_embedder(),
                    users=end_to_end_users,
                    rho=rho,
                    on_progress=lambda n: progress.advance(store_task, n),
                )
        return report

    report = run()
    print_report(report)
    if json_out:
        write_json(json_out, report)
        console.print(f"wrote {json_out}")


def print_report(report: dict[str, Any]) -> None:
    plan = report["plan"]
    alpha = plan["alpha"]
    looks = f"{plan['seeds']} seeds × {plan['users']} users, a look a day for {plan['days']} days"
    aa = Table(title=f"A/A (no effect): false positives, {looks}")
    for column in ("test", "rate", "95% CI", f"keeps α = {alpha:g}"):
        aa.add_column(column)
    labels = {
        "sequential_cuped": "always-valid mSPRT (CUPED), every look",
        "sequential_raw": "always-valid mSPRT (raw), every look",
        "naive_t_daily": "Welch t-test read at every look",
        "naive_t_final": "Welch t-test read once, at the end",
    }
    for key, label in labels.items():
        found = report["a_a"][key]
        # Kept unless the interval over the seeds lies wholly above α (a fixed-horizon test's
        # rate scatters around α; an inflated one sits above it).
        ok = "yes" if found["ci95"][0] <= alpha else "[red]no[/red]"
        aa.add_row(label, *_rate(found), ok)
    console.print(aa)

    expected = report["expected_power"]
    ab = Table(
        title=f"A/B: power at a planted effect of {plan['effect']:g} sd (ρ = {plan['rho']:g})"
    )
    for column in ("test", "power", "95% CI", "theory"):
        ab.add_column(column)
    rows = (
        ("always-valid mSPRT (CUPED), daily looks", "sequential_cuped", "sequential_cuped"),
        ("always-valid mSPRT (raw), daily looks", "sequential_raw", "sequential_raw"),
        ("fixed horizon (CUPED), one look at the end", "fixed_cuped", "fixed_cuped"),
    )
    for label, key, theory in rows:
        ab.add_row(label, *_rate(report["a_b"][key]), f"{expected[theory]:.3f}")
    console.print(ab)

    c = report["cuped"]
    cu = Table(title="CUPED: interval width with the pre-period covariate, over without")
    for column in ("measure", "simulated", "95% CI", "theory"):
        cu.add_column(column)
    low, high = c["width_ratio_ci95"]
    cu.add_row(
        "width ratio", f"{c['width_ratio']:.4f}", f"[{low:.4f}, {high:.4f}]",
        f"{c['theory_width_ratio']:.4f} = sqrt(1 − ρ²)",
    )  # fmt: skip
    cu.add_row(
        "variance reduction", f"{c['variance_reduction']:.4f}", "",
        f"{c['theory_variance_reduction']:.4f} = ρ²",
    )  # fmt: skip
    console.print(cu)
    srm = report["assignment"]["srm_false_alarms"]
    console.print(
        f"assignment by hashing: treated share {report['assignment']['treated_share']:.4f};"
        f" sample ratio alarms (p < 0.001) {srm['rate']:.3f}"
    )
    if "end_to_end" in report:
        print_end_to_end(report["end_to_end"])


def print_end_to_end(run: dict[str, Any]) -> None:
    analysis = run["analysis"]
    comparison = analysis["comparisons"][0]
    effect, cuped, sequential = comparison["effect"], comparison["cuped"], comparison["sequential"]
    table = Table(
        title=f"End to end through a store: {run['users']} users, personalization off vs on,"
        f" planted {run['planted_effect']:g} on {analysis['metric']}"
    )
    for column in ("measure", "value"):
        table.add_column(column)
    traces = ", ".join(f"{k} {v}" for k, v in sorted(run["traces_per_variant"].items()))
    table.add_row("context traces per variant", traces)
    table.add_row(
        "effect (raw)",
        f"{effect['estimate']:+.3f} [{effect['ci_low']:+.3f}, {effect['ci_high']:+.3f}]",
    )
    if cuped:
        e = cuped["effect"]
        table.add_row(
            "effect (CUPED)", f"{e['estimate']:+.3f} [{e['ci_low']:+.3f}, {e['ci_high']:+.3f}]"
        )
        table.add_row("variance reduction", f"{cuped['variance_reduction']:.3f}")
    if sequential:
        table.add_row(
            "always-valid p, confidence sequence",
            f"{sequential['p_value']:.3g}, "
            f"[{sequential['ci_low']:+.3f}, {sequential['ci_high']:+.3f}]",
        )
    table.add_row("sample ratio p", f"{analysis['sample_ratio']['p_value']:.3f}")
    table.add_row("planted effect inside the CUPED interval", "yes" if run["covered"] else "no")
    console.print(table)
