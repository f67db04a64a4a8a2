"""Experiments: define variants of the context configuration, assign users, analyse outcomes.

See docs/experiments.md. Users are assigned by hashing (``selfmodel.experiments.assignment``);
the first time a user meets a running experiment (``assignment`` or a ``context`` call) is
recorded as their exposure, which the analysis splits their outcomes at.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from selfmodel.domain import (
    Assignment,
    Experiment,
    ExperimentStatus,
    Exposure,
    User,
    Variant,
    VariantConfig,
    new_id,
)
from selfmodel.domain.experiments import BUCKETS, ExperimentAnalysis, experiment_trace
from selfmodel.domain.time import to_utc, utcnow
from selfmodel.engine.base import EngineBase, check_user_id, parse_enum
from selfmodel.errors import ConflictError, ExperimentNotFoundError, InvalidInputError
from selfmodel.experiments.analysis import (
    DEFAULT_ALPHA,
    DEFAULT_HORIZON_USERS,
    DEFAULT_MDE_RELATIVE,
    DEFAULT_POWER,
    DEFAULT_PRE_PERIOD_DAYS,
    Settings,
    analyze,
    parse_metric,
)
from selfmodel.experiments.assignment import assign, free_range, traffic_buckets
from selfmodel.experiments.definition import (
    check_description,
    check_name,
    check_traffic,
    check_variants,
    clashes,
)

EXPERIMENT_ID_PREFIX = "exp"
SALT_BYTES = 16


class Experiments(EngineBase):
    """Experiments of this workspace: their definitions, users' assignments, their analysis."""

    def create_experiment(
        self,
        name: str,
        variants: Sequence[Variant | Mapping[str, Any]],
        *,
        control: str | None = None,
        layer: str | None = None,
        traffic: float = 1.0,
        description: str | None = None,
    ) -> Experiment:
        """Define an experiment and start it: from now on, the users it assigns get their
        variant's configuration in every ``context`` call.

        ``variants`` (2–10): each a name, a ``weight`` (its share of the experiment's users,
        relative to the others) and a ``config`` (``VariantConfig``: ranking overrides by
        name, ``budget_tokens``, ``moments``, or ``personalized=False`` for an empty
        self-model). ``control`` (default: the first variant) is what the others are compared
        with. ``traffic`` is the share of users in the experiment; with a ``layer``, that share
        is taken from the layer's users not yet in another running experiment of the layer, so
        a user is never in two experiments of one layer.

        Raises ``InvalidInputError`` for a malformed definition, ``ConflictError`` when the
        name is taken, the layer has no room left, or a running experiment of another layer
        varies the same parameters (a user in both would get a mix nobody asked for).
        """
        check_name(name, "name")
        if layer is not None:
            check_name(layer, "layer")
        share = check_traffic(traffic)
        about = check_description(description)
        parsed, control_name = check_variants(variants, control)
        store, ws = self._c.store, self.workspace.id
        width = traffic_buckets(share)
        with store.transaction():
            store.lock_experiments(ws)
            running = store.list_experiments(ws, status=ExperimentStatus.RUNNING)
            if layer is None:
                start, end = 0, width
            else:
                held = [(e.bucket_start, e.bucket_end) for e in running if e.layer == layer]
                room = free_range(held, width)
                if room is None:
                    taken = sum(high - low for low, high in held) / BUCKETS
                    raise ConflictError(
                        f"layer {layer!r} has no room for traffic {share:g}: running"
                        f" experiments hold {taken:g} of it",
                        layer=layer,
                    )
                start, end = room
            experiment = Experiment(
                id=new_id(EXPERIMENT_ID_PREFIX),
                workspace_id=ws,
                name=name,
                description=about,
                variants=parsed,
                control=control_name,
                layer=layer,
                traffic=share,
                bucket_start=start,
                bucket_end=end,
                salt=secrets.token_hex(SALT_BYTES),
                status=ExperimentStatus.RUNNING,
                created_at=utcnow(),
            )
            clash = clashes(experiment, running)
            if clash:
                other, shared = clash[0]
                raise ConflictError(
                    f"running experiment {other!r} varies {', '.join(sorted(shared))} too and"
                    " can hold the same users: put both in one layer, or stop it first",
                    experiment=other,
                    parameters=sorted(shared),
                )
            store.insert_experiment(experiment)
        return experiment

    def experiments(self, *, status: ExperimentStatus | str | None = None) -> list[Experiment]:
        """The workspace's experiments, oldest first (optionally only running or stopped)."""
        wanted = None if status is None else parse_enum(ExperimentStatus, status, "status")
        return self._c.store.list_experiments(self.workspace.id, status=wanted)

    def experiment(self, experiment: str) -> Experiment:
        """An experiment by its name or id."""
        if not isinstance(experiment, str) or not experiment:
            raise InvalidInputError("experiment must be a name or an id", field="experiment")
        found = self._c.store.get_experiment(self.workspace.id, experiment)
        if found is None:
            raise ExperimentNotFoundError(
                f"no experiment {experiment!r} in workspace {self.workspace.name!r}"
            )
        return found

    def stop_experiment(self, experiment: str) -> Experiment:
        """Stop an experiment: it assigns nobody from now on, its analysis ends here."""
        found = self.experiment(experiment)
        if found.status is ExperimentStatus.RUNNING:
            self._c.store.stop_experiment(self.workspace.id, found.id, utcnow())
        return self.experiment(found.id)

    def assignment(self, user: str, experiment: str) -> Assignment:
        """Which variant of ``experiment`` ``user`` is in, so the product can branch on it.

        The same user always gets the same answer (hashing, docs/experiments.md). While the
        experiment runs, the first answer for an assigned user records their exposure.
        Raises ``UserNotFoundError`` (only ``observe`` creates users) and
        ``ExperimentNotFoundError``.
        """
        check_user_id(user)
        found = self.experiment(experiment)
        u = self.user(user)
        if found.status is not ExperimentStatus.RUNNING:
            return Assignment(
                experiment=found.name,
                experiment_id=found.id,
                user=user,
                variant=None,
                reason="stopped",
            )
        variant = assign(found, u.external_id)
        if variant is None:
            return Assignment(
                experiment=found.name,
                experiment_id=found.id,
                user=user,
                variant=None,
                reason="outside_traffic",
            )
        exposure = _expose(self, found, u, variant.name)
        return Assignment(
            experiment=found.name,
            experiment_id=found.id,
            user=user,
            variant=variant.name,
            reason="assigned",
            config=variant.config,
            exposed_at=exposure.exposed_at,
        )

    def analyze_experiment(
        self,
        experiment: str,
        metric: str,
        *,
        until: datetime | None = None,
        alpha: float = DEFAULT_ALPHA,
        power: float = DEFAULT_POWER,
        mde: float = DEFAULT_MDE_RELATIVE,
        horizon: int = DEFAULT_HORIZON_USERS,
        pre_period_days: float = DEFAULT_PRE_PERIOD_DAYS,
    ) -> ExperimentAnalysis:
        """Every variant of ``experiment`` against its control on ``metric`` (an outcome kind
        such as ``rating`` or ``thumbs_up``, or ``metric:NAME``), with the data up to
        ``until`` (default: now, or when the experiment stopped).

        Per comparison: the difference in means with its interval, the same with CUPED (the
        covariate: each user's outcomes in the ``pre_period_days`` before their exposure), the
        always-valid sequential test over daily looks (sharpest at ``horizon`` users), and the
        users a fixed-horizon test needs for a relative effect ``mde`` at ``power``; and for
        the experiment, the sample ratio check. docs/experiments.md has the formulas.
        """
        found = self.experiment(experiment)
        measured = parse_metric(metric)
        chosen = Settings(
            alpha=_number(alpha, "alpha"),
            power=_number(power, "power"),
            mde_relative=_number(mde, "mde"),
            horizon_users=_whole(horizon, "horizon"),
            pre_period_days=_number(pre_period_days, "pre_period_days"),
        )
        end = analysis_window(found, until)
        if end <= found.created_at:
            raise InvalidInputError("until is before the experiment started", field="until")
        store, ws = self._c.store, self.workspace.id
        exposures = store.list_exposures(ws, experiment_id=found.id)
        outcomes = store.exposed_outcomes(ws, found.id, measured.kind, measured.name)
        return analyze(found, exposures, outcomes, measured, end, chosen)

    def exposures(self, experiment: str) -> list[Exposure]:
        """Every user's first exposure to ``experiment``, in the order they happened."""
        found = self.experiment(experiment)
        return self._c.store.list_exposures(self.workspace.id, experiment_id=found.id)


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError(f"{field} must be a finite number", field=field)
    return float(value)


