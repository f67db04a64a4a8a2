"""Service-layer storage both SQL backends share: Mirror links, prompts, API keys, idempotency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from selfmodel.domain import ApiKey, IdempotencyRecord, Workspace
from selfmodel.domain.mirror import MirrorLink, ResonanceCard
from selfmodel.domain.time import utcnow
from selfmodel.errors import StorageError
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.sql_base import SQLBase


class SQLService(SQLBase):
    """Service-layer methods of ``SQLStore`` (mixed in)."""

    # -- the Mirror --------------------------------------------------------------------------
    def insert_mirror_link(self, link: MirrorLink) -> None:
        d = self._dialect
        self._x(
            "INSERT INTO mirror_links (workspace_id, user_id, id, created_at, expires_at,"
            " revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                link.workspace_id,
                link.user_id,
                link.id,
                d.ts_in(link.created_at),
                d.ts_in(link.expires_at),
                d.ts_in(link.revoked_at),
            ),
        )

    def get_mirror_link(self, workspace_id: str, link_id: str) -> MirrorLink | None:
        rows = self._q(
            "SELECT * FROM mirror_links WHERE workspace_id = ? AND id = ?", (workspace_id, link_id)
        )
        return rows_to.mirror_link(self._dialect, rows[0]) if rows else None

    def revoke_mirror_links(
        self, workspace_id: str, user_id: str, at: datetime, *, link_id: str | None = None
    ) -> int:
        sql = (
            "UPDATE mirror_links SET revoked_at = ?"
            " WHERE workspace_id = ? AND user_id = ? AND revoked_at IS NULL"
        )
        params: list[object] = [self._dialect.ts_in(at), workspace_id, user_id]
        if link_id is not None:
            sql += " AND id = ?"
            params.append(link_id)
        return self._x(sql, params)

    def mirror_secret(self, workspace_id: str, candidate: str) -> str:
        sql = "SELECT secret FROM mirror_secrets WHERE workspace_id = ?"
        # Read first: every Mirror page checks its link with the secret, and a read must not
        # write (nor, on SQLite, take the file's write lock) once the secret exists.
        rows = self._q(sql, (workspace_id,))
        if rows:
            return str(rows[0]["secret"])
        # Insert-or-nothing: of two concurrent first callers exactly one secret wins, for both.
        self._x(
            "INSERT INTO mirror_secrets (workspace_id, secret, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (workspace_id) DO NOTHING",
            (workspace_id, candidate, self._dialect.ts_in(utcnow())),
        )
        return str(self._q(sql, (workspace_id,))[0]["secret"])

    def insert_prompts(self, prompts: Sequence[ResonanceCard]) -> None:
        d = self._dialect
        with self.transaction():
            for p in prompts:
                self._x(
                    "INSERT INTO mirror_prompts (workspace_id, user_id, id, statement, kind,"
                    " source, created_at, answered_at, selected, observation_id, belief_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        p.workspace_id,
                        p.user_id,
                        p.id,
                        p.statement,
                        p.kind.value,
                        p.source,
                        d.ts_in(p.created_at),
                        d.ts_in(p.answered_at),
                        # A bool: SQLite stores it as 0/1, PostgreSQL as BOOLEAN.
                        p.selected,
                        p.observation_id,
                        p.belief_id,
                    ),
                )

    def list_prompts(
        self, workspace_id: str, user_id: str, *, open_only: bool = False
    ) -> list[ResonanceCard]:
        sql = "SELECT * FROM mirror_prompts WHERE workspace_id = ? AND user_id = ?"
        if open_only:
            sql += " AND answered_at IS NULL"
        rows = self._q(sql + " ORDER BY created_at, id", (workspace_id, user_id))
        return [rows_to.prompt(self._dialect, r) for r in rows]

    def answer_prompt(self, prompt: ResonanceCard) -> bool:
        if prompt.answered_at is None or prompt.selected is None:
            raise StorageError(f"prompt {prompt.id} has no answer to record")
        count = self._x(
            "UPDATE mirror_prompts SET answered_at = ?, selected = ?, observation_id = ?,"
            " belief_id = ? WHERE workspace_id = ? AND user_id = ? AND id = ?"
            " AND answered_at IS NULL",
            (
                self._dialect.ts_in(prompt.answered_at),
                prompt.selected,
                prompt.observation_id,
                prompt.belief_id,
                prompt.workspace_id,
                prompt.user_id,
                prompt.id,
            ),
        )
        return count == 1

    # -- API keys and idempotency keys -------------------------------------------------------
    def insert_api_key(self, key: ApiKey, secret_hash: str) -> None:
        d = self._dialect
        self._x(
            "INSERT INTO api_keys (workspace_id, id, name, prefix, secret_hash, scope,"
            " created_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key.workspace_id,
                key.id,
                key.name,
                key.prefix,
                secret_hash,
                key.scope,
                d.ts_in(key.created_at),
                d.ts_in(key.revoked_at),
                d.ts_in(key.last_used_at),
            ),
        )

    def find_api_key(self, secret_hash: str) -> tuple[ApiKey, Workspace] | None:
        d = self._dialect
        rows = self._q(
            "SELECT k.*, w.name AS ws_name, w.settings AS ws_settings,"
            " w.created_at AS ws_created_at FROM api_keys k"
            " JOIN workspaces w ON w.id = k.workspace_id WHERE k.secret_hash = ?",
            (secret_hash,),
        )
        if not rows:
            return None
        r = rows[0]
        workspace = Workspace(
            id=r["workspace_id"],
            name=r["ws_name"],
            settings=d.json_out(r["ws_settings"]),
            created_at=d.ts_out(r["ws_created_at"]),
        )
        return rows_to.api_key(d, r), workspace

    def list_api_keys(self, workspace_id: str) -> list[ApiKey]:
        rows = self._q(
            "SELECT * FROM api_keys WHERE workspace_id = ? ORDER BY created_at, id",
            (workspace_id,),
        )
        return [rows_to.api_key(self._dialect, r) for r in rows]

    def revoke_api_key(self, workspace_id: str, key_id: str, at: datetime) -> ApiKey | None:
        with self.transaction():
            self._x(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?)"
                " WHERE workspace_id = ? AND id = ?",
                (self._dialect.ts_in(at), workspace_id, key_id),
            )
            rows = self._q(
                "SELECT * FROM api_keys WHERE workspace_id = ? AND id = ?", (workspace_id, key_id)
            )
        return rows_to.api_key(self._dialect, rows[0]) if rows else None

    def touch_api_key(self, key_id: str, at: datetime) -> None:
        at_ = self._dialect.ts_in(at)
        # Never backwards: processes flush their uses independently, in any order.
        self._x(
            "UPDATE api_keys SET last_used_at = ?"
            " WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
            (at_, key_id, at_),
        )

    def reserve_idempotency_key(
        self, workspace_id: str, key: str, request_hash: str, *, expired_before: datetime
    ) -> IdempotencyRecord | None:
        d = self._dialect
        with self.transaction():
            self._x(
                "DELETE FROM idempotency_keys WHERE workspace_id = ? AND key = ?"
                " AND created_at < ?",
                (workspace_id, key, d.ts_in(expired_before)),
            )
            # Insert-or-nothing first: of two concurrent first requests exactly one reserves.
            claimed = self._x(
                "INSERT INTO idempotency_keys (workspace_id, key, request_hash, status_code,"
                " response, created_at) VALUES (?, ?, ?, 0, '', ?)"
                " ON CONFLICT (workspace_id, key) DO NOTHING",
                (workspace_id, key, request_hash, d.ts_in(utcnow())),
            )
            if claimed:
                return None
            rows = self._q(
                "SELECT * FROM idempotency_keys WHERE workspace_id = ? AND key = ?",
                (workspace_id, key),
            )
        if not rows:
            raise StorageError(f"idempotency key {key!r} vanished while being reserved")
        return rows_to.idempotency(d, rows[0])

    def complete_idempotency_key(
        self, workspace_id: str, key: str, status_code: int, response: str
    ) -> None:
        self._x(
            "UPDATE idempotency_keys SET status_code = ?, response = ?"
            " WHERE workspace_id = ? AND key = ?",
            (status_code, response, workspace_id, key),
        )

    def release_idempotency_key(self, workspace_id: str, key: str) -> None:
        self._x(
            "DELETE FROM idempotency_keys WHERE workspace_id = ? AND key = ? AND status_code = 0",
            (workspace_id, key),
        )
