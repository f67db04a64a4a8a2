"""What the SQL backends share below the ``Store`` methods: the dialect and the query runner.

Shared SQL is written once with ``?`` placeholders; a ``Dialect`` turns it into the backend's
spelling and converts values (timestamps, JSON, ``IN`` lists) to and from what the driver
stores. Backends supply ``_query`` / ``_execute`` (connection handling) and ``transaction``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from selfmodel.domain.text import contains_nul, nul_refused
from selfmodel.domain.time import utcnow
from selfmodel.errors import SchemaTooNewError


class Row(Protocol):
    """A result row read by column name (``sqlite3.Row`` or a psycopg ``dict_row``)."""

    def __getitem__(self, key: str, /) -> Any: ...


@lru_cache(maxsize=1024)
def _percent_placeholders(sql: str) -> str:
    # Shared SQL contains no literal '?' or '%', so a plain replace is exact.
    return sql.replace("?", "%s")


def refuse_newer_schema(found: int, supported: int) -> None:
    """Raise if the database was written by a newer selfmodel than this one."""
    if found > supported:
        raise SchemaTooNewError(
            f"database schema version {found} is newer than this selfmodel supports "
            f"({supported}); upgrade selfmodel to open it",
            found=found,
            supported=supported,
        )


def refuse_nul(params: Sequence[Any]) -> None:
    """Refuse bound text holding NUL, on every backend alike (``selfmodel.domain.text``).

    The engine checks what callers hand it by name; this is the net under every other text
    that reaches the store (ids looked up, names, filters), so SQLite never keeps what
    PostgreSQL cannot and PostgreSQL never fails in its driver.
    """
    if any(contains_nul(value) for value in params):
        raise nul_refused("a text value")


def json_text(value: Any, *, strict: bool) -> str:
    """``value`` as JSON text, text holding NUL refused; ``strict`` refuses values JSON cannot
    hold (otherwise they are written as their ``str``).

    JSON writes a NUL as ``\\u0000``, so the value is walked (``refuse_nul``) only when its text
    holds that, to tell a NUL from the six characters: a context call's trace is tens of
    kilobytes, and walking it on every call cost more than writing it.
    """
    text = json.dumps(value, separators=(",", ":"), default=None if strict else str)
    if "\\u0000" in text:
        refuse_nul((value,))
    return text


# A statement (``?`` placeholders) and its parameters.
Statement = tuple[str, tuple[Any, ...]]

# The revision the current transaction gave the user (``lock_user``): what a write is stamped with.
USER_REVISION = "(SELECT revision FROM users WHERE workspace_id = ? AND id = ?)"


def insert(table: str, columns: Sequence[str], values: str) -> str:
    """An INSERT of ``columns`` (``values``: the list inside ``VALUES (…)``)."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"


def marks(count: int) -> str:
    """``count`` comma-separated ``?`` placeholders."""
    return ", ".join(["?"] * count)


