"""Write the upgrade fixture: a database made by a previous release, and what it exported.

Run it with the *previous* release on the path, so the file has that release's schema:

    git worktree add /tmp/previous <previous release commit>
    PYTHONPATH=/tmp/previous/src python scripts/make_upgrade_fixture.py tests/fixtures/upgrade

It writes ``selfmodel.db`` (the database, WAL checkpointed into it) and ``export.json`` (each
user's export, as that release wrote it). ``tests/test_upgrade.py`` opens a copy of the database
with the current code, which migrates it, and checks that nothing was lost.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from selfmodel import SelfModel
from selfmodel.storage.migrations import SCHEMA_VERSION
from selfmodel.tenancy import Scope, Tenancy

# (what each user said, when): one message per line.
USERS = {
    "maya": [
        ("Hi! I'm Maya, a pediatric nurse in Leeds.", "2024-03-01T09:00:00Z"),
        ("I love pottery, it calms me down.", "2024-03-02T09:00:00Z"),
        ("Please keep your answers short.", "2024-03-02T09:05:00Z"),
        ("I moved to Manchester last month.", "2024-04-10T18:00:00Z"),
        ("Went to a pottery class in the evening, made a mug.", "2024-04-12T20:00:00Z"),
    ],
    "tom": [
        ("I play chess every Sunday with my brother Sam.", "2024-03-03T10:00:00Z"),
        ("I don't drink coffee anymore.", "2024-03-09T10:00:00Z"),
    ],
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    db = out / "selfmodel.db"
    for stale in out.glob("selfmodel.db*"):
        stale.unlink()
    with SelfModel.open(str(db)) as sm:
        for user, said in USERS.items():
            sm.observe(user, [{"content": text, "occurred_at": at} for text, at in said])
        sm.context("maya", "What does she do to relax?")
        belief = sm.beliefs("maya")[0]
        sm.confirm(belief.id)
        sm.create_mirror_link("maya")
        Tenancy(sm.store).mint_key(sm.workspace, Scope.READ, name="fixture")
        exports = {user: sm.export(user) for user in USERS}
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to commit
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    assert version == SCHEMA_VERSION
    (out / "export.json").write_text(
        json.dumps({"schema_version": version, "users": exports}, indent=1, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {db} (schema {version}) and {out / 'export.json'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/upgrade"))
