"""A throwaway PostgreSQL cluster from the system's own binaries, for benchmarks and tests.

``initdb`` into a fresh temp dir, a free loopback port, the unix socket inside the temp dir, and
every database created from a template already migrated to the current schema. PostgreSQL refuses
to run as root, so when the tests run as root (CI does) the server runs as an unprivileged system
user: ``postgres`` if the machine has one, else one created here (``useradd``, idempotent).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from selfmodel.errors import ConfigurationError, StorageError
from selfmodel.storage.postgres import apply_migrations

PG_BIN = Path(os.environ.get("SELFMODEL_PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVICE_USER = "postgres"
FALLBACK_USER = "selfmodel-pg"
TEMPLATE = "selfmodel_template"
START_TIMEOUT_S = 30
# Durable on disk, with commits acknowledged before their WAL is flushed: what SQLite's
# WAL mode with synchronous=NORMAL promises, so a benchmark compares like with like.
BENCH_SETTINGS = "-c synchronous_commit=off -c max_connections=200 -c shared_buffers=128MB"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """The account to run the server as, or None when we are not root (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in (SERVICE_USER, FALLBACK_USER):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_USER],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(FALLBACK_USER)


class LocalPostgres:
    """One running server; ``database()`` hands out fresh, migrated databases."""

    def __init__(self, root: Path, port: int, account: pwd.struct_passwd | None) -> None:
        self.root = root
        self.port = port
        self.account = account
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "server.log"  # the server's stderr: what log_statement writes

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        account = self.account
        result = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            cwd=self.root,
            check=False,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
        if result.returncode != 0:
            raise StorageError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    @classmethod
    @contextmanager
    def running(cls, settings: str = BENCH_SETTINGS) -> Iterator[Self]:
        """Start a cluster with these server ``settings``, yield it, then stop and delete it."""
        if not (PG_BIN / "initdb").exists():
            raise ConfigurationError(
                f"PostgreSQL binaries not found in {PG_BIN}; install postgresql-15 or set"
                " SELFMODEL_PG_BIN"
            )
        account = _server_user()
        root = Path(tempfile.mkdtemp(prefix="selfmodel-pg-"))
        cluster = cls(root, _free_port(), account)
        cluster.sockets.mkdir()
        if account is not None:
            for path in (root, cluster.sockets):
                os.chown(path, account.pw_uid, account.pw_gid)
        try:
            cluster._run(
                str(PG_BIN / "initdb"),
                "-D",
                str(cluster.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C.UTF-8",
            )
            cluster._run(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(cluster.data),
                "-l",
                str(cluster.log),
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "start",
                "-o",
                f"-p {cluster.port} -k {cluster.sockets} -c listen_addresses=127.0.0.1 {settings}",
            )
            cluster._make_template()
            yield cluster
        finally:
            if (cluster.data / "postmaster.pid").exists():
                cluster._run(
                    str(PG_BIN / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"
                )
            shutil.rmtree(root, ignore_errors=True)

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def _make_template(self) -> None:
        self._admin(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(self.url(TEMPLATE), autocommit=True, row_factory=dict_row) as conn:
            apply_migrations(conn)

    @contextmanager
    def database(self, like: str | None = None) -> Iterator[str]:
        """A fresh database at the current schema — or a copy of the database at URL ``like``
        of this server, to which nobody may be connected — dropped (with its connections)
        afterwards."""
        url = self._create(like)
        try:
            yield url
        finally:
            self._drop(url)

    def _create(self, like: str | None = None) -> str:
        template = conninfo_to_dict(like)["dbname"] if like else TEMPLATE
        name = f"t_{uuid.uuid4().hex[:16]}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def _drop(self, url: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {conninfo_to_dict(url)['dbname']} WITH (FORCE)")
