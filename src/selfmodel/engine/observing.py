"""Observing: validate, redact, store observations, then extract and revise (or queue it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from selfmodel.domain import (
    Facet,
    Job,
    JobKind,
    Observation,
    ObserveResult,
    Role,
    User,
    new_id,
)
from selfmodel.domain.jobs import DEFAULT_MAX_ATTEMPTS
from selfmodel.domain.time import parse_timestamp, to_utc, utcnow
from selfmodel.embedding import Embedder
from selfmodel.engine.base import (
    EngineBase,
    check_user_id,
)
from selfmodel.extraction import CandidateBelief, ExtractionRequest
from selfmodel.extraction.wording import core
from selfmodel.ingest.files import Batch
from selfmodel.ingest.messages import Message, MessagesInput, parse_messages
from selfmodel.privacy import PiiPolicy, apply_policy
from selfmodel.retrieval.retriever import OBSERVATION_VECTORS
from selfmodel.revision import RevisionOutcome

# Messages per observe() call when ingesting files: one transaction each, and a lively progress bar.
INGEST_CHUNK = 16
# Turns before each message handed to the extractor, to resolve "it", "that one", "the second one".
CONTEXT_TURNS = 3
# How a statement names a person the product has given no display name: never the raw user id.
NEUTRAL_SUBJECT = "The user"


def subject_name(user: User, observation: Observation) -> str:
    """Whom beliefs from ``observation`` are about, as statements name them."""
    return user.display_name or observation.speaker or NEUTRAL_SUBJECT


def person_names(user: User) -> set[str]:
    """The names statements may call ``user`` by (taken out before statements are compared)."""
    return {n for n in (user.display_name, user.external_id, NEUTRAL_SUBJECT) if n}


def statement_vectors(
    embedder: Embedder, statements: Sequence[str], names: Iterable[str | None]
) -> dict[str, np.ndarray]:
    """Vectors the reviser compares statements by: each embedded without the person's names,
    which would make any two statements about one person look alike (``wording.core``)."""
    unique = sorted(set(statements))
    known = [n for n in names if n]
    if not unique:
        return {}
    return dict(zip(unique, embedder.embed([core(s, known) for s in unique]), strict=True))


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


class Observing(EngineBase):
    """``observe`` and ``ingest``: how evidence enters the self-model."""

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
        check_user_id(user)
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
            check_user_id(batch.user)
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
        ordered = sorted(observations, key=lambda o: (o.occurred_at, o.id))
        earlier: list[Observation] = []
        if ordered:
            earlier = self._c.store.list_observations_before(
                user.workspace_id, user.id, ordered[0].occurred_at, CONTEXT_TURNS
            )
        conversation = [*earlier, *ordered]
        requests = [
            ExtractionRequest(
                observation=o,
                subject=subject_name(user, o),
                preceding=tuple(conversation[max(0, i - CONTEXT_TURNS) : i]),
            )
            for i, o in enumerate(conversation)
            if i >= len(earlier) and o.role == Role.USER
        ]
        candidates: list[CandidateBelief] = self._c.extractor.extract(requests) if requests else []
        names = person_names(user) | {r.subject for r in requests}
        statements = sorted(
            {c.statement for c in candidates} | {c.contradicts for c in candidates if c.contradicts}
        )
        texts = [o.content for o in observations] + [core(s, names) for s in statements]
        vectors = self._c.embedder.embed(texts)
        n = len(observations)
        return _Understanding(
            user=user,
            observations=list(observations),
            candidates=candidates,
            observation_vectors=[(o.id, vectors[i]) for i, o in enumerate(observations)],
            statement_vectors={t: vectors[n + i] for i, t in enumerate(statements)},
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
        outcome = self._c.reviser.apply(
            user.workspace_id,
            user.id,
            prepared.candidates,
            {o.id: o for o in prepared.observations},
            prepared.statement_vectors,
        )
        introduced = next(
            (c.frame.value for c in prepared.candidates if c.frame.facet is Facet.NAME), None
        )
        if introduced and not user.display_name:
            # "Hi, I'm Maya": the person told us their name; statements use it from now on.
            user = self._c.store.set_display_name(user.workspace_id, user.id, introduced)
        if outcome.created or outcome.reinforced:
            name = user.display_name or next(
                (o.speaker for o in reversed(prepared.observations) if o.speaker), NEUTRAL_SUBJECT
            )
            outcome.traits = self._c.traits.refresh(user.workspace_id, user.id, name)
        return outcome
