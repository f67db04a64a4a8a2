"""Versioned schema migrations for the PostgreSQL store: the same versions and tables as SQLite.

Version ``n`` here matches version ``n`` of ``migrations.py``. The differences are types (real
timestamps, JSONB, BYTEA, BOOLEAN) and keys: every key and index leads with ``workspace_id`` and
``user_id`` so the schema can be distributed by user (e.g. Citus). Identifiers and names use the
"C" collation so they sort byte-wise, exactly as SQLite sorts them. The version lives in
``selfmodel_schema``; migrations run under an advisory lock, so many processes may start at once.
"""

from __future__ import annotations

# Identifier columns are TEXT COLLATE "C": byte-wise, so time-prefixed ids sort by creation time
# whatever the server's locale.
MIGRATIONS: list[str] = [
    # 1: the core self-model.
    """
    CREATE TABLE workspaces (
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT COLLATE "C" NOT NULL UNIQUE,
        settings JSONB NOT NULL DEFAULT '{}',
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE users (
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        id TEXT COLLATE "C" NOT NULL,
        external_id TEXT COLLATE "C" NOT NULL,
        display_name TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (workspace_id, id),
        UNIQUE (workspace_id, external_id)
    );
    CREATE TABLE contexts (
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        id TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (workspace_id, id),
        UNIQUE (workspace_id, name)
    );
    CREATE TABLE observations (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        external_id TEXT COLLATE "C",
        kind TEXT NOT NULL,
        role TEXT NOT NULL,
        speaker TEXT,
        source TEXT,
        context_id TEXT COLLATE "C",
        content TEXT NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL,
        metadata JSONB NOT NULL DEFAULT '{}',
        PRIMARY KEY (workspace_id, user_id, id),
        FOREIGN KEY (workspace_id, user_id) REFERENCES users(workspace_id, id) ON DELETE CASCADE
    );
    CREATE UNIQUE INDEX observations_external
        ON observations (workspace_id, user_id, external_id) WHERE external_id IS NOT NULL;
    CREATE INDEX observations_user_time ON observations (workspace_id, user_id, occurred_at);
    CREATE INDEX observations_id ON observations (workspace_id, id);
    CREATE TABLE beliefs (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        context_id TEXT COLLATE "C",
        statement TEXT NOT NULL,
        kind TEXT NOT NULL,
        confidence DOUBLE PRECISION NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
        origin TEXT NOT NULL,
        status TEXT NOT NULL,
        valid_from TIMESTAMPTZ,
        valid_to TIMESTAMPTZ,
        evidence_logit DOUBLE PRECISION NOT NULL DEFAULT 0,
        last_evidence_at TIMESTAMPTZ,
        support_count INTEGER NOT NULL DEFAULT 0,
        contradict_count INTEGER NOT NULL DEFAULT 0,
        superseded_by TEXT COLLATE "C",
        metadata JSONB NOT NULL DEFAULT '{}',
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (workspace_id, user_id, id),
        FOREIGN KEY (workspace_id, user_id) REFERENCES users(workspace_id, id) ON DELETE CASCADE
    );
    CREATE INDEX beliefs_user_status ON beliefs (workspace_id, user_id, status);
    CREATE INDEX beliefs_id ON beliefs (workspace_id, id);
    CREATE TABLE evidence (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        belief_id TEXT COLLATE "C" NOT NULL,
        observation_id TEXT COLLATE "C" NOT NULL,
        stance TEXT NOT NULL,
        weight DOUBLE PRECISION NOT NULL,
        span_start INTEGER,
        span_end INTEGER,
        quote TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (workspace_id, user_id, belief_id, observation_id, stance),
        FOREIGN KEY (workspace_id, user_id, belief_id)
            REFERENCES beliefs(workspace_id, user_id, id) ON DELETE CASCADE,
        FOREIGN KEY (workspace_id, user_id, observation_id)
            REFERENCES observations(workspace_id, user_id, id) ON DELETE CASCADE
    );
    CREATE INDEX evidence_belief ON evidence (workspace_id, belief_id);
    CREATE INDEX evidence_observation ON evidence (workspace_id, user_id, observation_id);
    CREATE TABLE belief_events (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        belief_id TEXT COLLATE "C" NOT NULL,
        type TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        cause TEXT NOT NULL,
        observation_id TEXT COLLATE "C",
        confidence_before DOUBLE PRECISION,
        confidence_after DOUBLE PRECISION,
        details JSONB NOT NULL DEFAULT '{}',
        PRIMARY KEY (workspace_id, user_id, id),
        FOREIGN KEY (workspace_id, user_id, belief_id)
            REFERENCES beliefs(workspace_id, user_id, id) ON DELETE CASCADE
    );
    CREATE INDEX belief_events_belief ON belief_events (workspace_id, belief_id, at);
    CREATE INDEX belief_events_user ON belief_events (workspace_id, user_id, at);
    """,
    # 2: stored embeddings and context traces.
    """
    CREATE TABLE vectors (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        item_type TEXT NOT NULL,
        model TEXT NOT NULL,
        item_id TEXT COLLATE "C" NOT NULL,
        dim INTEGER NOT NULL,
        vector BYTEA NOT NULL,
        PRIMARY KEY (workspace_id, user_id, item_type, model, item_id),
        FOREIGN KEY (workspace_id, user_id) REFERENCES users(workspace_id, id) ON DELETE CASCADE
    );
    CREATE TABLE traces (
        workspace_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        query TEXT NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL,
        config JSONB NOT NULL,
        payload JSONB NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (workspace_id, id)
    );
    CREATE TABLE trace_users (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        trace_id TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (workspace_id, user_id, trace_id),
        FOREIGN KEY (workspace_id, trace_id) REFERENCES traces(workspace_id, id) ON DELETE CASCADE,
        FOREIGN KEY (workspace_id, user_id) REFERENCES users(workspace_id, id) ON DELETE CASCADE
    );
    CREATE INDEX trace_users_trace ON trace_users (workspace_id, trace_id);
    """,
    # 3: the durable work queue, workspace API keys, idempotency keys for HTTP writes.
    """
    CREATE TABLE jobs (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL,
        payload JSONB NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        run_after TIMESTAMPTZ NOT NULL,
        locked_by TEXT,
        locked_until TIMESTAMPTZ,
        last_error TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (workspace_id, user_id, id),
        FOREIGN KEY (workspace_id, user_id) REFERENCES users(workspace_id, id) ON DELETE CASCADE
    );
    -- The one cross-user index: claimers look for due work of any user. Partial, so finished
    -- jobs (the bulk of the table) cost it nothing.
    CREATE INDEX jobs_ready ON jobs (run_after) WHERE status IN ('queued', 'running');
    CREATE INDEX jobs_user ON jobs (workspace_id, user_id, status);
    CREATE INDEX jobs_id ON jobs (id);
    CREATE TABLE api_keys (
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        id TEXT COLLATE "C" NOT NULL,
        name TEXT,
        prefix TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        revoked_at TIMESTAMPTZ,
        last_used_at TIMESTAMPTZ,
        PRIMARY KEY (workspace_id, id)
    );
    CREATE TABLE idempotency_keys (
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status_code INTEGER NOT NULL,
        response TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (workspace_id, key)
    );
    """,
    # 4: the Mirror: minted links, per-workspace signing secrets, resonance cards.
    """
    CREATE TABLE mirror_links (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        revoked_at TIMESTAMPTZ,
        PRIMARY KEY (workspace_id, user_id, id),
        FOREIGN KEY (workspace_id, user_id) REFERENCES users(workspace_id, id) ON DELETE CASCADE
    );
    CREATE INDEX mirror_links_id ON mirror_links (workspace_id, id);
    CREATE TABLE mirror_secrets (
        workspace_id TEXT COLLATE "C" PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
        secret TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE mirror_prompts (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        statement TEXT NOT NULL,
        kind TEXT NOT NULL,
        source TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        answered_at TIMESTAMPTZ,
        selected BOOLEAN,
        observation_id TEXT COLLATE "C",
        belief_id TEXT COLLATE "C",
        PRIMARY KEY (workspace_id, user_id, id),
        FOREIGN KEY (workspace_id, user_id) REFERENCES users(workspace_id, id) ON DELETE CASCADE
    );
    CREATE INDEX mirror_prompts_user ON mirror_prompts (workspace_id, user_id, answered_at);
    """,
    # 5: belief frames and evidence per occasion.
    """
    ALTER TABLE beliefs ADD COLUMN frame JSONB NOT NULL DEFAULT '{}';
    ALTER TABLE beliefs ADD COLUMN occasions JSONB NOT NULL DEFAULT '[]';
    """,
    # 6: a per-user revision, moved by every write that holds the user.
    """
    ALTER TABLE users ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
    """,
    # 7: the user an idempotency record's answer is about (forget deletes it).
    """
    ALTER TABLE idempotency_keys ADD COLUMN user_id TEXT;
    CREATE INDEX idempotency_keys_user ON idempotency_keys (workspace_id, user_id);
    """,
    # 8: recorded evaluation runs and their per-item scores (ids and numbers only).
    """
    CREATE TABLE eval_runs (
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        id TEXT COLLATE "C" NOT NULL,
        suite TEXT NOT NULL,
        suite_kind TEXT NOT NULL,
        dataset_sha256 TEXT NOT NULL,
        config_sha256 TEXT NOT NULL,
        config JSONB NOT NULL,
        code_version JSONB NOT NULL,
        k INTEGER NOT NULL,
        item_count INTEGER NOT NULL,
        mean_recall DOUBLE PRECISION,
        summary JSONB NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (workspace_id, id)
    );
    CREATE TABLE eval_items (
        workspace_id TEXT COLLATE "C" NOT NULL,
        run_id TEXT COLLATE "C" NOT NULL,
        position INTEGER NOT NULL,
        item_id TEXT COLLATE "C" NOT NULL,
        category TEXT,
        recall DOUBLE PRECISION NOT NULL CHECK (recall >= 0 AND recall <= 1),
        evidence_found INTEGER NOT NULL,
        evidence_total INTEGER NOT NULL,
        violations INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (workspace_id, run_id, position),
        FOREIGN KEY (workspace_id, run_id) REFERENCES eval_runs(workspace_id, id) ON DELETE CASCADE
    );
    """,
    # 9: retention: evidence outlives the observation it quotes (its cascade from observations
    # is dropped), per-workspace retention policies, the audit log and its per-workspace key.
    """
    DO $$
    DECLARE found TEXT;
    BEGIN
        FOR found IN SELECT conname FROM pg_constraint
            WHERE conrelid = 'evidence'::regclass AND confrelid = 'observations'::regclass
        LOOP
            EXECUTE format('ALTER TABLE evidence DROP CONSTRAINT %I', found);
        END LOOP;
    END $$;
    CREATE TABLE retention_policies (
        workspace_id TEXT COLLATE "C" PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
        observations_max_age_days INTEGER,
        inactive_user_days INTEGER,
        traces_max_age_days INTEGER,
        updated_at TIMESTAMPTZ NOT NULL,
        last_run_at TIMESTAMPTZ
    );
    CREATE TABLE audit_log (
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        id TEXT COLLATE "C" NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        action TEXT NOT NULL,
        policy TEXT,
        subject TEXT,
        counts JSONB NOT NULL DEFAULT '{}',
        verified BOOLEAN NOT NULL,
        PRIMARY KEY (workspace_id, id)
    );
    CREATE TABLE audit_keys (
        workspace_id TEXT COLLATE "C" PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
        secret TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 10: outcomes (see migrations.py version 10).
    """
    CREATE TABLE outcomes (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        external_id TEXT COLLATE "C",
        trace_id TEXT COLLATE "C",
        kind TEXT NOT NULL,
        name TEXT COLLATE "C",
        value DOUBLE PRECISION,
        label TEXT,
        used_item_ids JSONB,
        occurred_at TIMESTAMPTZ NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (workspace_id, user_id, id),
        FOREIGN KEY (workspace_id, user_id) REFERENCES users(workspace_id, id) ON DELETE CASCADE
    );
    CREATE UNIQUE INDEX outcomes_external
        ON outcomes (workspace_id, user_id, external_id) WHERE external_id IS NOT NULL;
    CREATE INDEX outcomes_trace
        ON outcomes (workspace_id, user_id, trace_id) WHERE trace_id IS NOT NULL;
    """,
    # 11: experiments and first exposures (see migrations.py version 11).
    """
    CREATE TABLE experiments (
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        id TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        description TEXT,
        variants JSONB NOT NULL,
        control TEXT COLLATE "C" NOT NULL,
        layer TEXT COLLATE "C",
        traffic DOUBLE PRECISION NOT NULL,
        bucket_start INTEGER NOT NULL,
        bucket_end INTEGER NOT NULL,
        salt TEXT COLLATE "C" NOT NULL,
        status TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        stopped_at TIMESTAMPTZ,
        PRIMARY KEY (workspace_id, id),
        UNIQUE (workspace_id, name)
    );
    CREATE TABLE experiment_exposures (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        experiment_id TEXT COLLATE "C" NOT NULL,
        variant TEXT COLLATE "C" NOT NULL,
        exposed_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (workspace_id, user_id, experiment_id),
        FOREIGN KEY (workspace_id, user_id) REFERENCES users(workspace_id, id) ON DELETE CASCADE,
        FOREIGN KEY (workspace_id, experiment_id)
            REFERENCES experiments(workspace_id, id) ON DELETE CASCADE
    );
    CREATE INDEX experiment_exposures_experiment
        ON experiment_exposures (workspace_id, experiment_id);
    """,
    # 12: alerts and the drift-check schedule (see migrations.py version 12).
    """
    CREATE TABLE alerts (
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        id TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL,
        details JSONB NOT NULL DEFAULT '{}',
        first_seen_at TIMESTAMPTZ NOT NULL,
        last_seen_at TIMESTAMPTZ NOT NULL,
        seen_count INTEGER NOT NULL,
        resolved_at TIMESTAMPTZ,
        delivery TEXT NOT NULL,
        delivery_attempts INTEGER NOT NULL DEFAULT 0,
        delivery_error TEXT,
        delivered_at TIMESTAMPTZ,
        PRIMARY KEY (workspace_id, id)
    );
    CREATE UNIQUE INDEX alerts_open_key ON alerts (workspace_id, key) WHERE status = 'open';
    CREATE TABLE drift_checks (
        workspace_id TEXT COLLATE "C" PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
        last_run_at TIMESTAMPTZ,
        requested_at TIMESTAMPTZ
    );
    """,
    # 13: the self-model as of any moment (see migrations.py version 13).
    """
    ALTER TABLE observations ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE vectors ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
    CREATE TABLE belief_versions (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        belief_id TEXT COLLATE "C" NOT NULL,
        revision BIGINT NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL,
        state JSONB NOT NULL,
        PRIMARY KEY (workspace_id, user_id, seq),
        FOREIGN KEY (workspace_id, user_id) REFERENCES users(workspace_id, id) ON DELETE CASCADE
    );
    CREATE INDEX belief_versions_user ON belief_versions (workspace_id, user_id, revision);
    CREATE TABLE vector_history (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        item_type TEXT NOT NULL,
        model TEXT NOT NULL,
        item_id TEXT COLLATE "C" NOT NULL,
        dim INTEGER NOT NULL,
        vector BYTEA NOT NULL,
        revision BIGINT NOT NULL,
        replaced_at BIGINT NOT NULL,
        PRIMARY KEY (workspace_id, user_id, item_type, model, item_id, replaced_at),
        FOREIGN KEY (workspace_id, user_id) REFERENCES users(workspace_id, id) ON DELETE CASCADE
    );
    INSERT INTO belief_versions (workspace_id, user_id, belief_id, revision, recorded_at, state)
        SELECT workspace_id, user_id, id, 0, created_at, jsonb_build_object(
            'id', id, 'workspace_id', workspace_id, 'user_id', user_id,
            'statement', statement, 'kind', kind, 'confidence', confidence, 'origin', origin,
            'status', status, 'created_at', created_at, 'updated_at', updated_at,
            'area_id', context_id, 'valid_from', valid_from, 'valid_to', valid_to,
            'evidence_logit', evidence_logit, 'last_evidence_at', last_evidence_at,
            'support_count', support_count, 'contradict_count', contradict_count,
            'superseded_by', superseded_by, 'frame', frame, 'occasions', occasions,
            'metadata', metadata)
        FROM beliefs ORDER BY id;
    """,
    # 14: warm indexes follow each user's revision instead of counting their rows: the rows
    # stamped after the revision an index read are what changed (an index on the observations'
    # stamps finds them), and ``pruned_revision`` is the revision at which retention last
    # deleted any (an index that read an earlier one is built again).
    """
    ALTER TABLE users ADD COLUMN pruned_revision BIGINT NOT NULL DEFAULT 0;
    CREATE INDEX observations_user_revision ON observations (workspace_id, user_id, revision);
    -- A trace's payload (tens of kB a context call) is kept as written: parsing it into jsonb
    -- cost the server twice the time of checking it (25 kB: 400-500 us against 200-250), and
    -- nothing reads inside it by index.
    ALTER TABLE traces ALTER COLUMN payload TYPE JSON USING payload::json;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
# pg_advisory_xact_lock key serialising migrations across processes ("selfmodl" in ASCII).
MIGRATION_LOCK_KEY = 0x73656C666D6F646C
