"""Observing: validate, redact, store observations, then extract and revise (or queue it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from selfmodel.deprecation import renamed_keyword
from selfmodel.domain import (
    Job,
    JobKind,
    Observation,
    ObserveResult,
    User,
    new_id,
)
from selfmodel.domain.jobs import DEFAULT_MAX_ATTEMPTS
from selfmodel.domain.text import check_text
from selfmodel.domain.time import parse_timestamp, to_utc, utcnow
from selfmodel.engine.base import (
    EngineBase,
    check_user_id,
)
from selfmodel.engine.understanding import CONTEXT_TURNS, prepare, revise
from selfmodel.ingest.files import Batch
from selfmodel.ingest.messages import Message, MessagesInput, parse_messages
from selfmodel.privacy import PiiPolicy, apply_policy
from selfmodel.revision import RevisionOutcome
from selfmodel.telemetry import (
    INGEST_SPAN,
    OBSERVE_SPAN,
    UPDATE_MEMORY,
    revision_attributes,
)

# Messages per observe() call when ingesting files: one transaction each. Ingest is bound by the
# embedder; 64 messages make one pass on every core instead of four on the embedding thread's one
# (`bench extraction` on LoCoMo 26 and 30: 41.5 and 49.1 turns/s, against 29.7 and 37.9 with 16),
# and the progress bar still moves every second or two.
INGEST_CHUNK = 64


@dataclass
class IngestSummary:
    new: int = 0
    duplicates: int = 0
    created: int = 0


class Observing(EngineBase):
    """``observe`` and ``ingest``: how evidence enters the self-model."""

    # -- observe -----------------------------------------------------------------------------
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
    ) -> ObserveResult:
        """Record what ``user`` said or did and update their self-model.

        ``messages`` is a string, a mapping (``content``, ``role``, ``speaker``, ``occurred_at``,
        ``id``, ``kind``, ``source``, ``metadata``) or a list of them. ``area`` is where it
        happened (an app surface, a topic, a project); ``context`` is its deprecated name.
        Messages with an ``id`` seen before for this user are skipped, so re-ingesting changes
        nothing. Everything is validated before anything is written; the whole call is one
        transaction.

        With ``wait=False`` the observations are stored and one ``understand`` job is queued in
        that same transaction; a worker (``selfmodel worker`` or :meth:`process_jobs`) updates
        the self-model later, and :meth:`wait_for` waits for it.
        """
        area = renamed_keyword(area, context, new="area", old="context")  # warns at the caller
        with self._c.telemetry.span(OBSERVE_SPAN, UPDATE_MEMORY, self.workspace) as span:
            span.set(
                {
                    "selfmodel.wait": wait,
                    "selfmodel.extractor": self._c.extractor.name,
                }
            )
            result = self._observe(user, messages, area, at, source, wait)
            span.set(
                {
                    # Only once validated: a refused id is not echoed into anyone's traces.
                    **self._c.telemetry.user_attributes(self.workspace, [user]),
                    "selfmodel.observations.new": len(result.new_observation_ids),
                    "selfmodel.observations.duplicates": result.duplicates,
                    "selfmodel.redactions": result.redactions,
                    "selfmodel.job_id": result.job_id,
                    **revision_attributes(result),
                }
            )
            return result

    def _observe(
        self,
        user: str,
        messages: MessagesInput,
        area: str | None,
        at: datetime | str | None,
        source: str | None,
        wait: bool,
    ) -> ObserveResult:
        check_user_id(user)
        check_text(area, "area")
        check_text(source, "source")
        limits = self._c.settings.limits
        parsed = parse_messages(
            messages, max_chars=limits.max_message_chars, max_batch=limits.max_batch_messages
        )
        default_at = parse_timestamp(at, field="at") if at is not None else utcnow()
        policy = PiiPolicy(self.workspace.settings.get("pii_policy", PiiPolicy.REDACT))
        redacted = [apply_policy(m.content, policy) for m in parsed]  # may refuse: nothing written

        store = self._c.store
        ws = self.workspace.id
        # The user and what they said just before the first message, in one read.
        first_at = min((_occurred_at(m, default_at) for m in parsed), default=default_at)
        existing, earlier = store.get_user_with_turns_before(ws, user, first_at, CONTEXT_TURNS)
        known_ids = (
            store.existing_external_ids(ws, existing.id, [m.id for m in parsed if m.id])
            if existing
            else set()
        )
        recorded_at = utcnow()
        # Until the unit of work stores them, a new user and the area are provisional: the
        # observations are built (and understood) against them and re-pointed afterwards.
        subject = existing or User(
            id=new_id("usr"), workspace_id=ws, external_id=user, created_at=recorded_at
        )
        fresh: list[Observation] = []
        seen: set[str] = set()
        for message, clean in zip(parsed, redacted, strict=True):
            if message.id and (message.id in known_ids or message.id in seen):
                continue
            if message.id:
                seen.add(message.id)
            fresh.append(
                self._observation(subject, message, clean.text, default_at, recorded_at, source)
            )
        # Extraction and embedding write nothing: done before the unit of work, so no lock is
        # held while they run (an LLM extractor may take seconds).
        # (Those turns are the ones before the first new message unless it was a duplicate.)
        before_first = min((o.occurred_at for o in fresh), default=None) == first_at
        prepared = (
            prepare(self._c, subject, fresh, earlier if before_first else None)
            if wait and fresh
            else None
        )
        outcome = RevisionOutcome()
        job: Job | None = None
        with self._c.units.begin() as unit:
            u = existing or store.get_or_create_user(ws, user)
            unit.hold(ws, u.id)
            place = store.get_or_create_context(ws, area) if area else None
            placed = [
                o.model_copy(update={"user_id": u.id, "area_id": place.id if place else None})
                for o in fresh
            ]
            inserted = store.insert_observations(placed, new_ids=True)  # made by _observation
            if prepared is not None and inserted:
                outcome = revise(self._c, prepared.narrowed(u, inserted))
            elif not wait and inserted:
                job = store.enqueue_job(
                    ws,
                    u.id,
                    JobKind.UNDERSTAND,
                    {"observation_ids": [o.id for o in inserted]},
                    max_attempts=DEFAULT_MAX_ATTEMPTS,
                )
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
        with self._c.telemetry.span(INGEST_SPAN, UPDATE_MEMORY, self.workspace) as span:
            span.set(
                {
                    "selfmodel.wait": wait,
                    "selfmodel.extractor": self._c.extractor.name,
                    "selfmodel.batches": len(batches),
                    "selfmodel.messages": sum(len(b.messages) for b in batches),
                }
            )
            summary = self._ingest(batches, chunk_size, on_progress, wait)
            span.set(
                {
                    "selfmodel.observations.new": summary.new,
                    "selfmodel.observations.duplicates": summary.duplicates,
                    "selfmodel.beliefs.created": summary.created,
                }
            )
            return summary

    def _ingest(
        self,
        batches: Sequence[Batch],
        chunk_size: int,
        on_progress: Callable[[int], None] | None,
        wait: bool,
    ) -> IngestSummary:
        limits = self._c.settings.limits
        for batch in batches:
            check_user_id(batch.user)
            parse_messages(
                batch.messages,
                max_chars=limits.max_message_chars,
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
        default_at: datetime,
        recorded_at: datetime,
        source: str | None,
    ) -> Observation:
        return Observation(
            id=new_id("obs"),
            workspace_id=self.workspace.id,
            user_id=user.id,
            content=content,
            occurred_at=_occurred_at(message, default_at),
            recorded_at=recorded_at,
            kind=message.kind,
            role=message.role,
            speaker=message.speaker,
            source=message.source or source,
            external_id=message.id,
            metadata=message.metadata,
        )


def _occurred_at(message: Message, default_at: datetime) -> datetime:
    """When a message happened: its own time, else the call's."""
    return to_utc(message.occurred_at) if message.occurred_at else default_at
