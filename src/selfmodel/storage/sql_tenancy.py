"""``SQLTenancy``: workspaces, API keys and idempotency records, for both SQL backends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from selfmodel.domain import ApiKey, IdempotencyRecord, Workspace, new_id
from selfmodel.domain.time import utcnow
from selfmodel.errors import StorageError
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.sql_base import SQLBase
from selfmodel.storage.tenancy import TenancyStore


class SQLTenancy(SQLBase, TenancyStore):
    """``TenancyStore`` in shared SQL (mixed into ``SQLStore``)."""

    # -- workspaces --------------------------------------------------------------------------
    def get_or_create_workspace(self, name: str) -> Workspace:
        d = self._dialect
        # ON CONFLICT: two processes creating the same workspace at once both get the one row.
        self._x(
            "INSERT INTO workspaces (id, name, settings, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name) DO NOTHING",
            (new_id("ws"), name, d.json_in({}), d.ts_in(utcnow())),
        )
        found = self.get_workspace(name)
        if found is None:
            raise StorageError(f"workspace {name!r} vanished while being created")
        return found

    def get_workspace(self, name: str) -> Workspace | None:
        rows = self._q("SELECT * FROM workspaces WHERE name = ?", (name,))
        return rows_to.workspace(self._dialect, rows[0]) if rows else None

    def list_workspaces(self) -> list[Workspace]:
        rows = self._q("SELECT * FROM workspaces ORDER BY name")
        return [rows_to.workspace(self._dialect, r) for r in rows]

    def update_workspace_settings(self, workspace_id: str, settings: dict[str, Any]) -> Workspace:
        with self.transaction():
            self._x(
                "UPDATE workspaces SET settings = ? WHERE id = ?",
                (self._dialect.json_in(settings), workspace_id),
            )
            rows = self._q("SELECT * FROM workspaces WHERE id = ?", (workspace_id,))
        if not rows:
            raise StorageError(f"workspace {workspace_id} does not exist")
        return rows_to.workspace(self._dialect, rows[0])

    # -- API keys ----------------------------------------------------------------------------
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

    # -- idempotency records -----------------------------------------------------------------
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
        self,
        workspace_id: str,
        key: str,
        status_code: int,
        response: str,
        *,
        user_id: str | None = None,
    ) -> None:
        self._x(
            "UPDATE idempotency_keys SET status_code = ?, response = ?, user_id = ?"
            " WHERE workspace_id = ? AND key = ?",
            (status_code, response, user_id, workspace_id, key),
        )

    def release_idempotency_key(self, workspace_id: str, key: str) -> None:
        self._x(
            "DELETE FROM idempotency_keys WHERE workspace_id = ? AND key = ? AND status_code = 0",
            (workspace_id, key),
        )
