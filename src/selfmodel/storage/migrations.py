"""Versioned schema migrations for the SQLite store.

Each entry upgrades the schema from version ``n - 1`` to ``n``; a database records its version in
``PRAGMA user_version``. Never edit a released migration: add a new one, so every old file can
walk forward to the current schema. Keys lead with workspace and user (sharding by user later).
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the core self-model.
    """
    CREATE TABLE workspaces (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        settings TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        external_id TEXT NOT NULL,
        display_name TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (workspace_id, external_id)
    );
    CREATE TABLE contexts (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (workspace_id, name)
    );
    CREATE TABLE observations (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        external_id TEXT,
        kind TEXT NOT NULL,
        role TEXT NOT NULL,
        speaker TEXT,
        source TEXT,
        context_id TEXT REFERENCES contexts(id),
        content TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}'
    );
    CREATE UNIQUE INDEX observations_external
        ON observations (workspace_id, user_id, external_id) WHERE external_id IS NOT NULL;
    CREATE INDEX observations_user_time ON observations (workspace_id, user_id, occurred_at);
    CREATE TABLE beliefs (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        context_id TEXT REFERENCES contexts(id),
        statement TEXT NOT NULL,
        kind TEXT NOT NULL,
        confidence REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
        origin TEXT NOT NULL,
        status TEXT NOT NULL,
        valid_from TEXT,
        valid_to TEXT,
        evidence_logit REAL NOT NULL DEFAULT 0,
        last_evidence_at TEXT,
        support_count INTEGER NOT NULL DEFAULT 0,
        contradict_count INTEGER NOT NULL DEFAULT 0,
        superseded_by TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX beliefs_user_status ON beliefs (workspace_id, user_id, status);
    CREATE TABLE evidence (
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        belief_id TEXT NOT NULL REFERENCES beliefs(id) ON DELETE CASCADE,
        observation_id TEXT NOT NULL REFERENCES observations(id) ON DELETE CASCADE,
        stance TEXT NOT NULL,
        weight REAL NOT NULL,
        span_start INTEGER,
        span_end INTEGER,
        quote TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (belief_id, observation_id, stance)
    );
    CREATE INDEX evidence_observation ON evidence (observation_id);
    CREATE TABLE belief_events (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        belief_id TEXT NOT NULL REFERENCES beliefs(id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        cause TEXT NOT NULL,
        observation_id TEXT,
        confidence_before REAL,
        confidence_after REAL,
        details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX belief_events_belief ON belief_events (workspace_id, belief_id, at);
    CREATE INDEX belief_events_user ON belief_events (workspace_id, user_id, at);
    """,
    # 2: stored embeddings (so a restart needs no re-embedding) and context traces.
    """
    CREATE TABLE vectors (
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        item_type TEXT NOT NULL,
        item_id TEXT NOT NULL,
        model TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (item_type, item_id, model)
    );
    CREATE INDEX vectors_user ON vectors (workspace_id, user_id, item_type, model);
    CREATE TABLE traces (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        query TEXT NOT NULL,
        latency_ms REAL NOT NULL,
        config TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE trace_users (
        trace_id TEXT NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (trace_id, user_id)
    );
    CREATE INDEX trace_users_user ON trace_users (workspace_id, user_id);
    """,
    # 3: the durable work queue, workspace API keys, idempotency keys for HTTP writes.
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        run_after TEXT NOT NULL,
        locked_by TEXT,
        locked_until TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX jobs_ready ON jobs (status, run_after);
    CREATE INDEX jobs_user ON jobs (workspace_id, user_id, status);
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT,
        prefix TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT,
        last_used_at TEXT
    );
    CREATE INDEX api_keys_workspace ON api_keys (workspace_id);
    CREATE TABLE idempotency_keys (
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status_code INTEGER NOT NULL,
        response TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (workspace_id, key)
    );
    """,
    # 4: the Mirror: minted links (for revocation; tokens are never stored), a per-workspace
    # signing secret when none is configured, and resonance cards offered to a user.
    """
    CREATE TABLE mirror_links (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX mirror_links_user ON mirror_links (workspace_id, user_id);
    CREATE TABLE mirror_secrets (
        workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
        secret TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE mirror_prompts (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        statement TEXT NOT NULL,
        kind TEXT NOT NULL,
        source TEXT,
        created_at TEXT NOT NULL,
        answered_at TEXT,
        selected INTEGER,
        observation_id TEXT,
        belief_id TEXT
    );
    CREATE INDEX mirror_prompts_user ON mirror_prompts (workspace_id, user_id, answered_at);
    """,
    # 5: what a belief asserts in comparable parts (polarity, facet, topics, people), and its
    # evidence per occasion, from which confidence is computed at read time.
    """
    ALTER TABLE beliefs ADD COLUMN frame TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE beliefs ADD COLUMN occasions TEXT NOT NULL DEFAULT '[]';
    """,
    # 6: a per-user revision, moved by every write that holds the user (``lock_user``), so a
    # warm index checks one row per user instead of counting the user's rows on every call.
    """
    ALTER TABLE users ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: the user an idempotency record's answer is about, so forget deletes the answer too (a
    # replay must not hand back what was forgotten).
    """
    ALTER TABLE idempotency_keys ADD COLUMN user_id TEXT;
    CREATE INDEX idempotency_keys_user ON idempotency_keys (workspace_id, user_id);
    """,
    # 8: recorded evaluation runs and their per-item scores (docs/evaluation.md). Workspace
    # records with ids and numbers only: no user id, no text, so forget has nothing to do here.
    """
    CREATE TABLE eval_runs (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        suite TEXT NOT NULL,
        suite_kind TEXT NOT NULL,
        dataset_sha256 TEXT NOT NULL,
        config_sha256 TEXT NOT NULL,
        config TEXT NOT NULL,
        code_version TEXT NOT NULL,
        k INTEGER NOT NULL,
        item_count INTEGER NOT NULL,
        mean_recall REAL,
        summary TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL
    );
    CREATE INDEX eval_runs_workspace ON eval_runs (workspace_id, id);
    CREATE TABLE eval_items (
        workspace_id TEXT NOT NULL,
        run_id TEXT NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        item_id TEXT NOT NULL,
        category TEXT,
        recall REAL NOT NULL CHECK (recall >= 0 AND recall <= 1),
        evidence_found INTEGER NOT NULL,
        evidence_total INTEGER NOT NULL,
        violations INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        latency_ms REAL NOT NULL,
        PRIMARY KEY (run_id, position)
    );
    """,
    # 9: retention. Evidence outlives the observation it quotes (a retention policy deletes raw
    # observations and keeps beliefs with their quoted evidence), so the evidence table is rebuilt
    # without its cascade from observations (SQLite cannot drop a foreign key in place). Per
    # workspace retention policies (NULL: keep forever) and the audit log of every deletion, whose
    # subject is a keyed hash of the user's id (the key, per workspace, in ``audit_keys``).
    """
    CREATE TABLE evidence_kept (
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        belief_id TEXT NOT NULL REFERENCES beliefs(id) ON DELETE CASCADE,
        observation_id TEXT NOT NULL,
        stance TEXT NOT NULL,
        weight REAL NOT NULL,
        span_start INTEGER,
        span_end INTEGER,
        quote TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (belief_id, observation_id, stance)
    );
    INSERT INTO evidence_kept (workspace_id, user_id, belief_id, observation_id, stance, weight,
        span_start, span_end, quote, created_at)
        SELECT workspace_id, user_id, belief_id, observation_id, stance, weight, span_start,
        span_end, quote, created_at FROM evidence;
    DROP TABLE evidence;
    ALTER TABLE evidence_kept RENAME TO evidence;
    CREATE INDEX evidence_observation ON evidence (observation_id);
    CREATE TABLE retention_policies (
        workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
        observations_max_age_days INTEGER,
        inactive_user_days INTEGER,
        traces_max_age_days INTEGER,
        updated_at TEXT NOT NULL,
        last_run_at TEXT
    );
    CREATE TABLE audit_log (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        policy TEXT,
        subject TEXT,
        counts TEXT NOT NULL DEFAULT '{}',
        verified INTEGER NOT NULL
    );
    CREATE INDEX audit_log_workspace ON audit_log (workspace_id, id);
    CREATE TABLE audit_keys (
        workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
        secret TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    # 10: outcomes — feedback, implicit signals and custom metrics about a user, optionally tied
    # to the trace whose answer they judge. ``trace_id`` is not a foreign key: retention may
    # delete an old trace and the outcome (a number about the user) stays. ``external_id`` is
    # the caller's id, unique per user, that makes recording an outcome idempotent.
    """
    CREATE TABLE outcomes (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        external_id TEXT,
        trace_id TEXT,
        kind TEXT NOT NULL,
        name TEXT,
        value REAL,
        label TEXT,
        used_item_ids TEXT,
        occurred_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX outcomes_external
        ON outcomes (workspace_id, user_id, external_id) WHERE external_id IS NOT NULL;
    CREATE INDEX outcomes_user ON outcomes (workspace_id, user_id, id);
    CREATE INDEX outcomes_trace ON outcomes (workspace_id, trace_id) WHERE trace_id IS NOT NULL;
    """,
    # 11: experiments — variants of the context configuration — and each user's first exposure
    # to one. Users are assigned by hashing (nothing stored per user until they meet it); the
    # exposure is what the analysis splits a user's outcomes at (pre-period vs experiment).
    """
    CREATE TABLE experiments (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        description TEXT,
        variants TEXT NOT NULL,
        control TEXT NOT NULL,
        layer TEXT,
        traffic REAL NOT NULL,
        bucket_start INTEGER NOT NULL,
        bucket_end INTEGER NOT NULL,
        salt TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        stopped_at TEXT,
        UNIQUE (workspace_id, name)
    );
    CREATE TABLE experiment_exposures (
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
        variant TEXT NOT NULL,
        exposed_at TEXT NOT NULL,
        PRIMARY KEY (workspace_id, user_id, experiment_id)
    );
    CREATE INDEX experiment_exposures_experiment
        ON experiment_exposures (workspace_id, experiment_id);
    """,
    # 12: alerts — a drift or a regression found in a workspace, open until a check no longer
    # finds it. At most one open alert a key (what drifted), so an ongoing drift is one record
    # however many checks see it. ``drift_checks``: when each workspace's drift was last checked
    # by a worker and whether a check was asked for since (so many workers run one check).
    """
    CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}',
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        seen_count INTEGER NOT NULL,
        resolved_at TEXT,
        delivery TEXT NOT NULL,
        delivery_attempts INTEGER NOT NULL DEFAULT 0,
        delivery_error TEXT,
        delivered_at TEXT
    );
    CREATE UNIQUE INDEX alerts_open_key ON alerts (workspace_id, key) WHERE status = 'open';
    CREATE INDEX alerts_workspace ON alerts (workspace_id, id);
    CREATE TABLE drift_checks (
        workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
        last_run_at TEXT,
        requested_at TEXT
    );
    """,
    # 13: the self-model as of any moment (docs/debugging.md). Rows are stamped with the user's
    # revision that wrote them (a trace records the revisions it read); every write of a belief
    # appends its whole state to ``belief_versions``; a vector that is replaced moves to
    # ``vector_history``. Rows written before this version read as revision 0, and each belief's
    # state at the upgrade is its first version, known from its creation on (reals spelt with 17
    # digits: json_object's own 15 would not give back the same double).
    """
    ALTER TABLE observations ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE vectors ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE belief_versions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        belief_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        recorded_at TEXT NOT NULL,
        state TEXT NOT NULL
    );
    CREATE INDEX belief_versions_user ON belief_versions (workspace_id, user_id, revision);
    CREATE TABLE vector_history (
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        item_type TEXT NOT NULL,
        item_id TEXT NOT NULL,
        model TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vector BLOB NOT NULL,
        revision INTEGER NOT NULL,
        replaced_at INTEGER NOT NULL,
        PRIMARY KEY (item_type, item_id, model, replaced_at)
    );
    CREATE INDEX vector_history_user ON vector_history (workspace_id, user_id, item_type, model);
    INSERT INTO belief_versions (workspace_id, user_id, belief_id, revision, recorded_at, state)
        SELECT workspace_id, user_id, id, 0, created_at, json_object(
            'id', id, 'workspace_id', workspace_id, 'user_id', user_id,
            'statement', statement, 'kind', kind,
            'confidence', json(printf('%!.17g', confidence)), 'origin', origin, 'status', status,
            'created_at', created_at, 'updated_at', updated_at,
            'area_id', context_id, 'valid_from', valid_from, 'valid_to', valid_to,
            'evidence_logit', json(printf('%!.17g', evidence_logit)),
            'last_evidence_at', last_evidence_at,
            'support_count', support_count, 'contradict_count', contradict_count,
            'superseded_by', superseded_by, 'frame', json(frame), 'occasions', json(occasions),
            'metadata', json(metadata))
        FROM beliefs ORDER BY id;
    """,
    # 14: warm indexes follow each user's revision instead of counting their rows: the rows
    # stamped after the revision an index read are what changed (an index on the observations'
    # stamps finds them), and ``pruned_revision`` is the revision at which retention last
    # deleted any (an index that read an earlier one is built again).
    """
    ALTER TABLE users ADD COLUMN pruned_revision INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX observations_user_revision ON observations (workspace_id, user_id, revision);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