def _whole(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{field} must be a whole number", field=field)
    return value


def _expose(engine: EngineBase, experiment: Experiment, user: User, variant: str) -> Exposure:
    # Append-only, like a trace: recording it must not queue behind the user's revisions.
    return engine.store.record_exposure(
        Exposure(
            workspace_id=engine.workspace.id,
            experiment_id=experiment.id,
            user_id=user.id,
            variant=variant,
            exposed_at=utcnow(),
        )
    )


def enter_experiments(
    engine: EngineBase, user: User
) -> tuple[list[VariantConfig], list[dict[str, Any]]]:
    """The running experiments ``user`` is in, as the configurations of their variants and
    what a trace records of them; each counts as an exposure."""
    configs: list[VariantConfig] = []
    traced: list[dict[str, Any]] = []
    for experiment in engine.store.list_experiments(
        engine.workspace.id, status=ExperimentStatus.RUNNING
    ):
        variant = assign(experiment, user.external_id)
        if variant is None:
            continue
        _expose(engine, experiment, user, variant.name)
        configs.append(variant.config)
        traced.append(experiment_trace(experiment, variant.name))
    return configs, traced


def analysis_window(experiment: Experiment, until: datetime | None) -> datetime:
    """Where the experiment's data ends: ``until``, its stop, or now — whichever is first."""
    end = to_utc(until) if until is not None else utcnow()
    if experiment.stopped_at is not None and experiment.stopped_at < end:
        return experiment.stopped_at
    return end


__all__ = ["EXPERIMENT_ID_PREFIX", "Experiments", "analysis_window", "enter_experiments"]
