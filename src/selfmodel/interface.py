"""``SelfModelAPI``: the methods the library (``SelfModel``) and the SDK (``Client``) share.

Code written against this Protocol runs in-process or over HTTP unchanged. mypy checks both
classes against it (the block at the end), so a method added, renamed or retyped on one side
and not the other fails the type check instead of drifting. ``LIBRARY_ONLY`` names what the
library has that a remote client cannot offer, and why; a test keeps every public method of
``SelfModel`` either here or there.

Arguments documented on the library (``selfmodel.engine``); the SDK accepts a moment as a
``datetime`` or an ISO 8601 string where the library takes a ``datetime``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from selfmodel.domain import (
    Alert,
    AlertStatus,
    Assignment,
    Belief,
    BeliefDetail,
    BeliefEvent,
    BeliefKind,
    BeliefStatus,
    ContextResult,
    DeletedCounts,
    EvalItemScore,
    EvalRun,
    Experiment,
    ExperimentStatus,
    MessagesInput,
    MirrorLink,
    ObserveResult,
    Outcome,
    OutcomeKind,
    ResonanceCard,
    TraceRecord,
    User,
    Variant,
)
from selfmodel.domain.audit import AuditReport
from selfmodel.domain.debugging import Lineage, ModelAsOf, ReplayResult, WhyNot
from selfmodel.domain.experiments import ExperimentAnalysis
from selfmodel.domain.personalization import PersonalizationReport
from selfmodel.domain.profile import Conflict, Profile
from selfmodel.domain.report import JoinedReport
from selfmodel.domain.retention import AuditRecord, RetentionPolicy, RetentionReport
from selfmodel.privacy import PiiPolicy


class SelfModelAPI(Protocol):
    """A self-model of every user of one workspace, in-process or behind the HTTP API."""

    # -- evidence in -------------------------------------------------------------------------
    def observe(
        self,
        user: str,
        messages: MessagesInput,
        *,
        area: str | None = ...,
        at: datetime | str | None = ...,
        source: str | None = ...,
        wait: bool = ...,
        context: str | None = ...,  # deprecated name of area
    ) -> ObserveResult: ...

    def wait_for(self, observation_ids: Sequence[str], *, timeout: float = ...) -> None: ...

    # -- reading -----------------------------------------------------------------------------
    def users(self) -> list[User]: ...

    def user(self, external_id: str) -> User: ...

    def beliefs(
        self,
        user: str,
        *,
        kind: BeliefKind | str | None = ...,
        status: BeliefStatus | str | Sequence[BeliefStatus | str] | None = ...,
        area: str | None = ...,
        min_confidence: float | None = ...,
        limit: int | None = ...,
        now: datetime | None = ...,
        context: str | None = ...,  # deprecated name of area
    ) -> list[Belief]: ...

    def profile(self, user: str, *, now: datetime | None = ...) -> Profile: ...

    def conflicts(self, user: str, *, now: datetime | None = ...) -> list[Conflict]: ...

    def belief(self, belief_id: str) -> BeliefDetail: ...

    def history(self, belief_id: str) -> list[BeliefEvent]: ...

    def timeline(self, user: str) -> list[BeliefEvent]: ...

    def context(
        self,
        user: str | Sequence[str],
        query: str,
        *,
        budget_tokens: int | None = ...,
        area: str | None = ...,
        limit: int | None = ...,
        now: datetime | None = ...,
        moments: bool = ...,
        context: str | None = ...,  # deprecated name of area
    ) -> ContextResult: ...

    def trace(self, trace_id: str) -> TraceRecord: ...

    def traces(
        self, user: str, *, limit: int = ..., before: str | None = ...
    ) -> list[TraceRecord]: ...

    # -- debugging a context call (docs/debugging.md) ----------------------------------------
    def beliefs_as_of(
        self,
        user: str,
        *,
        at: datetime | None = ...,
        trace_id: str | None = ...,
        valid_at: datetime | None = ...,
        status: BeliefStatus | str | Sequence[BeliefStatus | str] | None = ...,
    ) -> ModelAsOf: ...

    def replay(self, trace_id: str, config: Mapping[str, Any] | None = ...) -> ReplayResult: ...

    def why_not(self, trace_id: str, item_id: str) -> WhyNot: ...

    def lineage(self, trace_id: str, item_id: str) -> Lineage: ...

    def export(self, user: str) -> dict[str, Any]: ...

    # -- the user has the last word ----------------------------------------------------------
    def confirm(self, belief_id: str) -> Belief: ...

    def reject(self, belief_id: str) -> Belief: ...

    def mark_outdated(self, belief_id: str) -> Belief: ...

    def settle(self, true_id: str, false_id: str) -> tuple[Belief, Belief]: ...

    def edit(
        self, belief_id: str, statement: str, *, kind: BeliefKind | str | None = ...
    ) -> Belief: ...

    def add_belief(
        self,
        user: str,
        statement: str,
        *,
        kind: BeliefKind | str = ...,
        area: str | None = ...,
        context: str | None = ...,  # deprecated name of area
    ) -> Belief: ...

    def set_display_name(self, user: str, name: str | None) -> User: ...

    def decay(self, user: str, *, now: datetime | None = ...) -> list[Belief]: ...

    # -- forgetting and privacy ---------------------------------------------------------------
    def forget(self, user: str) -> DeletedCounts: ...

    def set_pii_policy(self, policy: PiiPolicy | str) -> None: ...

    # -- retention and the audit log (admin keys over HTTP) ----------------------------------
    def retention_policy(self) -> RetentionPolicy: ...

    def set_retention_policy(
        self, changes: RetentionPolicy | Mapping[str, object]
    ) -> RetentionPolicy: ...

    def run_retention(self, *, dry_run: bool = ...) -> RetentionReport: ...

    def audit_log(
        self, *, user: str | None = ..., after: str | None = ..., limit: int | None = ...
    ) -> list[AuditRecord]: ...

    # -- outcomes ----------------------------------------------------------------------------
    def record_outcome(
        self,
        user: str,
        kind: OutcomeKind | str,
        *,
        trace_id: str | None = ...,
        name: str | None = ...,
        value: float | None = ...,
        label: str | None = ...,
        used_item_ids: Sequence[str] | None = ...,
        occurred_at: datetime | date | str | None = ...,
        id: str | None = ...,
    ) -> Outcome: ...

    def outcomes(
        self, user: str, *, trace_id: str | None = ..., kind: OutcomeKind | str | None = ...
    ) -> list[Outcome]: ...

    # -- experiments -------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        variants: Sequence[Variant | Mapping[str, Any]],
        *,
        control: str | None = ...,
        layer: str | None = ...,
        traffic: float = ...,
        description: str | None = ...,
    ) -> Experiment: ...

    def experiments(self, *, status: ExperimentStatus | str | None = ...) -> list[Experiment]: ...

    def experiment(self, experiment: str) -> Experiment: ...

    def stop_experiment(self, experiment: str) -> Experiment: ...

    def assignment(self, user: str, experiment: str) -> Assignment: ...

    def analyze_experiment(
        self,
        experiment: str,
        metric: str,
        *,
        until: datetime | None = ...,
        alpha: float = ...,
        power: float = ...,
        mde: float = ...,
        horizon: int = ...,
        pre_period_days: float = ...,
    ) -> ExperimentAnalysis: ...

    def personalization(
        self,
        *,
        now: datetime | None = ...,
        days: float = ...,
        min_beliefs: int = ...,
        min_confidence: float = ...,
        min_offers: int = ...,
    ) -> PersonalizationReport: ...

    def report(self, *, now: datetime | None = ..., days: float = ...) -> JoinedReport: ...

    def audit(
        self, *, since: datetime | date | str | None = ..., now: datetime | None = ...
    ) -> AuditReport: ...

    # -- evaluation and alerts ---------------------------------------------------------------
    def eval_runs(self, *, suite: str | None = ...) -> list[EvalRun]: ...

    def eval_run(self, run_id: str) -> EvalRun: ...

    def eval_items(self, run_id: str) -> list[EvalItemScore]: ...

    def alerts(self, *, status: AlertStatus | str | None = ...) -> list[Alert]: ...

    def alert(self, alert_id: str) -> Alert: ...

    def resolve_alert(self, alert_id: str) -> Alert: ...

    def request_drift_check(self) -> None: ...

    # -- the Mirror --------------------------------------------------------------------------
    def create_mirror_link(self, user: str, *, ttl_s: int | None = ...) -> MirrorLink: ...

    def revoke_mirror_links(self, user: str, link_id: str | None = ...) -> int: ...

    def push_cards(
        self,
        user: str,
        statements: Sequence[str | Mapping[str, Any]],
        *,
        source: str | None = ...,
    ) -> list[ResonanceCard]: ...

    def cards(self, user: str, *, open_only: bool = ...) -> list[ResonanceCard]: ...

    def answer_cards(self, user: str, answers: Mapping[str, bool]) -> list[ResonanceCard]: ...

    # -- deprecated names (DEPRECATED_METHODS), kept in step until they go -------------------
    def push_prompts(
        self,
        user: str,
        statements: Sequence[str | Mapping[str, Any]],
        *,
        source: str | None = ...,
    ) -> list[ResonanceCard]: ...

    def prompts(self, user: str, *, open_only: bool = ...) -> list[ResonanceCard]: ...

    def answer_prompts(self, user: str, answers: Mapping[str, bool]) -> list[ResonanceCard]: ...

    # -- resources ---------------------------------------------------------------------------
    def close(self) -> None: ...


# Public members of ``SelfModel`` a client of the HTTP API does not have, and why.
LIBRARY_ONLY: Mapping[str, str] = {
    "open": "a client is made with the server's URL and an API key instead",
    "in_workspace": "an API key is bound to one workspace; use a key of the other workspace",
    "for_workspace": "the server binds each request to the workspace of its key this way",
    "in_existing_workspace": "as in_workspace",
    "workspace": "the key's workspace is GET /v1/workspace; the engine's record is not needed",
    "store": "the storage backend is the server's, never exposed over HTTP",
    "settings": "the server's settings are its own; limits show up as errors",
    "mirror_secret": "the Mirror's signing secret never leaves the server",
    "mirror_link": "the Mirror's own check of a link it is opened with; the product has the "
    "id and expiry from create_mirror_link",
    "user_by_id": "selfmodel's internal ids are what Mirror sessions carry; the API names users "
    "by the product's own id (user)",
    "process_jobs": "workers run queued jobs next to the database (selfmodel worker)",
    "run_job": "as process_jobs",
    "ingest": "bulk loading of files runs next to the database (selfmodel ingest); over HTTP, "
    "observe in batches",
    "drift": "the report itself is an operator's read next to the database (selfmodel eval "
    "drift); over HTTP, request_drift_check and the alerts it raises",
    "report_html": "the HTML report is an operator's file written next to the database "
    "(selfmodel eval report)",
    "check_drift": "workers run drift checks next to the database; over HTTP, "
    "request_drift_check asks them for one now",
    "set_alert_webhook": "where the server POSTs is an operator's choice: set over HTTP, any "
    "key holder could point the server's requests at internal addresses",
    "belief_uses": "what the Mirror's belief page tells the person; operators read traces",
    "check_in": "the Mirror's own question to the person (Is this still you?); a product asks "
    "its own questions with cards (push_cards / answer_cards)",
    "warm_up": "a server warms its own engine before it takes traffic (selfmodel serve does)",
    "exposures": "the exposures name users by selfmodel's internal ids; over HTTP, the "
    "analysis counts them per variant",
}


# Methods kept under their old names for one release (selfmodel.deprecation): old -> new. Each
# warns and does what the new one does, on both sides.
DEPRECATED_METHODS: Mapping[str, str] = {
    "push_prompts": "push_cards",
    "prompts": "cards",
    "answer_prompts": "answer_cards",
}
# Keywords renamed the same way, on every method that takes them: old -> new.
DEPRECATED_KEYWORDS: Mapping[str, str] = {"context": "area"}


if TYPE_CHECKING:
    # Checked by mypy, never run: both implementations are a SelfModelAPI.
    from selfmodel.client import Client
    from selfmodel.engine import SelfModel

    def _the_library_is_the_api(library: SelfModel) -> SelfModelAPI:
        return library

    def _the_sdk_is_the_api(client: Client) -> SelfModelAPI:
        return client


__all__ = ["DEPRECATED_KEYWORDS", "DEPRECATED_METHODS", "LIBRARY_ONLY", "SelfModelAPI"]
