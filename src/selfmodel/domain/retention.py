"""Retention: how long a workspace keeps what it was told, and the audit log of every deletion.

A policy field left ``None`` keeps that kind of data forever (the default). Every deletion made
by a policy or by ``forget`` appends an ``AuditRecord``: when, which policy, how many rows of
which table, whether a check after the deletion found nothing left — never the deleted text, and
never the user's id itself, only a keyed hash of it (see docs/deployment.md, "Retention").
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# A policy keeps data for at least a day and at most a century: zero would delete what was just
# said before it could be understood, and a larger number is a typo (or "forever": use null).
MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 36_500


class RetentionPolicy(BaseModel):
    """A workspace's retention policy. ``None`` in a field: keep forever."""

    model_config = ConfigDict(frozen=True, defer_build=True, extra="forbid")

    observations_max_age_days: int | None = Field(
        default=None,
        description="Delete raw observations recorded more than this many days ago; beliefs "
        "and the quoted words of their evidence stay.",
    )
    inactive_user_days: int | None = Field(
        default=None,
        description="Forget (everything, as `forget` does) users with no activity for this many "
        "days: no observation recorded, belief changed or context asked for.",
    )
    traces_max_age_days: int | None = Field(
        default=None,
        description="Delete traces of context calls older than this many days.",
    )

    @model_validator(mode="before")
    @classmethod
    def _days_in_bounds(cls, data: Any) -> Any:
        # Checked here (not with Field bounds) so every shell gets the same typed error,
        # ``InvalidPolicyError``, naming the field, whether it came from Python, JSON or the CLI.
        from selfmodel.errors import InvalidPolicyError

        if not isinstance(data, dict):
            raise InvalidPolicyError("a retention policy is a mapping of field to days")
        unknown = sorted(set(data) - set(RETENTION_FIELDS))
        if unknown:
            raise InvalidPolicyError(
                f"unknown retention policy field {unknown[0]!r}; known: "
                + ", ".join(RETENTION_FIELDS),
                field=unknown[0],
            )
        for name in RETENTION_FIELDS:
            value = data.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidPolicyError(
                    f"{name} must be a whole number of days or null (keep forever), not {value!r}",
                    field=name,
                )
            if not MIN_RETENTION_DAYS <= value <= MAX_RETENTION_DAYS:
                raise InvalidPolicyError(
                    f"{name} must be between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days "
                    f"(null keeps forever), not {value}",
                    field=name,
                )
        return data

    @property
    def keeps_everything(self) -> bool:
        return all(getattr(self, name) is None for name in RETENTION_FIELDS)


RETENTION_FIELDS = ("observations_max_age_days", "inactive_user_days", "traces_max_age_days")


class AuditAction(StrEnum):
    """What a deletion recorded in the audit log was."""

    FORGET = "forget"  # a user forgotten on request (API, CLI, Mirror, library)
    INACTIVE_USER = "inactive_user"  # a user forgotten by the ``inactive_user_days`` policy
    OBSERVATIONS = "observations"  # raw observations deleted by ``observations_max_age_days``
    TRACES = "traces"  # traces deleted by ``traces_max_age_days``


class _Deleted(BaseModel):
    """What a deletion was: the same fields in a run's report and in the audit log."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    action: AuditAction
    policy: str | None = None  # e.g. "observations_max_age_days=30"; None for a forget
    subject: str | None = None  # keyed hash of the user's id; None when no one user is meant
    counts: dict[str, int] = Field(default_factory=dict)  # rows per table

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Deletion(_Deleted):
    """One deletion of a retention run: made (``verified`` says whether the check after it
    found nothing left) or, in a dry run, planned (``verified`` is None, counts are what the
    policy selects). ``user`` is the product's id of the user: in the report handed to the
    operator who ran it, never in the audit log."""

    user: str | None = None
    verified: bool | None = None


class AuditRecord(_Deleted):
    """A deletion as the audit log keeps it; it survives the forget it records."""

    id: str
    workspace_id: str
    at: datetime
    verified: bool


class RetentionReport(BaseModel):
    """What one retention run of a workspace deleted (or, in a dry run, would delete)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    workspace: str
    as_of: datetime
    dry_run: bool
    policy: RetentionPolicy
    deletions: list[Deletion] = Field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(d.total for d in self.deletions)
