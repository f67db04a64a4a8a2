"""Every SDK method, written once for ``Client`` and ``AsyncClient``.

A method is an *operation*: a generator that yields what it needs done — ``Send`` a request,
``Sleep`` before a retry — and is sent back the outcome (an ``httpx.Response``, or the
``httpx.TransportError`` that stopped it). It does no I/O itself, so the same body serves both
clients: ``Client`` performs the steps blocking, ``AsyncClient`` with asyncio (``_client``).

The ``operation`` decorator gives each client the right flavour and the right type: on a
``Client``, ``observe(...)`` returns an ``ObserveResult``; on an ``AsyncClient`` a coroutine of
one. mypy sees those types too, which is how it checks both clients against ``SelfModelAPI``.
"""

from __future__ import annotations

import inspect
import time
import uuid
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import update_wrapper
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

import httpx

from selfmodel.client import _calls as calls
from selfmodel.client._calls import Call
from selfmodel.client._errors import error_from_response
from selfmodel.deprecation import renamed_keyword, warn_renamed
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
    IssuedMirrorLink,
    MessagesInput,
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
from selfmodel.domain.experiments import (
    DEFAULT_ALPHA,
    DEFAULT_HORIZON_USERS,
    DEFAULT_MDE_RELATIVE,
    DEFAULT_POWER,
    DEFAULT_PRE_PERIOD_DAYS,
    ExperimentAnalysis,
)
from selfmodel.domain.personalization import (
    DEFAULT_DAYS,
    DEFAULT_MIN_BELIEFS,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_MIN_OFFERS,
    PersonalizationReport,
)
from selfmodel.domain.profile import Conflict, Profile
from selfmodel.domain.records import DEFAULT_TRACES
from selfmodel.domain.report import DEFAULT_REPORT_DAYS, JoinedReport
from selfmodel.domain.retention import AuditRecord, RetentionPolicy, RetentionReport
from selfmodel.errors import ServiceUnavailableError, WaitTimeoutError
from selfmodel.privacy import PiiPolicy

T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_MAX_RETRIES = 3
# Backoff before retry n (from 0): BACKOFF_BASE_S * 2**n, or the server's Retry-After, capped.
BACKOFF_BASE_S = 0.25
BACKOFF_MAX_S = 30.0
RETRY_STATUSES = frozenset({429, 503})
IDEMPOTENCY_HEADER = "Idempotency-Key"
# wait_for: the library's default, and how long one request waits on the server (it allows up
# to a minute); the HTTP timeout of that request gets a margin on top.
DEFAULT_WAIT_SECONDS = 30.0
WAIT_PER_REQUEST_S = 20.0
WAIT_MARGIN_S = 10.0

StatusArg = BeliefStatus | str | Sequence[BeliefStatus | str] | None
# A deprecation warning raised in an operation points this many frames up: past the operation,
# Walk, the client's run and the method, at the line that called the method.
CALLER = 5


