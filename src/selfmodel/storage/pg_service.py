"""PostgreSQL storage for the service layer: Mirror links and prompts, API keys, idempotency."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from selfmodel.domain import BeliefKind, Workspace
from selfmodel.domain.mirror import MirrorLink, ResonancePrompt
from selfmodel.domain.time import utcnow
from selfmodel.errors import StorageError
from selfmodel.storage.base import ApiKey, IdempotencyRecord

Row = dict[str, Any]


def _api_key(r: Row) -> ApiKey:
    return ApiKey(
        id=r["id"],
        workspace_id=r["workspace_id"],
        name=r["name"],
        prefix=r["prefix"],
        scope=r["scope"],
        created_at=r["created_at"],
        revoked_at=r["revoked_at"],
        last_used_at=r["last_used_at"],
    )


def _prompt(r: Row) -> ResonancePrompt:
    return ResonancePrompt(
        id=r["id"],
        workspace_id=r["workspace_id"],
        user_id=r["user_id"],
        statement=r["statement"],
        kind=BeliefKind(r["kind"]),
        source=r["source"],
        created_at=r["created_at"],
        answered_at=r["answered_at"],
        selected=r["selected"],
        observation_id=r["observation_id"],
        belief_id=r["belief_id"],
    )


class PostgresService(ABC):
    """Service-layer methods of ``PostgresStore`` (mixed in)."""

    @abstractmethod
    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    def _x(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]: ...

    # -- the Mirror --------------------------------------------------------------------------
    def insert_mirror_link(self, link: MirrorLink) -> None:
        self._x(
            "INSERT INTO mirror_links (workspace_id, user_id, id, created_at, expires_at,"
            " revoked_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                link.workspace_id,
                link.user_id,
                link.id,
                link.created_at,
                link.expires_at,
                link.revoked_at,
            ),
        )

    def get_mirror_link(self, workspace_id: str, link_id: str) -> MirrorLink | None:
        rows = self._q(
            "SELECT * FROM mirror_links WHERE workspace_id = %s AND id = %s",
            (workspace_id, link_id),
        )
        if not rows:
            return None
        r = rows[0]
        return MirrorLink(
            id=r["id"],
            workspace_id=r["workspace_id"],
            user_id=r["user_id"],
            created_at=r["created_at"],
            expires_at=r["expires_at"],
            revoked_at=r["revoked_at"],
        )

    def revoke_mirror_links(
        self, workspace_id: str, user_id: str, at: datetime, *, link_id: str | None = None
    ) -> int:
        sql = (
            "UPDATE mirror_links SET revoked_at = %s"
            " WHERE workspace_id = %s AND user_id = %s AND revoked_at IS NULL"
        )
        params: list[Any] = [at, workspace_id, user_id]
        if link_id is not None:
            sql += " AND id = %s"
            params.append(link_id)
        return self._x(sql, params)

    def mirror_secret(self, workspace_id: str, candidate: str) -> str:
        self._x(
            "INSERT INTO mirror_secrets (workspace_id, secret, created_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (workspace_id) DO NOTHING",
            (workspace_id, candidate, utcnow()),
        )
        rows = self._q("SELECT secret FROM mirror_secrets WHERE workspace_id = %s", (workspace_id,))
        return str(rows[0]["secret"])

    def insert_prompts(self, prompts: Sequence[ResonancePrompt]) -> None:
        with self.transaction():
            for p in prompts:
                self._x(
                    "INSERT INTO mirror_prompts (workspace_id, user_id, id, statement, kind,"
                    " source, created_at, answered_at, selected, observation_id, belief_id)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        p.workspace_id,
                        p.user_id,
                        p.id,
                        p.statement,
                        p.kind.value,
                        p.source,
                        p.created_at,
                        p.answered_at,
                        p.selected,
                        p.observation_id,
                        p.belief_id,
                    ),
                )

    def list_prompts(
        self, workspace_id: str, user_id: str, *, open_only: bool = False
    ) -> list[ResonancePrompt]:
        sql = "SELECT * FROM mirror_prompts WHERE workspace_id = %s AND user_id = %s"
        if open_only:
            sql += " AND answered_at IS NULL"
        rows = self._q(sql + " ORDER BY created_at, id", (workspace_id, user_id))
        return [_prompt(r) for r in rows]

    def answer_prompt(self, prompt: ResonancePrompt) -> bool:
        if prompt.answered_at is None or prompt.selected is None:
            raise StorageError(f"prompt {prompt.id} has no answer to record")
        count = self._x(
            "UPDATE mirror_prompts SET answered_at = %s, selected = %s, observation_id = %s,"
            " belief_id = %s WHERE workspace_id = %s AND user_id = %s AND id = %s"
            " AND answered_at IS NULL",
            (
                prompt.answered_at,
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
        self._x(
            "INSERT INTO api_keys (workspace_id, id, name, prefix, secret_hash, scope,"
            " created_at, revoked_at, last_used_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                key.workspace_id,
                key.id,
                key.name,
                key.prefix,
                secret_hash,
                key.scope,
                key.created_at,
                key.revoked_at,
                key.last_used_at,
            ),
        )

    def find_api_key(self, secret_hash: str) -> tuple[ApiKey, Workspace] | None:
        rows = self._q(
            "SELECT k.*, w.name AS ws_name, w.settings AS ws_settings,"
            " w.created_at AS ws_created_at FROM api_keys k"
            " JOIN workspaces w ON w.id = k.workspace_id WHERE k.secret_hash = %s",
            (secret_hash,),
        )
        if not rows:
            return None
        r = rows[0]
        workspace = Workspace(
            id=r["workspace_id"],
            name=r["ws_name"],
            settings=r["ws_settings"],
            created_at=r["ws_created_at"],
        )
        return _api_key(r), workspace

    def list_api_keys(self, workspace_id: str) -> list[ApiKey]:
        rows = self._q(
            "SELECT * FROM api_keys WHERE workspace_id = %s ORDER BY created_at, id",
            (workspace_id,),
        )
        return [_api_key(r) for r in rows]

    def revoke_api_key(self, workspace_id: str, key_id: str, at: datetime) -> ApiKey | None:
        rows = self._q(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, %s)"
            " WHERE workspace_id = %s AND id = %s RETURNING *",
            (at, workspace_id, key_id),
        )
        return _api_key(rows[0]) if rows else None

    def touch_api_key(self, key_id: str, at: datetime) -> None:
        self._x("UPDATE api_keys SET last_used_at = %s WHERE id = %s", (at, key_id))

    def reserve_idempotency_key(
        self, workspace_id: str, key: str, request_hash: str, *, expired_before: datetime
    ) -> IdempotencyRecord | None:
        with self.transaction():
            self._x(
                "DELETE FROM idempotency_keys WHERE workspace_id = %s AND key = %s"
                " AND created_at < %s",
                (workspace_id, key, expired_before),
            )
            # Insert-or-nothing first: of two concurrent first requests exactly one reserves.
            claimed = self._x(
                "INSERT INTO idempotency_keys (workspace_id, key, request_hash, status_code,"
                " response, created_at) VALUES (%s, %s, %s, 0, '', %s)"
                " ON CONFLICT (workspace_id, key) DO NOTHING",
                (workspace_id, key, request_hash, utcnow()),
            )
            if claimed:
                return None
            rows = self._q(
                "SELECT * FROM idempotency_keys WHERE workspace_id = %s AND key = %s",
                (workspace_id, key),
            )
        if not rows:
            raise StorageError(f"idempotency key {key!r} vanished while being reserved")
        r = rows[0]
        return IdempotencyRecord(
            key=r["key"],
            request_hash=r["request_hash"],
            status_code=r["status_code"],
            response=r["response"],
            created_at=r["created_at"],
        )

    def complete_idempotency_key(
        self, workspace_id: str, key: str, status_code: int, response: str
    ) -> None:
        self._x(
            "UPDATE idempotency_keys SET status_code = %s, response = %s"
            " WHERE workspace_id = %s AND key = %s",
            (status_code, response, workspace_id, key),
        )

    def release_idempotency_key(self, workspace_id: str, key: str) -> None:
        self._x(
            "DELETE FROM idempotency_keys WHERE workspace_id = %s AND key = %s"
            " AND status_code = 0",
            (workspace_id, key),
        )
