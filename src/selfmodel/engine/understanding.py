"""Understanding observations: extract and embed them (slow, writes nothing), then revise.

``prepare`` runs before a unit of work begins, so no lock is held while a model thinks;
``revise`` runs inside the unit that holds the user. Every path by which evidence enters the
self-model — ``observe``, queued jobs, Mirror selections — goes through these two.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from selfmodel.domain import Facet, Observation, Role, User
from selfmodel.embedding import Embedder
from selfmodel.engine.base import Components
from selfmodel.extraction import CandidateBelief, ExtractionRequest
from selfmodel.extraction.wording import core
from selfmodel.revision import RevisionOutcome
from selfmodel.storage import OBSERVATION_VECTORS

# Turns before each message handed to the extractor, to resolve "it", "that one", "the second one".
CONTEXT_TURNS = 3
# Observing this many messages or fewer (a chat turn) embeds them with their statements in one
# pass; more are embedded while they are read (see ``prepare``).
ONE_PASS_MESSAGES = 1
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


@dataclass(frozen=True)
class Understanding:
    """What extraction and embedding made of some observations, before the revision uses it."""

    user: User
    observations: list[Observation]
    candidates: list[CandidateBelief]
    observation_vectors: list[tuple[str, np.ndarray]]
    statement_vectors: dict[str, np.ndarray]
    # The observations were stored by the unit of work that revises them (nothing cites them).
    stored_here: bool = False

    def narrowed(self, user: User, stored: Sequence[Observation]) -> Understanding:
        """The same understanding for the observations the caller's unit of work just stored
        (a concurrent call may have stored some first) and the user as stored."""
        ids = {o.id for o in stored}
        return Understanding(
            user=user,
            observations=list(stored),
            candidates=[c for c in self.candidates if c.observation_id in ids],
            observation_vectors=[(i, v) for i, v in self.observation_vectors if i in ids],
            statement_vectors=self.statement_vectors,
            stored_here=True,
        )


def prepare(
    c: Components,
    user: User,
    observations: Sequence[Observation],
    earlier: Sequence[Observation] | None = None,
) -> Understanding:
    """Extract candidates and embed texts: no store writes, so it can run outside a lock.

    ``earlier``: the user's last ``CONTEXT_TURNS`` observations before the first of
    ``observations``, if the caller has read them (with the user); read here otherwise.
    """
    ordered = sorted(observations, key=lambda o: (o.occurred_at, o.id))
    if earlier is None:
        earlier = (
            c.store.list_observations_before(
                user.workspace_id, user.id, ordered[0].occurred_at, CONTEXT_TURNS
            )
            if ordered
            else []
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
    if 0 < len(observations) <= ONE_PASS_MESSAGES:
        return _prepared_in_one_pass(c, user, observations, requests)
    # The messages are embedded while they are read: the embedder (native code that releases
    # the GIL) works on one core while the parser and the rules work on the other. The
    # statements are embedded as soon as they are known, beside the messages' pass if it is
    # still running (the embedder runs passes on different threads at once).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="selfmodel-embed") as pool:
        embedding = pool.submit(c.embedder.embed, [o.content for o in observations])
        candidates: list[CandidateBelief] = c.extractor.extract(requests) if requests else []
        statements, compared = _statements(user, requests, candidates)
        vectors: dict[str, np.ndarray] = {}
        if statements:
            vectors = dict(zip(statements, c.embedder.embed(compared), strict=True))
        contents = embedding.result()
    return Understanding(
        user=user,
        observations=list(observations),
        candidates=candidates,
        observation_vectors=[(o.id, contents[i]) for i, o in enumerate(observations)],
        statement_vectors=vectors,
    )


def _prepared_in_one_pass(
    c: Components,
    user: User,
    observations: Sequence[Observation],
    requests: Sequence[ExtractionRequest],
) -> Understanding:
    """``prepare`` for a chat turn: read first, then embed the message and its statements in
    one pass. A pass over two short texts costs little more than over one, so a turn costs one
    pass of the machine instead of two (overlapping the parse saves time only on long batches)."""
    candidates: list[CandidateBelief] = c.extractor.extract(requests) if requests else []
    statements, compared = _statements(user, requests, candidates)
    contents = [o.content for o in observations]
    embedded = c.embedder.embed([*contents, *compared])
    return Understanding(
        user=user,
        observations=list(observations),
        candidates=candidates,
        observation_vectors=[(o.id, embedded[i]) for i, o in enumerate(observations)],
        statement_vectors=dict(zip(statements, embedded[len(contents) :], strict=True)),
    )


def _statements(
    user: User, requests: Sequence[ExtractionRequest], candidates: Sequence[CandidateBelief]
) -> tuple[list[str], list[str]]:
    """The statements the candidates make or deny, and each as it is compared (names out)."""
    names = person_names(user) | {r.subject for r in requests}
    statements = sorted(
        {c.statement for c in candidates} | {c.contradicts for c in candidates if c.contradicts}
    )
    return statements, [core(s, names) for s in statements]


def revise(c: Components, prepared: Understanding) -> RevisionOutcome:
    """Store the vectors and fold the candidates in (inside the caller's unit of work,
    which holds the user)."""
    user = prepared.user
    outcome = c.reviser.apply(
        user.workspace_id,
        user.id,
        prepared.candidates,
        {o.id: o for o in prepared.observations},
        prepared.statement_vectors,
        new_observations=[o.id for o in prepared.observations] if prepared.stored_here else (),
    )
    # After the revision, which reads none of them: on PostgreSQL the vectors of observations
    # stored in this unit of work then go with its last statement, not before the reviser's
    # reading of the user's beliefs and their vectors.
    c.store.put_vectors(
        user.workspace_id,
        user.id,
        OBSERVATION_VECTORS,
        c.embedder.name,
        prepared.observation_vectors,
        new_items=prepared.stored_here,
    )
    introduced = next(
        (c.frame.value for c in prepared.candidates if c.frame.facet is Facet.NAME), None
    )
    if introduced and not user.display_name:
        # "Hi, I'm Maya": the person told us their name; statements use it from now on.
        user = c.store.set_display_name(user.workspace_id, user.id, introduced)
    if outcome.created or outcome.reinforced:
        name = user.display_name or next(
            (o.speaker for o in reversed(prepared.observations) if o.speaker), NEUTRAL_SUBJECT
        )
        outcome.traits = c.traits.refresh(user.workspace_id, user.id, name, outcome.revisable)
    return outcome
