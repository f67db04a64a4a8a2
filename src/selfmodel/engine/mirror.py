"""The Mirror's engine side: signed-link records and resonance cards (see docs/mirror.md)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from selfmodel.config import MAX_MIRROR_LINK_TTL_S, MIN_MIRROR_LINK_TTL_S
from selfmodel.deprecation import warn_renamed
from selfmodel.domain import (
    Belief,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    BeliefUses,
    MirrorLink,
    Observation,
    ObservationKind,
    ResonanceCard,
    Role,
    User,
    new_id,
)
from selfmodel.domain.time import utcnow
from selfmodel.engine.base import (
    EngineBase,
    check_statement,
    check_user_id,
    parse_enum,
)
from selfmodel.engine.understanding import (
    Understanding,
    person_names,
    revise,
    statement_vectors,
)
from selfmodel.errors import (
    BeliefNotFoundError,
    CardNotFoundError,
    InvalidInputError,
    MirrorLinkNotFoundError,
)
from selfmodel.extraction import CandidateBelief
from selfmodel.storage import OBSERVATION_VECTORS

# Resonance cards: a handful at a time is what a person will read.
MAX_CARDS_PER_CALL = 20
MAX_CARD_SOURCE_CHARS = 200
MIRROR_SOURCE = "mirror"
# Card ids keep the prefix of the cards' old name ("prompts"): ids are stored and handed out.
CARD_ID_PREFIX = "prm"
# How a check-in answer reads as an observation: what the person picked, then the statement.
CHECK_IN_YES = "Still true of me"
CHECK_IN_NO = "No longer true of me"


class MirrorFeatures(EngineBase):
    """Mirror links and resonance cards; a selection is explicit evidence."""

    # -- the Mirror: links and resonance cards (see docs/mirror.md) --------------------------
    def mirror_secret(self) -> str:
        """The secret Mirror tokens of this workspace are signed with.

        ``SELFMODEL_MIRROR_SECRET`` when set; otherwise a random secret generated once per
        workspace and kept in the database, so links survive restarts without configuration.
        """
        configured = self._c.settings.mirror.mirror_secret
        if configured:
            return configured
        return self._c.store.mirror_secret(self.workspace.id, secrets.token_urlsafe(32))

    def create_mirror_link(self, user: str, *, ttl_s: int | None = None) -> MirrorLink:
        """Record a new Mirror link for ``user`` valid for ``ttl_s`` seconds (signing is the
        Mirror's job; this row is what lets a link expire and be revoked)."""
        ttl = self._c.settings.mirror.mirror_link_ttl_s if ttl_s is None else ttl_s
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
        with self._c.units.user(self.workspace.id, u.id):
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
        with self._c.units.user(self.workspace.id, u.id):
            return self._c.store.revoke_mirror_links(
                self.workspace.id, u.id, utcnow(), link_id=link_id
            )

    def push_cards(
        self,
        user: str,
        statements: Sequence[str | Mapping[str, Any]],
        *,
        source: str | None = None,
    ) -> list[ResonanceCard]:
        """Offer the user candidate statements ("resonance cards") to select in the Mirror.

        Each item is a statement, or a mapping with ``statement`` and optional ``kind``. Raises
        ``UserNotFoundError`` for a user never observed.
        """
        check_user_id(user)
        if not statements:
            raise InvalidInputError("at least one statement is needed")
        if len(statements) > MAX_CARDS_PER_CALL:
            raise InvalidInputError(f"at most {MAX_CARDS_PER_CALL} statements per call")
        if source is not None and len(source) > MAX_CARD_SOURCE_CHARS:
            raise InvalidInputError(f"source is longer than {MAX_CARD_SOURCE_CHARS} characters")
        parsed: list[tuple[str, BeliefKind]] = []
        for item in statements:
            if isinstance(item, Mapping):
                kind = parse_enum(BeliefKind, item.get("kind", BeliefKind.FACT), "kind")
                parsed.append((check_statement(item.get("statement")), kind))
            else:
                parsed.append((check_statement(item), BeliefKind.FACT))
        store = self._c.store
        # Cards are about what a user already said: an unknown user is an error, as everywhere
        # but observe (which is how users come to exist).
        u = self.user(user)
        with self._c.units.begin() as unit:
            unit.hold(self.workspace.id, u.id)
            cards = [
                ResonanceCard(
                    id=new_id(CARD_ID_PREFIX),
                    workspace_id=self.workspace.id,
                    user_id=u.id,
                    statement=statement,
                    kind=kind,
                    source=source,
                    created_at=utcnow(),
                )
                for statement, kind in parsed
            ]
            store.insert_prompts(cards)  # the storage layer's name for cards
        return cards

    def cards(self, user: str, *, open_only: bool = False) -> list[ResonanceCard]:
        """The user's resonance cards, oldest first (``open_only``: not answered yet)."""
        u = self.user(user)
        return self._c.store.list_prompts(self.workspace.id, u.id, open_only=open_only)

    def answer_cards(self, user: str, answers: Mapping[str, bool]) -> list[ResonanceCard]:
        """Record which resonance cards the user selected; a selection is explicit evidence.

        A selected card becomes an observation of kind ``selection`` that creates or reinforces
        the belief it states, through the same reviser as everything else. A card shown but not
        selected is recorded and changes no belief. Cards already answered stay as they are, so
        a resubmitted form changes nothing. Returns the cards answered by this call.
        """
        u = self.user(user)
        store = self._c.store
        by_id = {c.id: c for c in store.list_prompts(self.workspace.id, u.id)}
        unknown = sorted(cid for cid in answers if cid not in by_id)
        if unknown:
            raise CardNotFoundError(f"user {user!r} has no card {unknown[0]!r}")
        todo = [(by_id[cid], bool(sel)) for cid, sel in answers.items() if by_id[cid].is_open]
        chosen = sorted({c.statement for c, sel in todo if sel})
        texts = dict(zip(chosen, self._c.embedder.embed(chosen), strict=True)) if chosen else {}
        cores = statement_vectors(self._c.embedder, chosen, person_names(u))
        answered: list[ResonanceCard] = []
        with self._c.units.user(self.workspace.id, u.id):
            for card, selected in todo:
                now = utcnow()
                changes: dict[str, Any] = {"answered_at": now, "selected": selected}
                if selected:
                    changes.update(self._select(u, card, texts[card.statement], cores, now))
                done = card.model_copy(update=changes)
                if store.answer_prompt(done):
                    answered.append(done)
        return answered

    def check_in(self, user: str, belief_id: str, *, holds: bool) -> Belief:
        """The person's answer to "Is this still you?" about one of their active beliefs.

        The answer is an observation of kind ``selection`` (source ``mirror``): yes is evidence
        for the belief as strong as a selected card, no contradicts it and ends it then. Raises
        ``BeliefNotFoundError`` for a belief that is not this user's, ``InvalidInputError`` for
        one that is no longer current.
        """
        u = self.user(user)
        belief = self._c.store.get_belief(self.workspace.id, belief_id)
        if belief is None or belief.user_id != u.id:
            raise BeliefNotFoundError(f"user {user!r} has no belief {belief_id!r}")
        if belief.status is not BeliefStatus.ACTIVE:
            raise InvalidInputError("only a current belief can be checked in on")
        answer = CHECK_IN_YES if holds else CHECK_IN_NO
        content = f"{answer}: {belief.statement}"
        (vector,) = self._c.embedder.embed([content])
        now = utcnow()
        observation = Observation(
            id=new_id("obs"),
            workspace_id=self.workspace.id,
            user_id=u.id,
            content=content,
            occurred_at=now,
            recorded_at=now,
            kind=ObservationKind.SELECTION,
            role=Role.USER,
            source=MIRROR_SOURCE,
            metadata={"check_in": belief.id, "holds": holds},
        )
        with self._c.units.user(self.workspace.id, u.id):
            self._c.store.insert_observations([observation])
            self._c.store.put_vectors(
                self.workspace.id,
                u.id,
                OBSERVATION_VECTORS,
                self._c.embedder.name,
                [(observation.id, vector)],
            )
            current = self._c.store.get_belief(self.workspace.id, belief.id) or belief
            return self._c.reviser.answer(current, observation, holds=holds)

    # -- the old names of the card methods, for one release (selfmodel.deprecation) -----------
    def belief_uses(self, user: str, belief_id: str) -> BeliefUses:
        """How often one of the user's beliefs went into a context block, from the traces: how
        many blocks, the first and the last time (not what was asked: a product's requests are
        its own). Raises ``BeliefNotFoundError`` for a belief that is not this user's."""
        u = self.user(user)
        belief = self._c.store.get_belief(self.workspace.id, belief_id)
        if belief is None or belief.user_id != u.id:
            raise BeliefNotFoundError(f"user {user!r} has no belief {belief_id!r}")
        uses = self._c.store.item_uses(self.workspace.id, u.id, belief_id)
        return BeliefUses(belief_id=belief_id, blocks=uses.traces, first=uses.first, last=uses.last)

    def push_prompts(
        self,
        user: str,
        statements: Sequence[str | Mapping[str, Any]],
        *,
        source: str | None = None,
    ) -> list[ResonanceCard]:
        """Deprecated name of :meth:`push_cards`."""
        warn_renamed("push_prompts()", "push_cards()")
        return self.push_cards(user, statements, source=source)

    def prompts(self, user: str, *, open_only: bool = False) -> list[ResonanceCard]:
        """Deprecated name of :meth:`cards`."""
        warn_renamed("prompts()", "cards()")
        return self.cards(user, open_only=open_only)

    def answer_prompts(self, user: str, answers: Mapping[str, bool]) -> list[ResonanceCard]:
        """Deprecated name of :meth:`answer_cards`."""
        warn_renamed("answer_prompts()", "answer_cards()")
        return self.answer_cards(user, answers)

    def _select(
        self,
        user: User,
        card: ResonanceCard,
        vector: Any,
        cores: Mapping[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        """Store a selection as an observation and revise the self-model with it."""
        observation = Observation(
            id=new_id("obs"),
            workspace_id=self.workspace.id,
            user_id=user.id,
            content=card.statement,
            occurred_at=now,
            recorded_at=now,
            kind=ObservationKind.SELECTION,
            role=Role.USER,
            source=MIRROR_SOURCE,
            # The card id as external id: a selection is recorded once, however often sent. The
            # "prompt" in these stored names is the cards' old name, kept so old and new
            # selections read alike.
            external_id=f"prompt:{card.id}",
            metadata={"prompt_id": card.id, "prompt_source": card.source},
        )
        if not self._c.store.insert_observations([observation]):
            return {}
        # The card states the belief itself: no extraction, the same revision as any evidence.
        candidate = CandidateBelief(
            statement=card.statement,
            kind=card.kind,
            observation_id=observation.id,
            origin=BeliefOrigin.STATED,
            quote=card.statement,
        )
        understood = Understanding(
            user=user,
            observations=[observation],
            candidates=[candidate],
            observation_vectors=[(observation.id, vector)],
            statement_vectors=dict(cores),
        )
        outcome = revise(self._c, understood)
        touched = outcome.created + outcome.reinforced
        return {"observation_id": observation.id, "belief_id": touched[0] if touched else None}
