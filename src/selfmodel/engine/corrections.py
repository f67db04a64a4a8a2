"""The user has the last word: confirm, reject, edit, outdate, add; decay; forget; policy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from selfmodel.deprecation import renamed_keyword
from selfmodel.domain import (
    Belief,
    BeliefEventType,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    DeletedCounts,
    User,
    new_id,
)
from selfmodel.domain.time import to_utc, utcnow
from selfmodel.engine.base import (
    EngineBase,
    check_statement,
    parse_enum,
)
from selfmodel.engine.retention import forget_recorded
from selfmodel.engine.understanding import person_names, statement_vectors
from selfmodel.errors import InvalidInputError
from selfmodel.privacy import PiiPolicy
from selfmodel.revision.confidence import (
    USER_CONFIRMED_CONFIDENCE,
    USER_ORIGINS,
    current_confidence,
    has_decayed,
)
from selfmodel.storage import BELIEF_VECTORS, BeliefFilter

MAX_DISPLAY_NAME_CHARS = 100


class Corrections(EngineBase):
    """Changes made by the user (or by time) rather than by evidence."""

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
        statement = check_statement(statement)
        belief = self._get_belief(belief_id)
        changes: dict[str, Any] = {
            "statement": statement,
            "origin": BeliefOrigin.EDITED,
            "status": BeliefStatus.ACTIVE,
            "confidence": USER_CONFIRMED_CONFIDENCE,
            "valid_to": None,
        }
        if kind is not None:
            changes["kind"] = parse_enum(BeliefKind, kind, "kind")
        owner = self.user_by_id(belief.user_id)
        vector = statement_vectors(self._c.embedder, [statement], person_names(owner))[statement]
        with self._c.units.user(self.workspace.id, belief.user_id):
            updated = self._user_change(belief.id, BeliefEventType.EDITED, **changes)
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

    def settle(self, true_id: str, false_id: str) -> tuple[Belief, Belief]:
        """The user answers a conflict: ``true_id`` holds now (confirmed), ``false_id`` is over
        (it ends now, superseded by the other). Both must be the same user's beliefs."""
        keep, drop = self._get_belief(true_id), self._get_belief(false_id)
        if keep.user_id != drop.user_id or keep.id == drop.id:
            raise InvalidInputError("a conflict is settled between two beliefs of one user")
        with self._c.units.user(self.workspace.id, keep.user_id):
            kept = self.confirm(keep.id)
            ended = self._user_change(
                drop.id,
                BeliefEventType.SUPERSEDED,
                status=BeliefStatus.SUPERSEDED,
                valid_to=utcnow(),
                superseded_by=keep.id,
                details={"settled_for": keep.id},
            )
        return kept, ended

    def add_belief(
        self,
        user: str,
        statement: str,
        *,
        kind: BeliefKind | str = BeliefKind.FACT,
        area: str | None = None,
        context: str | None = None,
    ) -> Belief:
        """A belief the user writes in their own words (origin ``edited``, high confidence),
        global or scoped to ``area`` (``context`` is its deprecated name)."""
        area = renamed_keyword(area, context, new="area", old="context")
        statement = check_statement(statement)
        kind_ = parse_enum(BeliefKind, kind, "kind")
        u = self.user(user)
        vector = statement_vectors(self._c.embedder, [statement], person_names(u))[statement]
        now = utcnow()
        store = self._c.store
        with self._c.units.user(self.workspace.id, u.id):
            place = store.get_or_create_context(self.workspace.id, area) if area else None
            belief = Belief(
                id=new_id("bel"),
                workspace_id=self.workspace.id,
                user_id=u.id,
                area_id=place.id if place else None,
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
                new_items=True,
            )
            self._record(belief, BeliefEventType.CREATED, None, belief.confidence, cause="user")
        return belief

    def _user_change(
        self,
        belief_id: str,
        event: BeliefEventType,
        *,
        details: dict[str, Any] | None = None,
        **changes: Any,
    ) -> Belief:
        owner = self._get_belief(belief_id).user_id
        # Held like every revision of the user, so change stamps stay in order (other processes'
        # warm indexes rely on that) and the belief is read again under the lock: a concurrent
        # change to it is built on, never overwritten.
        with self._c.units.user(self.workspace.id, owner):
            belief = self._get_belief(belief_id)
            if "after_rejection" in belief.metadata:
                # The user answered the question the claim raised: it is theirs to keep or drop.
                changes.setdefault(
                    "metadata",
                    {k: v for k, v in belief.metadata.items() if k != "after_rejection"},
                )
            if event is BeliefEventType.EDITED:
                details = {**(details or {}), "previous": belief.statement}
            updated = belief.model_copy(update={**changes, "updated_at": utcnow()})
            self._c.store.update_belief(updated)
            self._record(
                updated, event, belief.confidence, updated.confidence, cause="user", details=details
            )
        return updated

    def set_display_name(self, user: str, name: str | None) -> User:
        """How statements, blocks and the Mirror name ``user`` (None: a neutral "the user").

        Statements written before keep the name they were written with.
        """
        if name is not None:
            if not isinstance(name, str) or not name.strip():
                raise InvalidInputError("display_name must be a non-empty string or null")
            name = " ".join(name.split())
            if len(name) > MAX_DISPLAY_NAME_CHARS:
                raise InvalidInputError(
                    f"display_name is longer than {MAX_DISPLAY_NAME_CHARS} characters"
                )
        u = self.user(user)
        with self._c.units.user(self.workspace.id, u.id):
            return self._c.store.set_display_name(self.workspace.id, u.id, name)

    # -- time --------------------------------------------------------------------------------
    def decay(self, user: str, *, now: datetime | None = None) -> list[Belief]:
        """Record in history how unreinforced beliefs have faded by ``now``; returns those changed.

        Reads already see confidence as of the moment they ask for (it is computed from the
        evidence, see docs/confidence.md); this writes it down, with a ``decayed`` event each.
        """
        now = to_utc(now) if now else utcnow()
        changed: list[Belief] = []
        store = self._c.store
        u = self.user(user)
        with self._c.units.user(self.workspace.id, u.id):
            for belief in store.list_beliefs(self.workspace.id, BeliefFilter(user_ids=(u.id,))):
                if belief.origin in USER_ORIGINS or not belief.occasions:
                    continue
                current = current_confidence(belief, now)
                decayed = has_decayed(belief.occasions, belief.kind, now)
                if (abs(current - belief.confidence) < 1e-3 or current > belief.confidence) and (
                    not decayed
                ):
                    continue  # only fading is recorded here, never a rise
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
        return changed

    # -- forgetting and privacy -------------------------------------------------------------
    def forget(self, user: str) -> DeletedCounts:
        """Hard-delete every row about ``user``: observations, beliefs, history, vectors, traces.

        The deletion is checked (nothing about the user left) and recorded in the audit log,
        which names the user by a keyed hash of their id only (``audit_log``).
        """
        counts, _ = forget_recorded(self._c, self.workspace, self.user(user))
        return counts

    def set_pii_policy(self, policy: PiiPolicy | str) -> None:
        """How this workspace treats PII: ``redact`` (default), ``keep`` or ``reject``."""
        value = parse_enum(PiiPolicy, policy, "pii_policy")
        settings = {**self.workspace.settings, "pii_policy": value.value}
        self.workspace = self._c.store.update_workspace_settings(self.workspace.id, settings)
