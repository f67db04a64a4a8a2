"""``SQLModel``: users, areas, observations, beliefs, evidence and history, for both SQL
backends. The user lock and forgetting differ or span every concern: see ``sqlite.py``,
``postgres.py`` and ``sql.py``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from selfmodel.domain import (
    Area,
    Belief,
    BeliefEvent,
    Evidence,
    Observation,
    User,
    new_id,
)
from selfmodel.domain.time import utcnow
from selfmodel.errors import StorageError
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.model import AsOf, BeliefFilter, ModelStore
from selfmodel.storage.sql_base import USER_REVISION, Dialect, SQLBase, insert, marks
from selfmodel.storage.sql_rows import BELIEF_COLUMNS, BELIEF_KEY, EVENT_COLUMNS

OBSERVATION_COLUMNS = (
    "workspace_id",
    "user_id",
    "id",
    "external_id",
    "kind",
    "role",
    "speaker",
    "source",
    "context_id",
    "content",
    "occurred_at",
    "recorded_at",
    "metadata",
    "revision",
)
OBSERVATION_MARKS = f"{marks(len(OBSERVATION_COLUMNS) - 1)}, {USER_REVISION}"
EVIDENCE_COLUMNS = (
    "workspace_id",
    "user_id",
    "belief_id",
    "observation_id",
    "stance",
    "weight",
    "span_start",
    "span_end",
    "quote",
    "created_at",
    "revision",
)
EVIDENCE_MARKS = f"{marks(len(EVIDENCE_COLUMNS) - 1)}, {USER_REVISION}"


def _observation_values(d: Dialect, o: Observation) -> tuple[Any, ...]:
    """An observation's values for ``OBSERVATION_MARKS`` (its revision: the user's, read in
    the statement)."""
    return (
        o.workspace_id,
        o.user_id,
        o.id,
        o.external_id,
        o.kind.value,
        o.role.value,
        o.speaker,
        o.source,
        o.area_id,
        o.content,
        d.ts_in(o.occurred_at),
        d.ts_in(o.recorded_at),
        d.json_in(o.metadata),
        o.workspace_id,
        o.user_id,
    )


class SQLModel(SQLBase, ModelStore):
    """``ModelStore`` in shared SQL (mixed into ``SQLStore``)."""

    # -- users and contexts ------------------------------------------------------------------
    def get_or_create_user(self, workspace_id: str, external_id: str) -> User:
        self._x(
            "INSERT INTO users (workspace_id, id, external_id, display_name, created_at)"
            " VALUES (?, ?, ?, NULL, ?) ON CONFLICT (workspace_id, external_id) DO NOTHING",
            (workspace_id, new_id("usr"), external_id, self._dialect.ts_in(utcnow())),
        )
        found = self.get_user(workspace_id, external_id)
        if found is None:
            raise StorageError(f"user {external_id!r} vanished while being created")
        return found

    def set_display_name(self, workspace_id: str, user_id: str, name: str | None) -> User:
        self._x(
            "UPDATE users SET display_name = ? WHERE workspace_id = ? AND id = ?",
            (name, workspace_id, user_id),
        )
        found = self.get_user_by_id(workspace_id, user_id)
        if found is None:
            raise StorageError(f"no user {user_id!r} in this workspace")
        return found

    def get_user(self, workspace_id: str, external_id: str) -> User | None:
        rows = self._q(
            "SELECT * FROM users WHERE workspace_id = ? AND external_id = ?",
            (workspace_id, external_id),
        )
        return rows_to.user(self._dialect, rows[0]) if rows else None

    def get_user_by_id(self, workspace_id: str, user_id: str) -> User | None:
        rows = self._q(
            "SELECT * FROM users WHERE workspace_id = ? AND id = ?",
            (workspace_id, user_id),
        )
        return rows_to.user(self._dialect, rows[0]) if rows else None

    def list_users(self, workspace_id: str) -> list[User]:
        rows = self._q(
            "SELECT * FROM users WHERE workspace_id = ? ORDER BY external_id",
            (workspace_id,),
        )
        return [rows_to.user(self._dialect, r) for r in rows]

    def get_or_create_context(self, workspace_id: str, name: str) -> Area:
        self._x(
            "INSERT INTO contexts (workspace_id, id, name, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (workspace_id, name) DO NOTHING",
            (workspace_id, new_id("ctx"), name, self._dialect.ts_in(utcnow())),
        )
        found = self.get_context(workspace_id, name)
        if found is None:
            raise StorageError(f"context {name!r} vanished while being created")
        return found

    def get_context(self, workspace_id: str, name: str) -> Area | None:
        rows = self._q(
            "SELECT * FROM contexts WHERE workspace_id = ? AND name = ?",
            (workspace_id, name),
        )
        return rows_to.context(self._dialect, rows[0]) if rows else None

    # -- observations ------------------------------------------------------------------------
    def insert_observations(
        self, observations: Sequence[Observation], *, new_ids: bool = False
    ) -> list[Observation]:
        # With ids just made and no external id nothing can be there already: no need to
        # learn what was inserted.
        unchecked = new_ids and all(o.external_id is None for o in observations)
        checked = insert("observations", OBSERVATION_COLUMNS, OBSERVATION_MARKS)
        inserted: list[Observation] = []
        with self.transaction():
            for o in observations:
                values = _observation_values(self._dialect, o)
                if unchecked:
                    self._append_soon(
                        "observations", OBSERVATION_COLUMNS, OBSERVATION_MARKS, values
                    )
                    inserted.append(o)
                elif self._x(f"{checked} ON CONFLICT DO NOTHING", values):
                    inserted.append(o)
        return inserted

    def existing_external_ids(
        self, workspace_id: str, user_id: str, external_ids: Sequence[str]
    ) -> set[str]:
        found: set[str] = set()
        for chunk in self._chunks(external_ids):
            in_ids, params = self._dialect.in_list("external_id", chunk)
            rows = self._q(
                f"SELECT external_id FROM observations WHERE workspace_id = ? AND user_id = ?"
                f" AND {in_ids}",
                (workspace_id, user_id, *params),
            )
            found.update(r["external_id"] for r in rows)
        return found

    def get_observations(self, workspace_id: str, ids: Sequence[str]) -> list[Observation]:
        found: list[Observation] = []
        for chunk in self._chunks(ids):
            in_ids, params = self._dialect.in_list("id", chunk)
            rows = self._q(
                f"SELECT * FROM observations WHERE workspace_id = ? AND {in_ids}",
                (workspace_id, *params),
            )
            found.extend(rows_to.observation(self._dialect, r) for r in rows)
        return found

    def _observations_of(
        self,
        workspace_id: str,
        user_ids: Sequence[str],
        extra: str,
        extra_params: list[Any],
    ) -> list[Observation]:
        in_users, params = self._dialect.in_list("user_id", user_ids)
        rows = self._q(
            f"SELECT * FROM observations WHERE workspace_id = ? AND {in_users}{extra}",
            (workspace_id, *params, *extra_params),
        )
        return [rows_to.observation(self._dialect, r) for r in rows]

    def list_observations(
        self, workspace_id: str, user_ids: Sequence[str], *, limit: int | None = None
    ) -> list[Observation]:
        if not user_ids:
            return []
        extra, params = " ORDER BY occurred_at, id", []
        if limit is not None:
            extra += " LIMIT ?"
            params.append(limit)
        return self._observations_of(workspace_id, user_ids, extra, params)

    def get_user_with_turns_before(
        self, workspace_id: str, external_id: str, before: datetime, limit: int
    ) -> tuple[User | None, list[Observation]]:
        # The user's columns renamed: the observations' own names stay theirs.
        rows = self._q(
            "SELECT u.id AS u_id, u.display_name AS u_display_name, u.created_at AS u_created_at,"
            " o.* FROM users u LEFT JOIN (SELECT * FROM observations WHERE workspace_id = ?"
            " AND user_id = (SELECT id FROM users WHERE workspace_id = ? AND external_id = ?)"
            " AND occurred_at < ? ORDER BY occurred_at DESC, id DESC LIMIT ?) o"
            " ON o.user_id = u.id WHERE u.workspace_id = ? AND u.external_id = ?",
            (
                workspace_id,
                workspace_id,
                external_id,
                self._dialect.ts_in(before),
                limit,
                workspace_id,
                external_id,
            ),
        )
        if not rows:
            return None, []
        first = rows[0]
        user = rows_to.user(
            self._dialect,
            {
                "id": first["u_id"],
                "workspace_id": workspace_id,
                "external_id": external_id,
                "display_name": first["u_display_name"],
                "created_at": first["u_created_at"],
            },
        )
        latest = [rows_to.observation(self._dialect, r) for r in rows if r["id"] is not None]
        latest.sort(key=lambda o: (o.occurred_at, o.id))
        return user, latest

    def list_observations_before(
        self, workspace_id: str, user_id: str, before: datetime, limit: int
    ) -> list[Observation]:
        latest = self._observations_of(
            workspace_id,
            [user_id],
            " AND occurred_at < ? ORDER BY occurred_at DESC, id DESC LIMIT ?",
            [self._dialect.ts_in(before), limit],
        )
        return latest[::-1]

    # -- beliefs -----------------------------------------------------------------------------
    def insert_belief(self, belief: Belief) -> None:
        # A new row, nothing to read back: it may go with the transaction's next statement.
        self._append_soon(
            "beliefs",
            BELIEF_COLUMNS,
            marks(len(BELIEF_COLUMNS)),
            rows_to.belief_params(self._dialect, belief),
        )
        self._keep_version(belief)

    def update_belief(self, belief: Belief) -> None:
        params = rows_to.belief_params(self._dialect, belief)
        # The key (workspace, user, id) stays; every other column is rewritten.
        keys = len(BELIEF_KEY)
        assignments = ", ".join(f"{c} = ?" for c in BELIEF_COLUMNS[keys:])
        count = self._x(
            f"UPDATE beliefs SET {assignments} WHERE workspace_id = ? AND user_id = ? AND id = ?",
            (*params[keys:], belief.workspace_id, belief.user_id, belief.id),
        )
        if count != 1:
            raise StorageError(f"belief {belief.id} does not exist in this workspace")
        self._keep_version(belief)

    def _keep_version(self, belief: Belief) -> None:
        """Append the belief's whole state as written now: what ``beliefs_as_of`` reads."""
        d = self._dialect
        self._append_soon(
            "belief_versions",
            ("workspace_id", "user_id", "belief_id", "revision", "recorded_at", "state"),
            f"?, ?, ?, {USER_REVISION}, ?, ?",
            (
                belief.workspace_id,
                belief.user_id,
                belief.id,
                belief.workspace_id,
                belief.user_id,
                d.ts_in(utcnow()),
                d.json_in(belief.model_dump(mode="json"), strict=True),
            ),
        )

    def get_belief(self, workspace_id: str, belief_id: str) -> Belief | None:
        rows = self._q(
            "SELECT * FROM beliefs WHERE workspace_id = ? AND id = ?",
            (workspace_id, belief_id),
        )
        return rows_to.belief(self._dialect, rows[0]) if rows else None

    def list_beliefs(self, workspace_id: str, where: BeliefFilter) -> list[Belief]:
        if not where.user_ids:
            return []
        d = self._dialect
        in_users, params = d.in_list("user_id", where.user_ids)
        clauses = ["workspace_id = ?", in_users]
        params.insert(0, workspace_id)
        if where.statuses:
            clause, values = d.in_list("status", [s.value for s in where.statuses])
            clauses.append(clause)
            params.extend(values)
        if where.kinds:
            clause, values = d.in_list("kind", [k.value for k in where.kinds])
            clauses.append(clause)
            params.extend(values)
        if where.context_id is not None:
            clauses.append("(context_id IS NULL OR context_id = ?)")
            params.append(where.context_id)
        if where.min_confidence is not None:
            clauses.append("confidence >= ?")
            params.append(where.min_confidence)
        sql = f"SELECT * FROM beliefs WHERE {' AND '.join(clauses)} ORDER BY id DESC"
        if where.limit is not None:
            sql += " LIMIT ?"
            params.append(where.limit)
        return [rows_to.belief(d, r) for r in self._q(sql, params)]

    # -- evidence and history ----------------------------------------------------------------
    def add_evidence(
        self, workspace_id: str, user_id: str, evidence: Evidence, *, unseen: bool = False
    ) -> bool:
        values = (
            workspace_id,
            user_id,
            evidence.belief_id,
            evidence.observation_id,
            evidence.stance.value,
            evidence.weight,
            evidence.span_start,
            evidence.span_end,
            evidence.quote,
            self._dialect.ts_in(evidence.created_at),
            workspace_id,
            user_id,
        )
        if unseen:
            self._append_soon("evidence", EVIDENCE_COLUMNS, EVIDENCE_MARKS, values)
            return True
        sql = insert("evidence", EVIDENCE_COLUMNS, EVIDENCE_MARKS)
        return self._x(f"{sql} ON CONFLICT DO NOTHING", values) == 1

    def list_evidence(
        self,
        workspace_id: str,
        belief_ids: Sequence[str],
        *,
        user_ids: Sequence[str] | None = None,
    ) -> list[Evidence]:
        found: list[Evidence] = []
        whose = ""
        user_params: list[Any] = []
        if user_ids is not None:
            if not user_ids:
                return found
            in_users, user_params = self._dialect.in_list("user_id", user_ids)
            whose = f" AND {in_users}"
        for chunk in self._chunks(belief_ids):
            in_ids, params = self._dialect.in_list("belief_id", chunk)
            rows = self._q(
                f"SELECT * FROM evidence WHERE workspace_id = ?{whose} AND {in_ids}"
                # Links made in one microsecond still come in one order, here and as of a moment.
                " ORDER BY created_at, belief_id, observation_id, stance",
                (workspace_id, *user_params, *params),
            )
            found.extend(rows_to.evidence(self._dialect, r) for r in rows)
        return found

    def append_event(self, event: BeliefEvent) -> None:
        d = self._dialect
        self._append_soon(
            "belief_events",
            EVENT_COLUMNS,
            marks(len(EVENT_COLUMNS)),
            (
                event.workspace_id,
                event.user_id,
                event.id,
                event.belief_id,
                event.type.value,
                d.ts_in(event.at),
                event.cause,
                event.observation_id,
                event.confidence_before,
                event.confidence_after,
                d.json_in(event.details),
            ),
        )

    def list_events(
        self,
        workspace_id: str,
        *,
        belief_id: str | None = None,
        user_id: str | None = None,
    ) -> list[BeliefEvent]:
        clauses, params = ["workspace_id = ?"], [workspace_id]
        if belief_id is not None:
            clauses.append("belief_id = ?")
            params.append(belief_id)
        if user_id is not None:
            clauses.append("user_id = ?")
            params.append(user_id)
        rows = self._q(
            f"SELECT * FROM belief_events WHERE {' AND '.join(clauses)} ORDER BY at, id",
            params,
        )
        return [rows_to.event(self._dialect, r) for r in rows]

    # -- the self-model as it was --------------------------------------------------------------
    def _as_of(self, as_of: AsOf, user_id: str, stamp: str) -> tuple[str, Any]:
        """The condition (and its parameter) selecting rows written by ``as_of``."""
        revision = as_of.revision_of(user_id)
        if revision is not None:
            return "revision <= ?", revision
        if as_of.recorded_at is None:
            raise StorageError(f"no revision of user {user_id} to read as of")
        return f"{stamp} <= ?", self._dialect.ts_in(as_of.recorded_at)

    def beliefs_as_of(self, workspace_id: str, user_id: str, as_of: AsOf) -> list[Belief]:
        d = self._dialect
        clause, value = self._as_of(as_of, user_id, "recorded_at")
        latest: dict[str, Belief] = {}
        for r in self._q(
            f"SELECT belief_id, state FROM belief_versions WHERE workspace_id = ? AND user_id = ?"
            f" AND {clause} ORDER BY seq",
            (workspace_id, user_id, value),
        ):
            latest[r["belief_id"]] = Belief.model_validate(d.json_out(r["state"]))
        return [latest[i] for i in sorted(latest, reverse=True)]

    def evidence_as_of(self, workspace_id: str, user_id: str, as_of: AsOf) -> list[Evidence]:
        clause, value = self._as_of(as_of, user_id, "created_at")
        rows = self._q(
            f"SELECT * FROM evidence WHERE workspace_id = ? AND user_id = ? AND {clause}"
            " ORDER BY created_at, belief_id, observation_id, stance",
            (workspace_id, user_id, value),
        )
        return [rows_to.evidence(self._dialect, r) for r in rows]

    def observations_as_of(self, workspace_id: str, user_id: str, as_of: AsOf) -> list[Observation]:
        clause, value = self._as_of(as_of, user_id, "recorded_at")
        return self._observations_of(
            workspace_id, [user_id], f" AND {clause} ORDER BY occurred_at, id", [value]
        )
