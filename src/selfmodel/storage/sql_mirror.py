"""``SQLMirror``: Mirror links, resonance cards and the signing secret, for both SQL backends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from selfmodel.domain import MirrorLink, ResonanceCard
from selfmodel.errors import StorageError
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.mirror import MirrorStore
from selfmodel.storage.sql_base import SQLBase


class SQLMirror(SQLBase, MirrorStore):
    """``MirrorStore`` in shared SQL (mixed into ``SQLStore``)."""

    # -- links and the signing secret --------------------------------------------------------
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
        # Every Mirror page checks its link with the secret: once stored, this only reads.
        return self._secret_once("mirror_secrets", workspace_id, candidate)

    # -- resonance cards (stored as prompts) -------------------------------------------------
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