class Dialect(ABC):
    """How one database spells placeholders, lists and upserts, and stores values."""

    # Most values bound in one IN list; longer lists are queried in chunks.
    chunk_size: int
    # Suffix that locks the selected rows until commit ("" where transactions already do).
    for_update: str

    @abstractmethod
    def sql(self, text: str) -> str:
        """``text`` (written with ``?`` placeholders) in this dialect's spelling."""

    @abstractmethod
    def ts_in(self, value: datetime | None) -> Any:
        """A timestamp as the driver stores it (None stays None)."""

    @abstractmethod
    def ts_out(self, value: Any) -> datetime:
        """A stored timestamp as an aware UTC datetime."""

    def opt_ts_out(self, value: Any) -> datetime | None:
        """Like ``ts_out`` for a nullable column."""
        return None if value is None else self.ts_out(value)

    @abstractmethod
    def json_list_has(self, column: str, key: str, field: str) -> str:
        """A condition with one ``?``: the JSON object in ``column`` has, under ``key``, a list
        holding an object whose ``field`` is that text."""

    @abstractmethod
    def json_in(self, value: Any, *, strict: bool = False, as_text: bool = False) -> Any:
        """A JSON value as the driver stores it; ``strict`` refuses values JSON cannot hold;
        ``as_text``: for a column that keeps the JSON as written, never queried inside by
        index (PostgreSQL's ``json``, not ``jsonb``).

        Text holding NUL is refused (``refuse_nul``): PostgreSQL's jsonb cannot hold it either.
        """

    @abstractmethod
    def json_out(self, value: Any) -> Any:
        """A stored JSON value, decoded."""

    @abstractmethod
    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A ``column IN values`` condition (``?`` placeholders) and its parameters."""

    @abstractmethod
    def id_array(self, select: str) -> str:
        """A column of one value: the ids ``select`` (a subquery of one text column named
        ``id``) yields, in its order; ``ids_out`` reads it."""

    @abstractmethod
    def ids_out(self, value: Any) -> list[str]:
        """An ``id_array`` column's value as a list."""

    def as_one(self, statements: Sequence[Statement]) -> list[Statement]:
        """Writes that belong together, as one statement where the database can run them so
        (a round trip instead of several); here, as they are."""
        return list(statements)

    @abstractmethod
    def upsert(self, table: str, columns: Sequence[str], key: Sequence[str], values: str) -> str:
        """An INSERT of ``columns`` (``values``: the list inside ``VALUES (…)``) that overwrites
        the row already holding ``key``."""


class PercentDialect(Dialect):
    """Base for drivers using ``%s`` placeholders."""

    def sql(self, text: str) -> str:
        return _percent_placeholders(text)


class QmarkDialect(Dialect):
    """Base for drivers using ``?`` placeholders."""

    def sql(self, text: str) -> str:
        return text


class SQLBase(ABC):
    """Runs shared SQL through a backend's connection; mixed into every SQL store class."""

    _dialect: Dialect

    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Run native ``sql`` and return its rows ([] for statements returning none)."""

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any]) -> int:
        """Run native ``sql`` and return the affected row count."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]: ...

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of ``sql`` (``?`` placeholders)."""
        refuse_nul(params)
        return self._query(self._dialect.sql(sql), params)

    def _x(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Affected row count of ``sql`` (``?`` placeholders)."""
        refuse_nul(params)
        return self._execute(self._dialect.sql(sql), params)

    def _append_soon(
        self, table: str, columns: Sequence[str], values: str, params: Sequence[Any]
    ) -> None:
        """A row whose outcome nothing reads back before commit — an append-only history
        (versions, events), or a row the caller knows is new (``values``: the list inside
        ``VALUES (…)``): inserted now, or, where the backend can, sent with the transaction's
        next statement (a round trip fewer; PostgreSQL)."""
        self._x(insert(table, columns, values), params)

    def _write_all(self, statements: Sequence[Statement]) -> None:
        """Run writes that belong together, all or none (one statement where the dialect can
        make them one: no transaction to open then)."""
        combined = self._dialect.as_one(statements)
        if len(combined) == 1:
            self._x(*combined[0])
            return
        with self.transaction():
            for sql, params in combined:
                self._x(sql, params)

    def _chunks(self, items: Sequence[str]) -> Iterator[list[str]]:
        """``items`` in slices short enough for one IN list."""
        size = self._dialect.chunk_size
        values = list(items)
        for start in range(0, len(values), size):
            yield values[start : start + size]

    def _secret_once(self, table: str, workspace_id: str, candidate: str) -> str:
        """The workspace's secret kept in ``table``; ``candidate`` is stored first if there is
        none. Read first: once it exists, asking must not write (nor, on SQLite, take the file's
        write lock). Insert-or-nothing: of two concurrent first callers one secret wins."""
        sql = f"SELECT secret FROM {table} WHERE workspace_id = ?"
        rows = self._q(sql, (workspace_id,))
        if rows:
            return str(rows[0]["secret"])
        self._x(
            f"INSERT INTO {table} (workspace_id, secret, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (workspace_id) DO NOTHING",
            (workspace_id, candidate, self._dialect.ts_in(utcnow())),
        )
        return str(self._q(sql, (workspace_id,))[0]["secret"])
