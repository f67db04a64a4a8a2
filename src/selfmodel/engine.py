"""``SelfModel``: the engine that ties storage, extraction, revision and retrieval together.

One ``SelfModel`` is bound to one workspace; ``in_workspace`` gives a sibling bound to another that
shares the same store, model and warm indexes (what the HTTP server does per request).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from selfmodel.config import Settings
from selfmodel.domain import (
    Belief,
    BeliefDetail,
    BeliefEvent,
    BeliefEventType,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    ContextResult,
    EvidenceDetail,
    Job,
    JobKind,
    JobRun,
    JobStatus,
    MirrorLink,
    Observation,
    ObservationKind,
    ObserveResult,
    ResonancePrompt,
    Role,
    RunOutcome,
    User,
    Workspace,
    new_id,
)
from selfmodel.domain.jobs import DEFAULT_MAX_ATTEMPTS
from selfmodel.domain.time import parse_timestamp, to_utc, utcnow
from selfmodel.embedding import Embedder, embedder_from_settings
from selfmodel.errors import (
    BeliefNotFoundError,
    ConfigurationError,
    InvalidInputError,
    JobFailedError,
    LeaseLostError,
    MirrorLinkNotFoundError,
    PromptNotFoundError,
    TraceNotFoundError,
    UserNotFoundError,
    WaitTimeoutError,
    WorkspaceNotFoundError,
)
from selfmodel.extraction import CandidateBelief, ExtractionRequest, Extractor
from selfmodel.ingest.files import Batch
from selfmodel.ingest.messages import Message, MessagesInput, parse_messages
from selfmodel.privacy import PiiPolicy, apply_policy
from selfmodel.retrieval import Retriever, Scope, TokenCounter
from selfmodel.retrieval.retriever import OBSERVATION_VECTORS
from selfmodel.revision import Reviser, RevisionOutcome
from selfmodel.revision.confidence import USER_CONFIRMED_CONFIDENCE, EvidenceState, has_decayed
from selfmodel.revision.reviser import BELIEF_VECTORS
from selfmodel.storage import BeliefFilter, DeletedCounts, Store, TraceRecord, open_store

MAX_USER_ID_CHARS = 200
# Messages per observe() call when ingesting files: one transaction each, and a lively progress bar.
INGEST_CHUNK = 16
MAX_STATEMENT_CHARS = 1_000
# A claimed job is the worker's for this long; if the worker dies, another may take it after.
# Generous next to a job's usual run time (well under a second with the local extractor) so a
# slow LLM extraction is not taken over and run twice.
DEFAULT_LEASE_SECONDS = 120.0
DEFAULT_JOB_BATCH = 8
DEFAULT_WAIT_SECONDS = 30.0
WAIT_POLL_SECONDS = 0.05

logger = logging.getLogger("selfmodel.engine")
# Resonance cards: a handful at a time is what a person will read; links live minutes to a month.
MAX_PROMPTS_PER_CALL = 20
MAX_PROMPT_SOURCE_CHARS = 200
MIN_MIRROR_LINK_TTL_S = 60
MAX_MIRROR_LINK_TTL_S = 30 * 86_400
MIRROR_SOURCE = "mirror"


def extractor_from_settings(settings: Settings) -> Extractor:
    """The extractor the settings ask for."""
    if settings.extractor == "local":
        from selfmodel.extraction.local import LocalExtractor

        return LocalExtractor()
    if not (settings.llm_base_url and settings.llm_model):
        raise ConfigurationError("the llm extractor needs SELFMODEL_LLM_BASE_URL and _LLM_MODEL")
    from selfmodel.extraction.llm import LLMExtractor

    return LLMExtractor(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )


@dataclass
class IngestSummary:
    new: int = 0
    duplicates: int = 0
    created: int = 0


@dataclass(frozen=True)
class _Understanding:
    """What extraction and embedding made of some observations, before the revision uses it."""

    user: User
    observations: list[Observation]
    candidates: list[CandidateBelief]
    observation_vectors: list[tuple[str, np.ndarray]]
    statement_vectors: dict[str, np.ndarray]


@dataclass
class _Components:
    """Everything a workspace view shares: one store, one model, one set of warm indexes."""

    settings: Settings
    store: Store
    embedder: Embedder
    extractor: Extractor
    retriever: Retriever
    reviser: Reviser


class SelfModel:
    """A persistent self-model for every user of a product, bound to one workspace."""

    def __init__(self, components: _Components, workspace: Workspace) -> None:
        self._c = components
        self.workspace = workspace

    @classmethod
    def open(
        cls,
        location: str | None = None,
        *,
        workspace: str | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        extractor: Extractor | None = None,
    ) -> SelfModel:
        """Open (creating if needed) the store at ``location`` (default: ``SELFMODEL_DB``)."""
        settings = settings or Settings()
        store = open_store(str(location or settings.db))
        try:
            embedder = embedder or embedder_from_settings(settings)
            extractor = extractor or extractor_from_settings(settings)
            ws = store.get_or_create_workspace(workspace or settings.workspace)
        except BaseException:
            store.close()
            raise
        components = _Components(
            settings=settings,
            store=store,
            embedder=embedder,
            extractor=extractor,
            retriever=Retriever(store, embedder, TokenCounter()),
            reviser=Reviser(store, embedder.name),
        )
        return cls(components, ws)

    def in_workspace(self, name: str) -> SelfModel:
        """A view of the same store bound to workspace ``name`` (created if missing)."""
        return SelfModel(self._c, self._c.store.get_or_create_workspace(name))

    def in_existing_workspace(self, name: str) -> SelfModel:
        """A view of the same store bound to workspace ``name``, which must exist."""
        found = self._c.store.get_workspace(name)
        if found is None:
            raise WorkspaceNotFoundError(f"no workspace {name!r}")
        return SelfModel(self._c, found)

    @property
    def store(self) -> Store:
        return self._c.store

    @property
    def settings(self) -> Settings:
        return self._c.settings

    def close(self) -> None:
        self._c.store.close()

    def __enter__(self) -> SelfModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- users -------------------------------------------------------------------------------
    def users(self) -> list[User]:
        return self._c.store.list_users(self.workspace.id)

    def user(self, external_id: str) -> User:
        found = self._c.store.get_user(self.workspace.id, external_id)
        if found is None:
            raise UserNotFoundError(f"no user {external_id!r} in workspace {self.workspace.name!r}")
        return found

    # -- observe -----------------------------------------------------------------------------
    def observe(
        self,
        user: str,
        messages: MessagesInput,
        *,
        context: str | None = None,
        at: datetime | str | None = None,
        source: str | None = None,
        wait: bool = True,
    ) -> ObserveResult:
        """Record what ``user`` said or did and update their self-model.

        ``messages`` is a string, a mapping (``content``, ``role``, ``speaker``, ``occurred_at``,
        ``id``, ``kind``, ``source``, ``metadata``) or a list of them. Messages with an ``id`` seen
        before for this user are skipped, so re-ingesting changes nothing. Everything is validated
        before anything is written; the whole call is one transaction.

        With ``wait=False`` the observations are stored and one ``understand`` job is queued in
        that same transaction; a worker (``selfmodel worker`` or :meth:`process_jobs`) updates
        the self-model later, and :meth:`wait_for` waits for it.
        """
        _check_user_id(user)
        settings = self._c.settings
        parsed = parse_messages(
            messages, max_chars=settings.max_message_chars, max_batch=settings.max_batch_messages
        )
        default_at = parse_timestamp(at, field="at") if at is not None else utcnow()
        policy = PiiPolicy(self.workspace.settings.get("pii_policy", PiiPolicy.REDACT))
        redacted = [apply_policy(m.content, policy) for m in parsed]  # may refuse: nothing written

        store = self._c.store
        ws = self.workspace.id
        existing = store.get_user(ws, user)
        known_ids = (
            store.existing_external_ids(ws, existing.id, [m.id for m in parsed if m.id])
            if existing
            else set()
        )
        recorded_at = utcnow()
        with store.transaction():
            u = existing or store.get_or_create_user(ws, user)
            ctx = store.get_or_create_context(ws, context) if context else None
            fresh: list[Observation] = []
            seen: set[str] = set()
            for message, clean in zip(parsed, redacted, strict=True):
                if message.id and (message.id in known_ids or message.id in seen):
                    continue
                if message.id:
                    seen.add(message.id)
                fresh.append(
                    self._observation(
                        u,
                        message,
                        clean.text,
                        ctx.id if ctx else None,
                        default_at,
                        recorded_at,
                        source,
                    )
                )
            inserted = store.insert_observations(fresh)
            job: Job | None = None
            if wait:
                store.lock_user(ws, u.id)
                outcome = self._understand(u, inserted)
            else:
                outcome = RevisionOutcome()
                if inserted:
                    job = store.enqueue_job(
                        ws,
                        u.id,
                        JobKind.UNDERSTAND,
                        {"observation_ids": [o.id for o in inserted]},
                        max_attempts=DEFAULT_MAX_ATTEMPTS,
                    )
        if inserted:
            self._c.retriever.invalidate(ws, u.id)
        return ObserveResult(
            user_id=u.id,
            new_observation_ids=[o.id for o in inserted],
            duplicates=len(parsed) - len(inserted),
            created=outcome.created,
            reinforced=outcome.reinforced,
            contradicted=outcome.contradicted,
            superseded=outcome.superseded,
            redactions=sum(len(r.findings) for r in redacted),
            job_id=job.id if job else None,
        )

    def ingest(
        self,
        batches: Sequence[Batch],
        *,
        chunk_size: int = INGEST_CHUNK,
        on_progress: Callable[[int], None] | None = None,
        wait: bool = True,
    ) -> IngestSummary:
        """Observe many users' messages (e.g. from a file) in chunks, oldest first per user.

        Every message is validated before the first is written, so a bad one leaves the store
        unchanged. ``on_progress`` is called with the number of messages done after each chunk.
        ``wait=False`` queues the understanding of each chunk for the workers.
        """
        settings = self._c.settings
        for batch in batches:
            _check_user_id(batch.user)
            parse_messages(
                batch.messages,
                max_chars=settings.max_message_chars,
                max_batch=max(len(batch.messages), 1),
            )
        summary = IngestSummary()
        for batch in batches:
            for start in range(0, len(batch.messages), chunk_size):
                chunk = batch.messages[start : start + chunk_size]
                result = self.observe(batch.user, chunk, source=batch.source, wait=wait)
                summary.new += len(result.new_observation_ids)
                summary.duplicates += result.duplicates
                summary.created += len(result.created)
                if on_progress:
                    on_progress(len(chunk))
        return summary

    def _observation(
        self,
        user: User,
        message: Message,
        content: str,
        context_id: str | None,
        default_at: datetime,
        recorded_at: datetime,
        source: str | None,
    ) -> Observation:
        return Observation(
            id=new_id("obs"),
            workspace_id=self.workspace.id,
            user_id=user.id,
            content=content,
            occurred_at=to_utc(message.occurred_at) if message.occurred_at else default_at,
            recorded_at=recorded_at,
            kind=message.kind,
            role=message.role,
            speaker=message.speaker,
            source=message.source or source,
            context_id=context_id,
            external_id=message.id,
            metadata=message.metadata,
        )

    def _understand(self, user: User, observations: Sequence[Observation]) -> RevisionOutcome:
        """Extract, embed and revise for new observations (inside the caller's transaction)."""
        if not observations:
            return RevisionOutcome()
        return self._revise(self._prepare(user, observations))

    def _prepare(self, user: User, observations: Sequence[Observation]) -> _Understanding:
        """Extract candidates and embed texts: no store writes, so it can run outside a lock."""
        requests = [
            ExtractionRequest(
                observation=o, subject=o.speaker or user.display_name or user.external_id
            )
            for o in observations
            if o.role == Role.USER
        ]
        candidates: list[CandidateBelief] = self._c.extractor.extract(requests) if requests else []
        statements = {c.statement for c in candidates} | {
            c.contradicts for c in candidates if c.contradicts
        }
        texts = [o.content for o in observations] + sorted(statements)
        vectors = self._c.embedder.embed(texts)
        n = len(observations)
        return _Understanding(
            user=user,
            observations=list(observations),
            candidates=candidates,
            observation_vectors=[(o.id, vectors[i]) for i, o in enumerate(observations)],
            statement_vectors={t: vectors[n + i] for i, t in enumerate(sorted(statements))},
        )

    def _revise(self, prepared: _Understanding) -> RevisionOutcome:
        """Store the vectors and fold the candidates in (inside the caller's transaction)."""
        user = prepared.user
        self._c.store.put_vectors(
            user.workspace_id,
            user.id,
            OBSERVATION_VECTORS,
            self._c.embedder.name,
            prepared.observation_vectors,
        )
        return self._c.reviser.apply(
            user.workspace_id,
            user.id,
            prepared.candidates,
            {o.id: o for o in prepared.observations},
            prepared.statement_vectors,
        )

    # -- background work ---------------------------------------------------------------------
    def process_jobs(
        self,
        worker_id: str,
        *,
        limit: int = DEFAULT_JOB_BATCH,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> list[JobRun]:
        """Claim up to ``limit`` due jobs (of every workspace) and run them one by one.

        Each job's revision and its completion commit in one transaction, so a crash at any point
        either leaves the job to be retried or has done it exactly once.
        """
        if limit <= 0 or lease_seconds <= 0:
            raise InvalidInputError("limit and lease_seconds must be positive")
        jobs = self._c.store.claim_jobs(worker_id, limit, lease_seconds)
        return [self.run_job(job, worker_id) for job in jobs]

    def run_job(self, job: Job, worker_id: str) -> JobRun:
        """Run one job this worker has claimed; failures are recorded on the job, not raised."""
        store = self._c.store
        started = time.perf_counter()
        observations: list[Observation] = []

        def finished(outcome: RunOutcome, error: str | None = None) -> JobRun:
            return JobRun(
                job_id=job.id,
                workspace_id=job.workspace_id,
                user_id=job.user_id,
                outcome=outcome,
                observations=len(observations),
                seconds=time.perf_counter() - started,
                error=error,
            )

        try:
            user = store.get_user_by_id(job.workspace_id, job.user_id)
            if user is None:  # forgotten since: forget deleted the job with everything else
                raise LeaseLostError(f"user {job.user_id} no longer exists")
            observations = store.get_observations(job.workspace_id, job.observation_ids)
            # Extraction and embedding are the slow part and write nothing: done before the
            # transaction, so other writers are not held up by them.
            prepared = self._prepare(user, observations) if observations else None
            with store.transaction():
                store.lock_user(job.workspace_id, job.user_id)
                if prepared is not None:
                    self._revise(prepared)
                if not store.complete_job(job.id, worker_id):
                    # Roll the revision back: whoever holds the lease now will make it.
                    raise LeaseLostError(f"worker {worker_id} no longer holds job {job.id}")
        except LeaseLostError as exc:
            logger.warning("job lost: %s", exc.message, extra={"job_id": job.id})
            return finished(RunOutcome.LOST, exc.message)
        except Exception as exc:  # any failure is recorded on the job: retried, then dead
            error = f"{type(exc).__name__}: {exc}"
            failed = store.fail_job(job.id, worker_id, error)
            if failed is None:
                return finished(RunOutcome.LOST, error)
            outcome = RunOutcome.DEAD if failed.status == JobStatus.DEAD else RunOutcome.RETRY
            logger.warning(
                "job failed (%s): %s",
                outcome.value,
                error,
                extra={"job_id": job.id, "outcome": outcome.value},
                exc_info=True,
            )
            return finished(outcome, error)
        self._c.retriever.invalidate(job.workspace_id, job.user_id)
        return finished(RunOutcome.DONE)

    def wait_for(
        self,
        observation_ids: Sequence[str],
        *,
        timeout: float = DEFAULT_WAIT_SECONDS,
        poll_seconds: float = WAIT_POLL_SECONDS,
    ) -> None:
        """Block until the self-model reflects these observations (their jobs are done).

        Raises ``JobFailedError`` if a job covering one of them is dead-lettered, and
        ``WaitTimeoutError`` if they are still pending after ``timeout`` seconds.
        """
        wanted = set(observation_ids)
        if not wanted:
            return
        store = self._c.store
        ws = self.workspace.id
        user_ids = sorted({o.user_id for o in store.get_observations(ws, sorted(wanted))})
        deadline = time.monotonic() + timeout
        unfinished = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DEAD)
        while True:
            pending = [
                job
                for user_id in user_ids
                for job in store.list_jobs(ws, user_id=user_id, statuses=unfinished)
                if wanted.intersection(job.observation_ids)
            ]
            dead = [job for job in pending if job.status == JobStatus.DEAD]
            if dead:
                raise JobFailedError(
                    f"job {dead[0].id} failed for good: {dead[0].last_error}", job_id=dead[0].id
                )
            if not pending:
                break
            if time.monotonic() >= deadline:
                raise WaitTimeoutError(
                    f"{len(pending)} job(s) still pending after {timeout:g} s",
                    job_ids=[job.id for job in pending],
                )
            time.sleep(poll_seconds)
        # Another process may have made the revision: this process's warm indexes are stale.
        for user_id in user_ids:
            self._c.retriever.invalidate(ws, user_id)

    # -- reading the self-model --------------------------------------------------------------
    def beliefs(
        self,
        user: str,
        *,
        kind: BeliefKind | str | None = None,
        status: BeliefStatus | str | Sequence[BeliefStatus | str] | None = BeliefStatus.ACTIVE,
        context: str | None = None,
        min_confidence: float | None = None,
        limit: int | None = None,
    ) -> list[Belief]:
        """The user's beliefs, newest first. ``status=None`` means every status."""
        u = self.user(user)
        statuses: tuple[BeliefStatus, ...]
        if status is None:
            statuses = ()
        elif isinstance(status, (str, BeliefStatus)):
            statuses = (_enum(BeliefStatus, status, "status"),)
        else:
            statuses = tuple(_enum(BeliefStatus, s, "status") for s in status)
        ctx_id = None
        if context is not None:
            ctx = self._c.store.get_context(self.workspace.id, context)
            if ctx is None:
                return []
            ctx_id = ctx.id
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise InvalidInputError("min_confidence must be within [0, 1]")
        return self._c.store.list_beliefs(
            self.workspace.id,
            BeliefFilter(
                user_ids=(u.id,),
                statuses=statuses,
                kinds=(_enum(BeliefKind, kind, "kind"),) if kind is not None else (),
                context_id=ctx_id,
                min_confidence=min_confidence,
                limit=limit,
            ),
        )

    def belief(self, belief_id: str) -> BeliefDetail:
        """A belief with its evidence (and the observations quoted) and its full history."""
        belief = self._get_belief(belief_id)
        store = self._c.store
        evidence = store.list_evidence(self.workspace.id, [belief.id])
        observations = {
            o.id: o
            for o in store.get_observations(self.workspace.id, [e.observation_id for e in evidence])
        }
        return BeliefDetail(
            belief=belief,
            evidence=[
                EvidenceDetail(evidence=e, observation=observations[e.observation_id])
                for e in evidence
                if e.observation_id in observations
            ],
            history=store.list_events(self.workspace.id, belief_id=belief.id),
        )

    def history(self, belief_id: str) -> list[BeliefEvent]:
        return self._c.store.list_events(
            self.workspace.id, belief_id=self._get_belief(belief_id).id
        )

    def _get_belief(self, belief_id: str) -> Belief:
        found = self._c.store.get_belief(self.workspace.id, belief_id)
        if found is None:
            raise BeliefNotFoundError(
                f"no belief {belief_id!r} in workspace {self.workspace.name!r}"
            )
        return found

    # -- context -----------------------------------------------------------------------------
    def context(
        self,
        user: str | Sequence[str],
        query: str,
        *,
        budget_tokens: int | None = None,
        context: str | None = None,
        limit: int | None = None,
        now: datetime | None = None,
    ) -> ContextResult:
        """A prompt-ready block about ``user`` (or several users) for ``query``, and its trace."""
        if not isinstance(query, str) or not query.strip():
            raise InvalidInputError("query must be a non-empty string")
        budget = (
            budget_tokens if budget_tokens is not None else self._c.settings.default_budget_tokens
        )
        if budget <= 0:
            raise InvalidInputError("budget_tokens must be positive")
        if limit is not None and limit <= 0:
            raise InvalidInputError("limit must be positive")
        names = [user] if isinstance(user, str) else list(user)
        if not names:
            raise InvalidInputError("at least one user is needed")
        users = tuple(self.user(name) for name in names)
        ctx_id = None
        if context is not None:
            ctx = self._c.store.get_context(self.workspace.id, context)
            ctx_id = ctx.id if ctx else new_id("ctx")  # unknown context: only global beliefs
        return self._c.retriever.context(
            Scope(self.workspace.id, users, ctx_id),
            query,
            budget_tokens=budget,
            limit=limit,
            now=now,
        )

    def trace(self, trace_id: str) -> TraceRecord:
        found = self._c.store.get_trace(self.workspace.id, trace_id)
        if found is None:
            raise TraceNotFoundError(f"no trace {trace_id!r} in workspace {self.workspace.name!r}")
        return found

    # -- the user has the last word ----------------------------------------------------------
    def confirm(self, belief_id: str) -> Belief:
        """The user says "this is me": the belief holds at high confidence and stops decaying."""
        return self._user_change(
            belief_id,
            BeliefEventType.CONFIRMED,
            origin=BeliefOrigin.CONFIRMED,
            status=BeliefStatus.ACTIVE,
            confidence=USER_CONFIRMED_CONFIDENCE,
            valid_to=None,
        )

    def reject(self, belief_id: str) -> Belief:
        """The user says "not me": the belief is kept (for its history) but never used again."""
        return self._user_change(
            belief_id,
            BeliefEventType.REJECTED,
            origin=BeliefOrigin.REJECTED,
            status=BeliefStatus.REJECTED,
            confidence=0.0,
            valid_to=utcnow(),
        )

    def edit(
        self, belief_id: str, statement: str, *, kind: BeliefKind | str | None = None
    ) -> Belief:
        """The user rewrites the statement in their own words."""
        statement = _check_statement(statement)
        belief = self._get_belief(belief_id)
        changes: dict[str, Any] = {
            "statement": statement,
            "origin": BeliefOrigin.EDITED,
            "status": BeliefStatus.ACTIVE,
            "confidence": USER_CONFIRMED_CONFIDENCE,
            "valid_to": None,
        }
        if kind is not None:
            changes["kind"] = _enum(BeliefKind, kind, "kind")
        vector = self._c.embedder.embed_one(statement)
        with self._c.store.transaction():
            updated = self._user_change(
                belief.id, BeliefEventType.EDITED, details={"previous": belief.statement}, **changes
            )
            self._c.store.put_vectors(
                self.workspace.id,
                belief.user_id,
                BELIEF_VECTORS,
                self._c.embedder.name,
                [(belief.id, vector)],
            )
        return updated

    def mark_outdated(self, belief_id: str) -> Belief:
        """The user says "no longer true": the belief ends now and leaves the active model."""
        return self._user_change(
            belief_id, BeliefEventType.SUPERSEDED, status=BeliefStatus.SUPERSEDED, valid_to=utcnow()
        )

    def add_belief(
        self,
        user: str,
        statement: str,
        *,
        kind: BeliefKind | str = BeliefKind.FACT,
        context: str | None = None,
    ) -> Belief:
        """A belief the user writes in their own words (origin ``edited``, high confidence)."""
        statement = _check_statement(statement)
        kind_ = _enum(BeliefKind, kind, "kind")
        u = self.user(user)
        vector = self._c.embedder.embed_one(statement)
        now = utcnow()
        store = self._c.store
        with store.transaction():
            ctx = store.get_or_create_context(self.workspace.id, context) if context else None
            belief = Belief(
                id=new_id("bel"),
                workspace_id=self.workspace.id,
                user_id=u.id,
                context_id=ctx.id if ctx else None,
                statement=statement,
                kind=kind_,
                confidence=USER_CONFIRMED_CONFIDENCE,
                origin=BeliefOrigin.EDITED,
                status=BeliefStatus.ACTIVE,
                valid_from=now,
                created_at=now,
                updated_at=now,
            )
            store.insert_belief(belief)
            store.put_vectors(
                self.workspace.id,
                u.id,
                BELIEF_VECTORS,
                self._c.embedder.name,
                [(belief.id, vector)],
            )
            self._record(belief, BeliefEventType.CREATED, None, belief.confidence, cause="user")
        self._c.retriever.invalidate(self.workspace.id, u.id)
        return belief

    def _user_change(
        self,
        belief_id: str,
        event: BeliefEventType,
        *,
        details: dict[str, Any] | None = None,
        **changes: Any,
    ) -> Belief:
        store = self._c.store
        with store.transaction():
            belief = self._get_belief(belief_id)
            updated = belief.model_copy(update={**changes, "updated_at": utcnow()})
            store.update_belief(updated)
            self._record(
                updated, event, belief.confidence, updated.confidence, cause="user", details=details
            )
        self._c.retriever.invalidate(self.workspace.id, belief.user_id)
        return updated

    def _record(
        self,
        belief: Belief,
        event: BeliefEventType,
        before: float | None,
        after: float | None,
        *,
        cause: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        self._c.store.append_event(
            BeliefEvent(
                id=new_id("evt"),
                workspace_id=belief.workspace_id,
                user_id=belief.user_id,
                belief_id=belief.id,
                type=event,
                at=utcnow(),
                cause=cause,
                confidence_before=before,
                confidence_after=after,
                details=details or {},
            )
        )

    # -- time --------------------------------------------------------------------------------
    def decay(self, user: str, *, now: datetime | None = None) -> list[Belief]:
        """Let unreinforced inferred beliefs fade toward their prior; returns those that changed."""
        from selfmodel.revision.confidence import confidence as confidence_at

        now = to_utc(now) if now else utcnow()
        changed: list[Belief] = []
        store = self._c.store
        with store.transaction():
            for belief in self.beliefs(user):
                if belief.origin in (BeliefOrigin.CONFIRMED, BeliefOrigin.EDITED):
                    continue
                state = EvidenceState(belief.evidence_logit, belief.last_evidence_at)
                current = confidence_at(state, belief.kind, now)
                decayed = has_decayed(state, belief.kind, now)
                if abs(current - belief.confidence) < 1e-3 and not decayed:
                    continue
                updated = belief.model_copy(
                    update={
                        "confidence": current,
                        "status": BeliefStatus.DECAYED if decayed else belief.status,
                        "updated_at": utcnow(),
                    }
                )
                store.update_belief(updated)
                self._record(
                    updated,
                    BeliefEventType.DECAYED,
                    belief.confidence,
                    current,
                    cause="decay",
                    details={"as_of": now.isoformat()},
                )
                changed.append(updated)
        if changed:
            self._c.retriever.invalidate(self.workspace.id, changed[0].user_id)
        return changed

    # -- export and forget -------------------------------------------------------------------
    def export(self, user: str) -> dict[str, Any]:
        """Everything stored about ``user``, as JSON-ready data."""
        u = self.user(user)
        store = self._c.store
        ws = self.workspace.id
        beliefs = store.list_beliefs(ws, BeliefFilter(user_ids=(u.id,), statuses=()))
        evidence = store.list_evidence(ws, [b.id for b in beliefs])
        return {
            "format": "selfmodel.export/1",
            "exported_at": utcnow().isoformat(),
            "workspace": self.workspace.name,
            "user": u.model_dump(mode="json"),
            "observations": [
                o.model_dump(mode="json") for o in store.list_observations(ws, [u.id])
            ],
            "beliefs": [b.model_dump(mode="json") for b in beliefs],
            "evidence": [e.model_dump(mode="json") for e in evidence],
            "history": [e.model_dump(mode="json") for e in store.list_events(ws, user_id=u.id)],
            "prompts": [p.model_dump(mode="json") for p in store.list_prompts(ws, u.id)],
        }

    def forget(self, user: str) -> DeletedCounts:
        """Hard-delete every row about ``user``: observations, beliefs, history, vectors, traces."""
        u = self.user(user)
        counts = self._c.store.delete_user(self.workspace.id, u.id)
        self._c.retriever.invalidate(self.workspace.id, u.id)
        return counts

    # -- the Mirror: links and resonance cards (see docs/mirror.md) --------------------------
    def user_by_id(self, user_id: str) -> User:
        """A user by selfmodel's own id (what Mirror sessions carry)."""
        found = self._c.store.get_user_by_id(self.workspace.id, user_id)
        if found is None:
            raise UserNotFoundError(f"no user with id {user_id!r} in this workspace")
        return found

    def timeline(self, user: str) -> list[BeliefEvent]:
        """Every change to the user's self-model, newest first."""
        u = self.user(user)
        return list(reversed(self._c.store.list_events(self.workspace.id, user_id=u.id)))

    def mirror_secret(self) -> str:
        """The secret Mirror tokens of this workspace are signed with.

        ``SELFMODEL_MIRROR_SECRET`` when set; otherwise a random secret generated once per
        workspace and kept in the database, so links survive restarts without configuration.
        """
        if self._c.settings.mirror_secret:
            return self._c.settings.mirror_secret
        return self._c.store.mirror_secret(self.workspace.id, secrets.token_urlsafe(32))

    def create_mirror_link(self, user: str, *, ttl_s: int | None = None) -> MirrorLink:
        """Record a new Mirror link for ``user`` valid for ``ttl_s`` seconds (signing is the
        Mirror's job; this row is what lets a link expire and be revoked)."""
        ttl = self._c.settings.mirror_link_ttl_s if ttl_s is None else ttl_s
        if not MIN_MIRROR_LINK_TTL_S <= ttl <= MAX_MIRROR_LINK_TTL_S:
            raise InvalidInputError(
                f"ttl_s must be between {MIN_MIRROR_LINK_TTL_S} and {MAX_MIRROR_LINK_TTL_S}",
                field="ttl_s",
            )
        u = self.user(user)
        now = utcnow()
        link = MirrorLink(
            id=new_id("mlk"),
            workspace_id=self.workspace.id,
            user_id=u.id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
        self._c.store.insert_mirror_link(link)
        return link

    def mirror_link(self, link_id: str) -> MirrorLink:
        found = self._c.store.get_mirror_link(self.workspace.id, link_id)
        if found is None:
            raise MirrorLinkNotFoundError(f"no Mirror link {link_id!r} in this workspace")
        return found

    def revoke_mirror_links(self, user: str, link_id: str | None = None) -> int:
        """Revoke one of the user's Mirror links (or all); open sessions end with them."""
        u = self.user(user)
        if link_id is not None:
            link = self._c.store.get_mirror_link(self.workspace.id, link_id)
            if link is None or link.user_id != u.id:
                raise MirrorLinkNotFoundError(f"user {user!r} has no Mirror link {link_id!r}")
        return self._c.store.revoke_mirror_links(
            self.workspace.id, u.id, utcnow(), link_id=link_id
        )

    def push_prompts(
        self,
        user: str,
        statements: Sequence[str | Mapping[str, Any]],
        *,
        source: str | None = None,
    ) -> list[ResonancePrompt]:
        """Offer the user candidate statements ("resonance cards") to select in the Mirror.

        Each item is a statement, or a mapping with ``statement`` and optional ``kind``.
        """
        _check_user_id(user)
        if not statements:
            raise InvalidInputError("at least one statement is needed")
        if len(statements) > MAX_PROMPTS_PER_CALL:
            raise InvalidInputError(f"at most {MAX_PROMPTS_PER_CALL} statements per call")
        if source is not None and len(source) > MAX_PROMPT_SOURCE_CHARS:
            raise InvalidInputError(f"source is longer than {MAX_PROMPT_SOURCE_CHARS} characters")
        parsed: list[tuple[str, BeliefKind]] = []
        for item in statements:
            if isinstance(item, Mapping):
                kind = _enum(BeliefKind, item.get("kind", BeliefKind.FACT), "kind")
                parsed.append((_check_statement(item.get("statement")), kind))
            else:
                parsed.append((_check_statement(item), BeliefKind.FACT))
        store = self._c.store
        with store.transaction():
            u = store.get_or_create_user(self.workspace.id, user)
            prompts = [
                ResonancePrompt(
                    id=new_id("prm"),
                    workspace_id=self.workspace.id,
                    user_id=u.id,
                    statement=statement,
                    kind=kind,
                    source=source,
                    created_at=utcnow(),
                )
                for statement, kind in parsed
            ]
            store.insert_prompts(prompts)
        return prompts

    def prompts(self, user: str, *, open_only: bool = False) -> list[ResonancePrompt]:
        """The user's resonance cards, oldest first (``open_only``: not answered yet)."""
        u = self.user(user)
        return self._c.store.list_prompts(self.workspace.id, u.id, open_only=open_only)

    def answer_prompts(self, user: str, answers: Mapping[str, bool]) -> list[ResonancePrompt]:
        """Record which resonance cards the user selected; a selection is explicit evidence.

        A selected card becomes an observation of kind ``selection`` that creates or reinforces
        the belief it states, through the same reviser as everything else. A card shown but not
        selected is recorded and changes no belief. Cards already answered stay as they are, so
        a resubmitted form changes nothing. Returns the cards answered by this call.
        """
        u = self.user(user)
        store = self._c.store
        by_id = {p.id: p for p in store.list_prompts(self.workspace.id, u.id)}
        unknown = sorted(pid for pid in answers if pid not in by_id)
        if unknown:
            raise PromptNotFoundError(f"user {user!r} has no prompt {unknown[0]!r}")
        todo = [(by_id[pid], bool(sel)) for pid, sel in answers.items() if by_id[pid].is_open]
        chosen = sorted({p.statement for p, sel in todo if sel})
        vectors = dict(zip(chosen, self._c.embedder.embed(chosen), strict=True)) if chosen else {}
        answered: list[ResonancePrompt] = []
        with store.transaction():
            for prompt, selected in todo:
                now = utcnow()
                changes: dict[str, Any] = {"answered_at": now, "selected": selected}
                if selected:
                    changes.update(self._select(u, prompt, vectors[prompt.statement], now))
                done = prompt.model_copy(update=changes)
                if store.answer_prompt(done):
                    answered.append(done)
        if any(p.selected for p in answered):
            self._c.retriever.invalidate(self.workspace.id, u.id)
        return answered

    def _select(
        self, user: User, prompt: ResonancePrompt, vector: Any, now: datetime
    ) -> dict[str, Any]:
        """Store a selection as an observation and revise the self-model with it."""
        observation = Observation(
            id=new_id("obs"),
            workspace_id=self.workspace.id,
            user_id=user.id,
            content=prompt.statement,
            occurred_at=now,
            recorded_at=now,
            kind=ObservationKind.SELECTION,
            role=Role.USER,
            source=MIRROR_SOURCE,
            # The prompt id as external id: a selection is recorded once, however often sent.
            external_id=f"prompt:{prompt.id}",
            metadata={"prompt_id": prompt.id, "prompt_source": prompt.source},
        )
        if not self._c.store.insert_observations([observation]):
            return {}
        self._c.store.put_vectors(
            self.workspace.id,
            user.id,
            OBSERVATION_VECTORS,
            self._c.embedder.name,
            [(observation.id, vector)],
        )
        candidate = CandidateBelief(
            statement=prompt.statement,
            kind=prompt.kind,
            observation_id=observation.id,
            origin=BeliefOrigin.STATED,
            quote=prompt.statement,
        )
        outcome = self._c.reviser.apply(
            self.workspace.id,
            user.id,
            [candidate],
            {observation.id: observation},
            {prompt.statement: vector},
        )
        touched = outcome.created + outcome.reinforced
        return {"observation_id": observation.id, "belief_id": touched[0] if touched else None}

    # -- settings ----------------------------------------------------------------------------
    def set_pii_policy(self, policy: PiiPolicy | str) -> None:
        """How this workspace treats PII: ``redact`` (default), ``keep`` or ``reject``."""
        value = _enum(PiiPolicy, policy, "pii_policy")
        settings = {**self.workspace.settings, "pii_policy": value.value}
        self.workspace = self._c.store.update_workspace_settings(self.workspace.id, settings)


def _enum(cls: Any, value: Any, field: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise InvalidInputError(
            f"{field} {value!r} is not one of: {allowed}", field=field
        ) from None


def _check_user_id(user: Any) -> None:
    if not isinstance(user, str) or not user.strip():
        raise InvalidInputError("user must be a non-empty string (the product's own user id)")
    if len(user) > MAX_USER_ID_CHARS:
        raise InvalidInputError(f"user id is longer than {MAX_USER_ID_CHARS} characters")


def _check_statement(statement: Any) -> str:
    if not isinstance(statement, str) or not statement.strip():
        raise InvalidInputError("statement must be a non-empty string")
    if len(statement) > MAX_STATEMENT_CHARS:
        raise InvalidInputError(f"statement is longer than {MAX_STATEMENT_CHARS} characters")
    return statement.strip()


__all__ = ["SelfModel", "extractor_from_settings"]
