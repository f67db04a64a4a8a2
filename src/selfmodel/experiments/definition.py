"""What makes an experiment well defined, and what a variant does to a ``context`` call."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from pydantic import ValidationError

from selfmodel.config import MAX_BUDGET_TOKENS
from selfmodel.domain.experiments import (
    MAX_DESCRIPTION_CHARS,
    MAX_VARIANTS,
    MIN_VARIANTS,
    NAME_PATTERN,
    Experiment,
    Variant,
    VariantConfig,
)
from selfmodel.domain.text import check_text
from selfmodel.errors import InvalidInputError, validation_message
from selfmodel.retrieval import RankingConfig

_RANKING_DEFAULTS = RankingConfig()
RANKING_FIELDS: dict[str, Any] = {
    f.name: getattr(_RANKING_DEFAULTS, f.name) for f in fields(RankingConfig)
}
# Ranking fields that count something (a rank offset, a pool size): zero would break ranking.
_AT_LEAST_ONE = frozenset({"rrf_k", "candidate_pool"})


def check_name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise InvalidInputError(
            f"{field} {value!r} must be 1–64 characters of a-z, 0-9, '_', '.', ':' or '-',"
            " starting with a letter",
            field=field,
        )
    return value


def check_description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("description must be a non-empty string", field="description")
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise InvalidInputError(
            f"description is longer than {MAX_DESCRIPTION_CHARS} characters", field="description"
        )
    check_text(value, "description")
    return value


def check_traffic(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError("traffic must be a number in (0, 1]", field="traffic")
    if not (math.isfinite(value) and 0 < value <= 1):
        raise InvalidInputError("traffic must be a share of users in (0, 1]", field="traffic")
    return float(value)


def check_variants(
    variants: Sequence[Variant | Mapping[str, Any]], control: str | None
) -> tuple[tuple[Variant, ...], str]:
    """The variants as records, each checked, and the control's name (default: the first)."""
    if isinstance(variants, (str, bytes, Mapping)) or not isinstance(variants, Sequence):
        raise InvalidInputError("variants must be a list", field="variants")
    if not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        raise InvalidInputError(
            f"an experiment has {MIN_VARIANTS}–{MAX_VARIANTS} variants", field="variants"
        )
    parsed: list[Variant] = []
    for position, given in enumerate(variants):
        try:
            variant = given if isinstance(given, Variant) else Variant.model_validate(given)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidInputError(
                f"variants[{position}].{where}: {validation_message(first)}", field="variants"
            ) from None
        check_name(variant.name, "variant name")
        if isinstance(variant.weight, bool) or not (
            math.isfinite(variant.weight) and variant.weight > 0
        ):
            raise InvalidInputError(
                f"variant {variant.name!r}: weight must be a finite number > 0", field="variants"
            )
        _check_config(variant.name, variant.config)
        parsed.append(variant)
    names = [v.name for v in parsed]
    if len(set(names)) != len(names):
        raise InvalidInputError("variant names must differ", field="variants")
    chosen = names[0] if control is None else control
    if chosen not in names:
        raise InvalidInputError(
            f"control {chosen!r} is none of the variants ({', '.join(names)})", field="control"
        )
    return tuple(parsed), chosen


def _check_config(variant: str, config: VariantConfig) -> None:
    for name, value in config.ranking.items():
        if name not in RANKING_FIELDS:
            raise InvalidInputError(
                f"variant {variant!r}: ranking has no {name!r}; one of "
                + ", ".join(sorted(RANKING_FIELDS)),
                field="variants",
            )
        default = RANKING_FIELDS[name]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise InvalidInputError(
                    f"variant {variant!r}: ranking.{name} is true or false", field="variants"
                )
            continue
        if isinstance(value, bool) or (isinstance(default, int) and not isinstance(value, int)):
            raise InvalidInputError(
                f"variant {variant!r}: ranking.{name} must be a {type(default).__name__}",
                field="variants",
            )
        if not (math.isfinite(value) and value >= 0):
            raise InvalidInputError(
                f"variant {variant!r}: ranking.{name} must be a finite number >= 0",
                field="variants",
            )
        if name in _AT_LEAST_ONE and value < 1:
            raise InvalidInputError(
                f"variant {variant!r}: ranking.{name} must be >= 1", field="variants"
            )
    if config.budget_tokens is not None and not 1 <= config.budget_tokens <= MAX_BUDGET_TOKENS:
        raise InvalidInputError(
            f"variant {variant!r}: budget_tokens must be between 1 and {MAX_BUDGET_TOKENS}",
            field="variants",
        )


@dataclass(frozen=True)
class ContextSettings:
    """What the experiments a user is in make of one ``context`` call."""

    ranking: RankingConfig
    personalized: bool = True
    budget_tokens: int | None = None
    moments: bool | None = None


def context_settings(base: RankingConfig, configs: Sequence[VariantConfig]) -> ContextSettings:
    """``base`` with each variant's settings applied (experiments of different layers vary
    different parameters, so the order does not matter)."""
    ranking, personalized = base, True
    budget: int | None = None
    moments: bool | None = None
    for config in configs:
        overrides: dict[str, Any] = dict(config.ranking)
        ranking = replace(ranking, **overrides)
        personalized = personalized and config.personalized
        budget = config.budget_tokens if config.budget_tokens is not None else budget
        moments = config.moments if config.moments is not None else moments
    return ContextSettings(ranking, personalized, budget, moments)


def clashes(new: Experiment, running: Sequence[Experiment]) -> list[tuple[str, set[str]]]:
    """Running experiments a user could be in together with ``new`` (another layer, or none)
    that vary some of the same parameters: their names and the parameters shared."""
    mine = new.parameters()
    found = []
    for other in running:
        if new.layer is not None and other.layer == new.layer:
            continue  # one layer: never the same user
        shared = mine & other.parameters()
        if shared:
            found.append((other.name, shared))
    return found


__all__ = [
    "RANKING_FIELDS",
    "ContextSettings",
    "check_description",
    "check_name",
    "check_traffic",
    "check_variants",
    "clashes",
    "context_settings",
]