@dataclass(frozen=True)
class Send:
    """Send ``call``'s request with ``headers``; answered with the response or transport error."""

    call: Call[Any]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` before going on (a retry's backoff)."""

    seconds: float


Operation = Generator[Send | Sleep, Any, T]


class Walk(Generic[T]):
    """Steps through an operation for a client: iterate for the steps, set ``outcome`` after
    each ``Send``, and read ``result`` at the end (an error the operation raises propagates)."""

    def __init__(self, operation: Operation[T]) -> None:
        self._operation = operation
        self._result: T  # set when the operation returns
        self.outcome: Any = None

    def __iter__(self) -> Walk[T]:
        return self

    def __next__(self) -> Send | Sleep:
        outcome, self.outcome = self.outcome, None
        try:
            return self._operation.send(outcome)
        except StopIteration as stop:
            self._result = stop.value
            raise StopIteration from None

    @property
    def result(self) -> T:
        return self._result


def _delay(attempt: int, response: httpx.Response | None) -> float:
    if response is not None:
        retry_after = response.headers.get("Retry-After", "")
        try:
            return min(max(float(retry_after), 0.0), BACKOFF_MAX_S)
        except ValueError:
            pass  # absent or an HTTP date: fall back to exponential backoff
    return min(BACKOFF_BASE_S * 2.0**attempt, BACKOFF_MAX_S)


def _result(call: Call[T], response: httpx.Response) -> T:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success:
        return call.parse(body)
    raise error_from_response(response.status_code, body)


class operation(Generic[P, T]):
    """Turns an operation into a method of both clients: blocking on ``Client``, a coroutine
    function on ``AsyncClient``; the signature (and so mypy's view) is the operation's own."""

    def __init__(self, build: Callable[Concatenate[Any, P], Operation[T]]) -> None:
        self.build = build
        signature = inspect.signature(build)
        returns = signature.return_annotation  # "Operation[X]": the method returns an X
        if isinstance(returns, str) and returns.startswith("Operation[") and returns[-1] == "]":
            returns = returns.removeprefix("Operation[")[:-1]
        self.signature = signature.replace(
            parameters=list(signature.parameters.values())[1:], return_annotation=returns
        )
        self.name = build.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> operation[P, T]: ...
    @overload
    def __get__(self, instance: BlockingRunner, owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, instance: AsyncRunner, owner: type
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        build = self.build
        method: Callable[..., Any]
        if isinstance(instance, AsyncRunner):

            async def method(*args: Any, **kwargs: Any) -> Any:
                return await instance.run(build(instance, *args, **kwargs))

        else:

            def method(*args: Any, **kwargs: Any) -> Any:
                return instance.run(build(instance, *args, **kwargs))

        update_wrapper(method, build)
        # help() and inspect show the method's own signature (no self, the result it returns).
        del vars(method)["__wrapped__"]
        vars(method)["__signature__"] = self.signature
        vars(instance)[self.name] = method  # bound once; later lookups find it directly
        return method


class ClientMethods:
    """The library's methods over HTTP (see ``selfmodel.interface.SelfModelAPI``)."""

    max_retries: int = DEFAULT_MAX_RETRIES

    def _exchange(self, call: Call[T]) -> Operation[T]:
        """Send ``call``; retry 429/503 answers and unreachable servers with backoff."""
        # One key per logical call, reused by its retries: a retried write is never applied twice.
        headers = {IDEMPOTENCY_HEADER: uuid.uuid4().hex} if call.write else {}
        attempt = 0
        while True:
            outcome = yield Send(call, headers)
            response = None if isinstance(outcome, httpx.TransportError) else outcome
            if response is not None and (
                response.status_code not in RETRY_STATUSES or attempt >= self.max_retries
            ):
                return _result(call, response)
            if response is None and attempt >= self.max_retries:
                raise ServiceUnavailableError(f"cannot reach the server: {outcome}") from outcome
            yield Sleep(_delay(attempt, response))
            attempt += 1

    # -- evidence in -------------------------------------------------------------------------
    @operation
    def observe(
        self,
        user: str,
        messages: MessagesInput,
        *,
        area: str | None = None,
        at: datetime | str | None = None,
        source: str | None = None,
        wait: bool = True,
        context: str | None = None,
    ) -> Operation[ObserveResult]:
        """Record what ``user`` said or did and update their self-model (``wait=False``: queue
        the understanding; :meth:`wait_for` waits for it). ``context``: the deprecated name of
        ``area``."""
        area = renamed_keyword(area, context, new="area", old="context", stacklevel=CALLER)
        call = calls.observe(user, messages, area=area, at=at, source=source, wait=wait)
        return (yield from self._exchange(call))

    @operation
    def wait_for(
        self, observation_ids: Sequence[str], *, timeout: float = DEFAULT_WAIT_SECONDS
    ) -> Operation[None]:
        """Block until the self-model reflects these observations (their queued jobs are done).

        Raises ``JobFailedError`` if a job covering one of them failed for good, and
        ``WaitTimeoutError`` if they are still pending after ``timeout`` seconds.
        """
        ids = list(observation_ids)
        if not ids:
            return None
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(deadline - time.monotonic(), 0.0)
            call = calls.wait_for(ids, min(remaining, WAIT_PER_REQUEST_S), WAIT_MARGIN_S)
            try:
                return (yield from self._exchange(call))
            except WaitTimeoutError:
                if time.monotonic() >= deadline:
                    raise

    # -- reading -----------------------------------------------------------------------------
    @operation
    def users(self) -> Operation[list[User]]:
        """Every user of the workspace, in order of their external id."""
        found: list[User] = []
        cursor: str | None = None
        while True:
            items, cursor = yield from self._exchange(calls.users_page(cursor))
            found.extend(items)
            if cursor is None:
                return found

    @operation
    def user(self, external_id: str) -> Operation[User]:
        """A user by the product's own id."""
        return (yield from self._exchange(calls.user(external_id)))

    @operation
    def beliefs(
        self,
        user: str,
        *,
        kind: BeliefKind | str | None = None,
        status: StatusArg = BeliefStatus.ACTIVE,
        area: str | None = None,
        min_confidence: float | None = None,
        limit: int | None = None,
        now: datetime | str | None = None,
        context: str | None = None,
    ) -> Operation[list[Belief]]:
        """The user's beliefs, newest first, as of ``now`` (all pages, up to ``limit``).
        ``context``: the deprecated name of ``area``."""
        area = renamed_keyword(area, context, new="area", old="context", stacklevel=CALLER)
        found: list[Belief] = []
        cursor: str | None = None
        while True:
            size = calls.PAGE_SIZE if limit is None else min(calls.PAGE_SIZE, limit - len(found))
            page = calls.beliefs_page(
                user,
                kind=kind,
                status=status,
                area=area,
                min_confidence=min_confidence,
                now=now,
                cursor=cursor,
                limit=size,
            )
            items, cursor = yield from self._exchange(page)
            found.extend(items)
            if cursor is None or (limit is not None and len(found) >= limit):
                return found

    @operation
    def profile(
        self,
        user: str,
        as_of: datetime | str | None = None,
        *,
        now: datetime | str | None = None,
    ) -> Operation[Profile]:
        """The user's profile (facets, people, pets, interests, how to answer, conflicts) as of
        ``now`` (default: the present). ``as_of`` is the older name of ``now``."""
        return (yield from self._exchange(calls.profile(user, _moment(now, as_of))))

    @operation
    def conflicts(
        self,
        user: str,
        as_of: datetime | str | None = None,
        *,
        now: datetime | str | None = None,
    ) -> Operation[list[Conflict]]:
        """Active beliefs of the user that deny each other (``as_of``: the older name of
        ``now``)."""
        return (yield from self._exchange(calls.conflicts(user, _moment(now, as_of))))

    @operation
    def belief(self, belief_id: str) -> Operation[BeliefDetail]:
        """A belief with its evidence (and the observations quoted) and its full history."""
        return (yield from self._exchange(calls.belief(belief_id)))

    @operation
    def history(self, belief_id: str) -> Operation[list[BeliefEvent]]:
        """Every change of one belief, oldest first."""
        return (yield from self._exchange(calls.history(belief_id)))

    @operation
    def timeline(self, user: str) -> Operation[list[BeliefEvent]]:
        """Every change to the user's self-model, newest first."""
        return (yield from self._exchange(calls.timeline(user)))

    @operation
    def context(
        self,
        user: str | Sequence[str],
        query: str,
        *,
        budget_tokens: int | None = None,
        area: str | None = None,
        limit: int | None = None,
        now: datetime | str | None = None,
        moments: bool = True,
        context: str | None = None,
    ) -> Operation[ContextResult]:
        """A prompt-ready block about ``user`` (or several users) for ``query``, and its trace
        (``moments=False``: from the self-model alone, no raw observations). ``context``: the
        deprecated name of ``area``."""
        area = renamed_keyword(area, context, new="area", old="context", stacklevel=CALLER)
        call = calls.context(
            user,
            query,
            budget_tokens=budget_tokens,
            area=area,
            limit=limit,
            now=now,
            moments=moments,
        )
        return (yield from self._exchange(call))

    @operation
    def trace(self, trace_id: str) -> Operation[TraceRecord]:
        """What a ``context`` call considered, scored and chose, under which config."""
        return (yield from self._exchange(calls.trace(trace_id)))

    @operation
    def traces(
        self, user: str, *, limit: int = DEFAULT_TRACES, before: str | None = None
    ) -> Operation[list[TraceRecord]]:
        """The user's context calls, newest first; ``before``: the last of the previous page."""
        return (yield from self._exchange(calls.traces(user, limit=limit, before=before)))

    # -- debugging a context call (docs/debugging.md) ----------------------------------------
    @operation
    def beliefs_as_of(
        self,
        user: str,
        *,
        at: datetime | str | None = None,
        trace_id: str | None = None,
        valid_at: datetime | str | None = None,
        status: StatusArg = BeliefStatus.ACTIVE,
    ) -> Operation[ModelAsOf]:
        """The user's beliefs as they were at record time ``at`` or as trace ``trace_id`` read
        them, read at valid time ``valid_at``."""
        call = calls.beliefs_as_of(user, at=at, trace_id=trace_id, valid_at=valid_at, status=status)
        return (yield from self._exchange(call))

    @operation
    def replay(
        self, trace_id: str, config: Mapping[str, Any] | None = None
    ) -> Operation[ReplayResult]:
        """The trace's context call computed again as it was, under its recorded config or
        ``config`` laid over it, with the diff."""
        return (yield from self._exchange(calls.replay(trace_id, config)))

    @operation
    def why_not(self, trace_id: str, item_id: str) -> Operation[WhyNot]:
        """Why a belief or observation was (not) in the trace's block."""
        return (yield from self._exchange(calls.why_not(trace_id, item_id)))

    @operation
    def lineage(self, trace_id: str, item_id: str) -> Operation[Lineage]:
        """From an item of the trace to its belief, history, evidence and extraction."""
        return (yield from self._exchange(calls.lineage(trace_id, item_id)))

    @operation
    def export(self, user: str) -> Operation[dict[str, Any]]:
        """Everything stored about ``user``, as JSON-ready data."""
        return (yield from self._exchange(calls.export(user)))

    # -- the user has the last word ----------------------------------------------------------
    @operation
    def confirm(self, belief_id: str) -> Operation[Belief]:
        """The user says "this is me"."""
        return (yield from self._exchange(calls.belief_action(belief_id, "confirm")))

    @operation
    def reject(self, belief_id: str) -> Operation[Belief]:
        """The user says "not me": kept for its history, never used again."""
        return (yield from self._exchange(calls.belief_action(belief_id, "reject")))

    @operation
    def mark_outdated(self, belief_id: str) -> Operation[Belief]:
        """The user says "no longer true": the belief ends now."""
        return (yield from self._exchange(calls.belief_action(belief_id, "outdated")))

    @operation
    def settle(self, true_id: str, false_id: str) -> Operation[tuple[Belief, Belief]]:
        """Answer a conflict: ``true_id`` holds now (confirmed), ``false_id`` ends now
        (superseded by it). Returns (kept, ended)."""
        return (yield from self._exchange(calls.settle(true_id, false_id)))

    @operation
    def edit(
        self, belief_id: str, statement: str, *, kind: BeliefKind | str | None = None
    ) -> Operation[Belief]:
        """The user rewrites the statement in their own words."""
        return (yield from self._exchange(calls.edit(belief_id, statement, kind)))

    @operation
    def add_belief(
        self,
        user: str,
        statement: str,
        *,
        kind: BeliefKind | str = BeliefKind.FACT,
        area: str | None = None,
        context: str | None = None,
    ) -> Operation[Belief]:
        """A belief the user writes in their own words (``context``: the deprecated name of
        ``area``)."""
        area = renamed_keyword(area, context, new="area", old="context", stacklevel=CALLER)
        return (yield from self._exchange(calls.add_belief(user, statement, kind, area)))

    @operation
    def set_display_name(self, user: str, name: str | None) -> Operation[User]:
        """How statements, blocks and the Mirror name ``user`` (None: "the user")."""
        return (yield from self._exchange(calls.set_display_name(user, name)))

    @operation
    def decay(self, user: str, *, now: datetime | str | None = None) -> Operation[list[Belief]]:
        """Record in history how unreinforced beliefs have faded by ``now``; returns those
        changed."""
        return (yield from self._exchange(calls.decay(user, now)))

    # -- forgetting and privacy ---------------------------------------------------------------
    @operation
    def forget(self, user: str) -> Operation[DeletedCounts]:
        """Hard-delete every row about ``user``."""
        return (yield from self._exchange(calls.forget(user)))

    @operation
    def set_pii_policy(self, policy: PiiPolicy | str) -> Operation[None]:
        """How this workspace treats PII: ``redact``, ``keep`` or ``reject`` (an admin key)."""
        return (yield from self._exchange(calls.set_pii_policy(policy)))

    # -- retention and the audit log (an admin key) -------------------------------------------
    @operation
    def retention_policy(self) -> Operation[RetentionPolicy]:
        """This workspace's retention policy (null fields: keep for ever)."""
        return (yield from self._exchange(calls.retention_policy()))

    @operation
    def set_retention_policy(
        self, changes: RetentionPolicy | Mapping[str, object]
    ) -> Operation[RetentionPolicy]:
        """Replace the policy (a ``RetentionPolicy``) or change the fields a mapping names."""
        return (yield from self._exchange(calls.set_retention_policy(changes)))

    @operation
    def run_retention(self, *, dry_run: bool = False) -> Operation[RetentionReport]:
        """Apply the policy now, on the server (``dry_run``: report, delete nothing)."""
        return (yield from self._exchange(calls.run_retention(dry_run)))

    @operation
    def audit_log(
        self, *, user: str | None = None, after: str | None = None, limit: int | None = None
    ) -> Operation[list[AuditRecord]]:
        """Every deletion made by forget or a retention policy, oldest first (all pages; then
        those after the record ``after``, up to ``limit``)."""
        found: list[AuditRecord] = []
        cursor: str | None = None
        while True:
            items, cursor = yield from self._exchange(calls.audit_page(user, cursor))
            found.extend(items)
            if cursor is None:
                break
        if after is not None:
            found = [r for r in found if r.id > after]
        return found[:limit] if limit is not None else found

    # -- outcomes ----------------------------------------------------------------------------
    @operation
    def record_outcome(
        self,
        user: str,
        kind: OutcomeKind | str,
        *,
        trace_id: str | None = None,
        name: str | None = None,
        value: float | None = None,
        label: str | None = None,
        used_item_ids: Sequence[str] | None = None,
        occurred_at: datetime | date | str | None = None,
        id: str | None = None,
    ) -> Operation[Outcome]:
        """Record one outcome of ``user`` (feedback, an implicit signal, a metric), optionally
        of the answer of trace ``trace_id``; with ``id``, recording it again changes nothing."""
        call = calls.record_outcome(
            user,
            kind,
            trace_id=trace_id,
            name=name,
            value=value,
            label=label,
            used_item_ids=used_item_ids,
            occurred_at=occurred_at,
            id=id,
        )
        return (yield from self._exchange(call))

    @operation
    def outcomes(
        self, user: str, *, trace_id: str | None = None, kind: OutcomeKind | str | None = None
    ) -> Operation[list[Outcome]]:
        """``user``'s outcomes in the order they were recorded (all pages)."""
        found: list[Outcome] = []
        cursor: str | None = None
        while True:
            items, cursor = yield from self._exchange(
                calls.outcomes_page(user, trace_id, kind, cursor)
            )
            found.extend(items)
            if cursor is None:
                return found

    # -- experiments -------------------------------------------------------------------------
    @operation
    def create_experiment(
        self,
        name: str,
        variants: Sequence[Variant | Mapping[str, Any]],
        *,
        control: str | None = None,
        layer: str | None = None,
        traffic: float = 1.0,
        description: str | None = None,
    ) -> Operation[Experiment]:
        """Define an experiment and start it (an admin key); see ``SelfModel.create_experiment``."""
        call = calls.create_experiment(
            name, variants, control=control, layer=layer, traffic=traffic, description=description
        )
        return (yield from self._exchange(call))

    @operation
    def experiments(
        self, *, status: ExperimentStatus | str | None = None
    ) -> Operation[list[Experiment]]:
        """The workspace's experiments, oldest first (all pages)."""
        found: list[Experiment] = []
        cursor: str | None = None
        while True:
            items, cursor = yield from self._exchange(calls.experiments_page(status, cursor))
            found.extend(items)
            if cursor is None:
                return found

    @operation
    def experiment(self, experiment: str) -> Operation[Experiment]:
        """An experiment by its name or id."""
        return (yield from self._exchange(calls.experiment(experiment)))

    @operation
    def stop_experiment(self, experiment: str) -> Operation[Experiment]:
        """Stop an experiment (an admin key): it assigns nobody from now on."""
        return (yield from self._exchange(calls.stop_experiment(experiment)))

    @operation
    def assignment(self, user: str, experiment: str) -> Operation[Assignment]:
        """Which variant of ``experiment`` ``user`` is in (None: not in it), to branch on."""
        return (yield from self._exchange(calls.assignment(user, experiment)))

    @operation
    def analyze_experiment(
        self,
        experiment: str,
        metric: str,
        *,
        until: datetime | str | None = None,
        alpha: float = DEFAULT_ALPHA,
        power: float = DEFAULT_POWER,
        mde: float = DEFAULT_MDE_RELATIVE,
        horizon: int = DEFAULT_HORIZON_USERS,
        pre_period_days: float = DEFAULT_PRE_PERIOD_DAYS,
    ) -> Operation[ExperimentAnalysis]:
        """Every variant against the control on ``metric``; see
        ``SelfModel.analyze_experiment``."""
        call = calls.analyze_experiment(
            experiment,
            metric,
            until=until,
            alpha=alpha,
            power=power,
            mde=mde,
            horizon=horizon,
            pre_period_days=pre_period_days,
        )
        return (yield from self._exchange(call))

    @operation
    def personalization(
        self,
        *,
        now: datetime | str | None = None,
        days: float = DEFAULT_DAYS,
        min_beliefs: int = DEFAULT_MIN_BELIEFS,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        min_offers: int = DEFAULT_MIN_OFFERS,
    ) -> Operation[PersonalizationReport]:
        """How personal the window's context blocks were; see ``SelfModel.personalization``."""
        call = calls.personalization(
            now=now,
            days=days,
            min_beliefs=min_beliefs,
            min_confidence=min_confidence,
            min_offers=min_offers,
        )
        return (yield from self._exchange(call))

    @operation
    def report(
        self, *, now: datetime | str | None = None, days: float = DEFAULT_REPORT_DAYS
    ) -> Operation[JoinedReport]:
        """Engineering metrics beside outcomes; see ``SelfModel.report``."""
        return (yield from self._exchange(calls.report(now=now, days=days)))

    @operation
    def audit(
        self, *, since: datetime | date | str | None = None, now: datetime | str | None = None
    ) -> Operation[AuditReport]:
        """Where the workspace stands on the five problems and its readiness to scale; see
        ``SelfModel.audit`` (an admin key)."""
        return (yield from self._exchange(calls.audit(since=since, now=now)))

    # -- evaluation and alerts ---------------------------------------------------------------
    @operation
    def eval_runs(self, *, suite: str | None = None) -> Operation[list[EvalRun]]:
        """The workspace's recorded eval runs, the last recorded first (all pages). Their
        ``workspace_id`` is empty: the workspace is the key's."""
        found: list[EvalRun] = []
        cursor: str | None = None
        while True:
            items, cursor = yield from self._exchange(calls.eval_runs_page(suite, cursor))
            found.extend(items)
            if cursor is None:
                return found

    @operation
    def eval_run(self, run_id: str) -> Operation[EvalRun]:
        """One recorded eval run."""
        return (yield from self._exchange(calls.eval_run(run_id)))

    @operation
    def eval_items(self, run_id: str) -> Operation[list[EvalItemScore]]:
        """A recorded run's item scores, in suite order."""
        return (yield from self._exchange(calls.eval_items(run_id)))

    @operation
    def alerts(self, *, status: AlertStatus | str | None = None) -> Operation[list[Alert]]:
        """The workspace's alerts (drift and regressions), the last raised first (all pages)."""
        found: list[Alert] = []
        cursor: str | None = None
        while True:
            items, cursor = yield from self._exchange(calls.alerts_page(status, cursor))
            found.extend(items)
            if cursor is None:
                return found

    @operation
    def alert(self, alert_id: str) -> Operation[Alert]:
        """One alert."""
        return (yield from self._exchange(calls.alert(alert_id)))

    @operation
    def resolve_alert(self, alert_id: str) -> Operation[Alert]:
        """Close an alert by hand; the next check that finds the same drift opens a new one."""
        return (yield from self._exchange(calls.resolve_alert(alert_id)))

    @operation
    def request_drift_check(self) -> Operation[None]:
        """Ask the server's workers for a drift check of the workspace now."""
        return (yield from self._exchange(calls.request_drift_check()))

    # -- the Mirror --------------------------------------------------------------------------
    @operation
    def create_mirror_link(
        self, user: str, *, ttl_s: int | None = None
    ) -> Operation[IssuedMirrorLink]:
        """Mint a signed link that opens ``user``'s Mirror for ``ttl_s`` seconds; hand its
        ``url`` to the person."""
        return (yield from self._exchange(calls.create_mirror_link(user, ttl_s)))

    @operation
    def revoke_mirror_links(self, user: str, link_id: str | None = None) -> Operation[int]:
        """Revoke one of the user's Mirror links (or all); returns how many were revoked."""
        return (yield from self._exchange(calls.revoke_mirror_links(user, link_id)))

    @operation
    def push_cards(
        self,
        user: str,
        statements: Sequence[str | Mapping[str, Any]],
        *,
        source: str | None = None,
    ) -> Operation[list[ResonanceCard]]:
        """Offer the user candidate statements ("resonance cards") to select in the Mirror."""
        return (yield from self._exchange(calls.push_cards(user, statements, source)))

    @operation
    def cards(self, user: str, *, open_only: bool = False) -> Operation[list[ResonanceCard]]:
        """The user's resonance cards, oldest first (``open_only``: not answered yet)."""
        return (yield from self._exchange(calls.cards(user, open_only)))

    @operation
    def answer_cards(
        self, user: str, answers: Mapping[str, bool]
    ) -> Operation[list[ResonanceCard]]:
        """Record which cards the user selected (a selection is explicit evidence); returns the
        cards answered by this call."""
        return (yield from self._exchange(calls.answer_cards(user, answers)))

    # -- the old names of the card methods, for one release (selfmodel.deprecation) -----------
    @operation
    def push_prompts(
        self,
        user: str,
        statements: Sequence[str | Mapping[str, Any]],
        *,
        source: str | None = None,
    ) -> Operation[list[ResonanceCard]]:
        """Deprecated name of :meth:`push_cards`."""
        warn_renamed("push_prompts()", "push_cards()", stacklevel=CALLER)
        return (yield from self._exchange(calls.push_cards(user, statements, source)))

    @operation
    def prompts(self, user: str, *, open_only: bool = False) -> Operation[list[ResonanceCard]]:
        """Deprecated name of :meth:`cards`."""
        warn_renamed("prompts()", "cards()", stacklevel=CALLER)
        return (yield from self._exchange(calls.cards(user, open_only)))

    @operation
    def answer_prompts(
        self, user: str, answers: Mapping[str, bool]
    ) -> Operation[list[ResonanceCard]]:
        """Deprecated name of :meth:`answer_cards`."""
        warn_renamed("answer_prompts()", "answer_cards()", stacklevel=CALLER)
        return (yield from self._exchange(calls.answer_cards(user, answers)))


def _moment(now: datetime | str | None, as_of: datetime | str | None) -> datetime | str | None:
    if as_of is None:
        return now
    if now is not None:
        raise TypeError("pass now= (as_of is its older name), not both")
    warnings.warn(
        "as_of is deprecated: pass now=, as to SelfModel",
        DeprecationWarning,
        stacklevel=6,  # _moment, the operation, Walk, run, the method: then the caller's line
    )
    return as_of


class BlockingRunner(ClientMethods, ABC):
    """A client whose methods block: ``run`` performs an operation's steps as they come."""

    @abstractmethod
    def run(self, operation: Operation[T]) -> T:
        """Perform ``operation`` to its end and return its result."""


class AsyncRunner(ClientMethods, ABC):
    """A client whose methods are coroutines: ``run`` awaits each step."""

    @abstractmethod
    async def run(self, operation: Operation[T]) -> T:
        """Perform ``operation`` to its end and return its result."""


__all__ = [
    "DEFAULT_MAX_RETRIES",
    "AsyncRunner",
    "BlockingRunner",
    "ClientMethods",
    "Operation",
    "Send",
    "Sleep",
    "Walk",
    "operation",
]
