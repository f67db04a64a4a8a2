"""Settings: grouped by concern, read from the same flat ``SELFMODEL_*`` variables as always,
bounded, and a bad value stops the start with one clear error naming the variable."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from selfmodel import ConfigurationError, PayloadTooLargeError, SelfModel, Settings
from selfmodel.cli import app as cli
from selfmodel.config import (
    RetrievalSettings,
    ServerSettings,
    SettingsGroup,
    env_var,
    override,
)
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.server import create_app
from selfmodel.worker import Worker

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

# Every variable of the flat settings class this layout replaced: their names are a contract.
# (variable, group of Settings, value set, value read); the field is the variable's own name.
EARLIER_VARIABLES: list[tuple[str, str, str, Any]] = [
    ("SELFMODEL_DB", "database", "/data/sm.db", "/data/sm.db"),
    ("SELFMODEL_WORKSPACE", "database", "acme", "acme"),
    ("SELFMODEL_EMBEDDER", "embedding", "openai", "openai"),
    ("SELFMODEL_EMBEDDING_MODEL", "embedding", "m", "m"),
    ("SELFMODEL_EMBEDDING_BASE_URL", "embedding", "http://e", "http://e"),
    ("SELFMODEL_EMBEDDING_API_KEY", "embedding", "k1", "k1"),
    ("SELFMODEL_EMBEDDING_BATCH_SIZE", "embedding", "16", 16),
    ("SELFMODEL_EXTRACTOR", "extraction", "llm", "llm"),
    ("SELFMODEL_SPACY_MODEL", "extraction", "en_core_web_md", "en_core_web_md"),
    ("SELFMODEL_LLM_BASE_URL", "extraction", "http://l", "http://l"),
    ("SELFMODEL_LLM_MODEL", "extraction", "gpt", "gpt"),
    ("SELFMODEL_LLM_API_KEY", "extraction", "k2", "k2"),
    ("SELFMODEL_LLM_TIMEOUT_S", "extraction", "12.5", 12.5),
    ("SELFMODEL_LLM_MAX_RETRIES", "extraction", "0", 0),
    ("SELFMODEL_MAX_MESSAGE_CHARS", "limits", "500", 500),
    ("SELFMODEL_MAX_BATCH_MESSAGES", "limits", "7", 7),
    ("SELFMODEL_DEFAULT_BUDGET_TOKENS", "retrieval", "120", 120),
    ("SELFMODEL_MIRROR_SECRET", "mirror", "a-secret-of-24-chars-xyz", "a-secret-of-24-chars-xyz"),
    ("SELFMODEL_MIRROR_LINK_TTL_S", "mirror", "3600", 3600),
]
# What used to be constants and CLI defaults, settable now.
NEW_VARIABLES: list[tuple[str, str, str, Any]] = [
    ("SELFMODEL_HOST", "server", "0.0.0.0", "0.0.0.0"),
    ("SELFMODEL_EMBEDDING_PRECISION", "embedding", "float32", "float32"),
    ("SELFMODEL_MIRROR_PRODUCT_NAME", "mirror", "Coachly", "Coachly"),
    ("SELFMODEL_PORT", "server", "9000", 9000),
    ("SELFMODEL_MAX_BODY_BYTES", "server", "1024", 1024),
    ("SELFMODEL_IDEMPOTENCY_TTL_S", "server", "60", 60.0),
    ("SELFMODEL_KEY_USAGE_FLUSH_S", "server", "5", 5.0),
    ("SELFMODEL_PUBLIC_URL", "server", "https://mirror.example.com", "https://mirror.example.com"),
    ("SELFMODEL_WORKER_CONCURRENCY", "worker", "4", 4),
    ("SELFMODEL_WORKER_BATCH", "worker", "2", 2),
    ("SELFMODEL_WORKER_LEASE_S", "worker", "30", 30.0),
    ("SELFMODEL_WORKER_IDLE_S", "worker", "0.5", 0.5),
    ("SELFMODEL_WORKER_RETENTION_INTERVAL_S", "worker", "600", 600.0),
    ("SELFMODEL_WORKER_DRIFT_INTERVAL_S", "worker", "3600", 3600.0),
    # Thresholds of drift, change points and comparisons (docs/evaluation.md says why each).
    ("SELFMODEL_DRIFT_ALPHA", "monitoring", "0.001", 0.001),
    ("SELFMODEL_DRIFT_PERMUTATIONS", "monitoring", "1000", 1000),
    ("SELFMODEL_DRIFT_PSI_THRESHOLD", "monitoring", "0.1", 0.1),
    ("SELFMODEL_DRIFT_CURRENT_DAYS", "monitoring", "1", 1.0),
    ("SELFMODEL_DRIFT_REFERENCE_DAYS", "monitoring", "30", 30.0),
    ("SELFMODEL_DRIFT_MIN_QUERIES", "monitoring", "20", 20),
    ("SELFMODEL_QUALITY_ALPHA", "monitoring", "0.01", 0.01),
    ("SELFMODEL_QUALITY_MIN_RUNS", "monitoring", "12", 12),
    ("SELFMODEL_COMPARE_ALPHA", "monitoring", "0.01", 0.01),
    (
        "SELFMODEL_ALERT_WEBHOOK_URL",
        "monitoring",
        "https://h.example/a?k=1",
        "https://h.example/a?k=1",
    ),
    ("SELFMODEL_ALERT_WEBHOOK_SECRET", "monitoring", "s" * 20, "s" * 20),
    ("SELFMODEL_ALERT_WEBHOOK_TIMEOUT_S", "monitoring", "2", 2.0),
    ("SELFMODEL_ALERT_WEBHOOK_ATTEMPTS", "monitoring", "1", 1),
    # OpenTelemetry spans (docs/debugging.md).
    ("SELFMODEL_OTEL_SPANS", "telemetry", "false", False),
    ("SELFMODEL_OTEL_USER_IDS", "telemetry", "hashed", "hashed"),
    # Thresholds of `selfmodel audit` (docs/audit.md says why each).
    ("SELFMODEL_AUDIT_DAYS", "audit", "24.0", 24.0),
    ("SELFMODEL_AUDIT_EVAL_MAX_AGE_DAYS", "audit", "5.6", 5.6),
    ("SELFMODEL_AUDIT_EVAL_COVERAGE", "audit", "0.85", 0.85),
    ("SELFMODEL_AUDIT_EVAL_COVERAGE_FAILING", "audit", "0.25", 0.25),
    ("SELFMODEL_AUDIT_CONTEXT_P95_MS", "audit", "400.0", 400.0),
    ("SELFMODEL_AUDIT_CONTEXT_P95_FAILING_MS", "audit", "3000.0", 3000.0),
    ("SELFMODEL_AUDIT_RECALL_FALL", "audit", "0.08", 0.08),
    ("SELFMODEL_AUDIT_RECALL_FALL_FAILING", "audit", "0.25", 0.25),
    ("SELFMODEL_AUDIT_STALE_SHARE", "audit", "0.008", 0.008),
    ("SELFMODEL_AUDIT_STALE_SHARE_FAILING", "audit", "0.1", 0.1),
    ("SELFMODEL_AUDIT_FULL_BLOCKS", "audit", "0.4", 0.4),
    ("SELFMODEL_AUDIT_FULL_BLOCKS_FAILING", "audit", "0.95", 0.95),
    ("SELFMODEL_AUDIT_TRACED_ANSWERS", "audit", "0.95", 0.95),
    ("SELFMODEL_AUDIT_TRACED_ANSWERS_FAILING", "audit", "0.25", 0.25),
    ("SELFMODEL_AUDIT_REPLAY_SAMPLE", "audit", "5", 5),
    ("SELFMODEL_AUDIT_REPLAY_REPRODUCED", "audit", "0.95", 0.95),
    ("SELFMODEL_AUDIT_REPLAY_REPRODUCED_FAILING", "audit", "0.45", 0.45),
    ("SELFMODEL_AUDIT_UNEXPLAINED", "audit", "0.008", 0.008),
    ("SELFMODEL_AUDIT_UNEXPLAINED_FAILING", "audit", "0.1", 0.1),
    ("SELFMODEL_AUDIT_OUTCOME_COVERAGE", "audit", "0.25", 0.25),
    ("SELFMODEL_AUDIT_OUTCOME_COVERAGE_FAILING", "audit", "0.025", 0.025),
    ("SELFMODEL_AUDIT_CORRELATION_ALPHA", "audit", "0.01", 0.01),
    ("SELFMODEL_AUDIT_SPECIFICITY", "audit", "0.35", 0.35),
    ("SELFMODEL_AUDIT_SPECIFICITY_FAILING", "audit", "0.05", 0.05),
    ("SELFMODEL_AUDIT_DISTINCTIVENESS", "audit", "0.35", 0.35),
    ("SELFMODEL_AUDIT_DISTINCTIVENESS_FAILING", "audit", "0.05", 0.05),
    ("SELFMODEL_AUDIT_COVERAGE", "audit", "0.85", 0.85),
    ("SELFMODEL_AUDIT_COVERAGE_FAILING", "audit", "0.25", 0.25),
    ("SELFMODEL_AUDIT_CORRECTIONS", "audit", "0.08", 0.08),
    ("SELFMODEL_AUDIT_CORRECTIONS_FAILING", "audit", "0.3", 0.3),
    ("SELFMODEL_AUDIT_MAX_USER_OBSERVATIONS", "audit", "20000", 20000),
    ("SELFMODEL_AUDIT_BACKLOG_AGE_S", "audit", "240.0", 240.0),
    ("SELFMODEL_AUDIT_BACKLOG_AGE_FAILING_S", "audit", "5400.0", 5400.0),
    ("SELFMODEL_AUDIT_HORIZON_MONTHS", "audit", "9.6", 9.6),
    ("SELFMODEL_AUDIT_SQLITE_MAX_GB", "audit", "16.0", 16.0),
    ("SELFMODEL_AUDIT_SQLITE_WRITES_PER_S", "audit", "400.0", 400.0),
]


@pytest.mark.parametrize(
    ("variable", "group", "value", "expected"),
    EARLIER_VARIABLES + NEW_VARIABLES,
    ids=[row[0] for row in EARLIER_VARIABLES + NEW_VARIABLES],
)
def test_each_variable_sets_its_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, group: str, value: str, expected: Any
) -> None:
    monkeypatch.setenv(variable, value)
    field = variable.removeprefix("SELFMODEL_").lower()
    assert getattr(getattr(Settings(), group), field) == expected


def test_every_setting_is_listed_above() -> None:
    variables = set()
    for group in Settings.model_fields.values():
        assert isinstance(group.annotation, type) and issubclass(group.annotation, SettingsGroup)
        variables |= {env_var(name) for name in group.annotation.model_fields}
    assert variables == {row[0] for row in EARLIER_VARIABLES + NEW_VARIABLES}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SELFMODEL_DEFAULT_BUDGET_TOKENS", "-5"),
        ("SELFMODEL_DEFAULT_BUDGET_TOKENS", "0"),
        ("SELFMODEL_DEFAULT_BUDGET_TOKENS", "32001"),
        ("SELFMODEL_DEFAULT_BUDGET_TOKENS", "many"),
        ("SELFMODEL_EXTRACTOR", "gpt"),
        ("SELFMODEL_EMBEDDER", "word2vec"),
        ("SELFMODEL_DB", ""),
        ("SELFMODEL_EMBEDDING_BATCH_SIZE", "0"),
        ("SELFMODEL_EMBEDDING_PRECISION", "bfloat16"),
        ("SELFMODEL_WORKER_RETENTION_INTERVAL_S", "0"),
        ("SELFMODEL_LLM_TIMEOUT_S", "0"),
        ("SELFMODEL_LLM_MAX_RETRIES", "-1"),
        ("SELFMODEL_MAX_MESSAGE_CHARS", "0"),
        ("SELFMODEL_MAX_BATCH_MESSAGES", "-3"),
        ("SELFMODEL_PORT", "70000"),
        ("SELFMODEL_MAX_BODY_BYTES", "0"),
        ("SELFMODEL_IDEMPOTENCY_TTL_S", "0"),
        ("SELFMODEL_KEY_USAGE_FLUSH_S", "0"),
        ("SELFMODEL_KEY_USAGE_FLUSH_S", "-1"),
        ("SELFMODEL_KEY_USAGE_FLUSH_S", "nan"),
        ("SELFMODEL_KEY_USAGE_FLUSH_S", "inf"),
        ("SELFMODEL_PUBLIC_URL", "mirror.example.com"),
        ("SELFMODEL_PUBLIC_URL", "https://mirror.example.com/?next=evil"),
        ("SELFMODEL_WORKER_CONCURRENCY", "0"),
        ("SELFMODEL_WORKER_BATCH", "0"),
        ("SELFMODEL_WORKER_LEASE_S", "0"),
        ("SELFMODEL_WORKER_IDLE_S", "0"),
        ("SELFMODEL_MIRROR_LINK_TTL_S", "59"),
        ("SELFMODEL_MIRROR_LINK_TTL_S", str(30 * 86_400 + 1)),
        ("SELFMODEL_WORKER_DRIFT_INTERVAL_S", "0"),
        ("SELFMODEL_DRIFT_ALPHA", "0"),
        ("SELFMODEL_DRIFT_ALPHA", "1"),
        ("SELFMODEL_DRIFT_PERMUTATIONS", "10"),
        ("SELFMODEL_DRIFT_CURRENT_DAYS", "0"),
        ("SELFMODEL_DRIFT_MIN_QUERIES", "1"),
        ("SELFMODEL_QUALITY_ALPHA", "1.5"),
        ("SELFMODEL_QUALITY_MIN_RUNS", "2"),
        ("SELFMODEL_COMPARE_ALPHA", "-0.05"),
        ("SELFMODEL_ALERT_WEBHOOK_URL", "hooks.example.com/x"),
        ("SELFMODEL_ALERT_WEBHOOK_URL", "ftp://hooks.example.com/x"),
        ("SELFMODEL_ALERT_WEBHOOK_ATTEMPTS", "0"),
        ("SELFMODEL_ALERT_WEBHOOK_SECRET", "short"),
        ("SELFMODEL_MIRROR_PRODUCT_NAME", "x" * 81),
        ("SELFMODEL_OTEL_USER_IDS", "yes"),
        ("SELFMODEL_OTEL_SPANS", "sometimes"),
        ("SELFMODEL_AUDIT_DAYS", "0"),
        ("SELFMODEL_AUDIT_DAYS", "367"),
        ("SELFMODEL_AUDIT_EVAL_COVERAGE", "1.5"),
        ("SELFMODEL_AUDIT_REPLAY_SAMPLE", "-1"),
        ("SELFMODEL_AUDIT_CORRELATION_ALPHA", "1"),
    ],
)
def test_a_value_out_of_bounds_is_a_configuration_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=f"^invalid setting {variable}=") as raised:
        Settings()
    assert raised.value.details["settings"] == [variable]
    assert "\n" not in raised.value.message


@pytest.mark.parametrize(
    ("variable", "value", "other"),
    [
        ("SELFMODEL_AUDIT_COVERAGE_FAILING", "0.9", "SELFMODEL_AUDIT_COVERAGE"),
        ("SELFMODEL_AUDIT_CONTEXT_P95_MS", "5000", "SELFMODEL_AUDIT_CONTEXT_P95_FAILING_MS"),
    ],
)
def test_an_audit_check_may_not_fail_before_it_is_at_risk(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, other: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match="a check is at risk before it fails") as raised:
        Settings()
    assert set(raised.value.details["settings"]) == {variable, other}


def test_values_at_the_bounds_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in [
        ("SELFMODEL_DEFAULT_BUDGET_TOKENS", "32000"),
        ("SELFMODEL_LLM_MAX_RETRIES", "0"),
        ("SELFMODEL_PORT", "65535"),
        ("SELFMODEL_MIRROR_LINK_TTL_S", "60"),
        ("SELFMODEL_WORKER_LEASE_S", "1"),
    ]:
        monkeypatch.setenv(variable, value)
    Settings()


def test_the_error_message_is_the_one_the_docs_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFMODEL_EXTRACTOR", "gpt")
    with pytest.raises(ConfigurationError) as raised:
        Settings()
    message = "invalid setting SELFMODEL_EXTRACTOR='gpt': Input should be 'local' or 'llm'"
    assert raised.value.message == message
    assert f"error: {message}" in (ROOT / "docs" / "configuration.md").read_text()


def test_every_bad_variable_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFMODEL_PORT", "0")
    monkeypatch.setenv("SELFMODEL_KEY_USAGE_FLUSH_S", "0")
    with pytest.raises(ConfigurationError) as raised:
        Settings()
    assert raised.value.details["settings"] == ["SELFMODEL_PORT", "SELFMODEL_KEY_USAGE_FLUSH_S"]


def test_a_rejected_secret_is_not_repeated_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFMODEL_MIRROR_SECRET", "tiny-secret")
    with pytest.raises(ConfigurationError, match="SELFMODEL_MIRROR_SECRET") as raised:
        Settings()
    assert "tiny-secret" not in raised.value.message
    monkeypatch.setenv("SELFMODEL_MIRROR_SECRET", "a-long-enough-secret-value")
    assert "a-long-enough-secret-value" not in repr(Settings())


def test_a_group_given_in_code_is_bounded_too_and_reads_the_rest_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigurationError, match="SELFMODEL_DEFAULT_BUDGET_TOKENS"):
        RetrievalSettings(default_budget_tokens=-1)
    monkeypatch.setenv("SELFMODEL_IDEMPOTENCY_TTL_S", "90")
    server = ServerSettings(port=9001)
    assert (server.port, server.idempotency_ttl_s) == (9001, 90.0)


def test_an_override_keeps_what_is_not_given_and_checks_the_same_bounds() -> None:
    server = ServerSettings(port=9001)
    assert override(server, port=None, host="0.0.0.0") == ServerSettings(host="0.0.0.0", port=9001)
    with pytest.raises(ConfigurationError, match="SELFMODEL_PORT=0"):
        override(server, port=0)


def test_the_engine_follows_its_input_limits_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, db_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    monkeypatch.setenv("SELFMODEL_MAX_MESSAGE_CHARS", "40")
    with (
        SelfModel.open(str(db_path), embedder=embedder) as sm,
        pytest.raises(PayloadTooLargeError, match="40"),
    ):
        sm.observe("maya", "x" * 41)


def test_the_server_and_its_worker_follow_the_environment(
    monkeypatch: pytest.MonkeyPatch, db_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    monkeypatch.setenv("SELFMODEL_MAX_BODY_BYTES", "1000")
    monkeypatch.setenv("SELFMODEL_WORKER_BATCH", "3")
    monkeypatch.setenv("SELFMODEL_WORKER_IDLE_S", "0.05")
    with SelfModel.open(str(db_path), embedder=embedder) as sm:
        client = TestClient(create_app(sm))
        assert client.post("/v1/context", content=b"{" + b" " * 1_000 + b"}").status_code == 413
        worker = Worker(sm)
        assert (worker.batch, worker.idle_sleep, worker.concurrency) == (3, 0.05, 1)


# -- the command line reads the settings; no default of its own -------------------------------


def seed(db: Path, embedder: SentenceTransformerEmbedder, workspace: str = "default") -> None:
    with SelfModel.open(str(db), embedder=embedder, workspace=workspace) as sm:
        sm.observe("maya", ["I love hiking in the mountains.", "I'm a nurse in Leeds."])


def test_context_budget_defaults_to_the_setting(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    db = tmp_path / "cli.db"
    seed(db, embedder)
    args = ["context", "maya", "what does she do?", "--db", str(db), "--json"]

    def budget(env: dict[str, str], *extra: str) -> int:
        result = runner.invoke(cli, [*args, *extra], env={"COLUMNS": "200", **env})
        assert result.exit_code == 0, result.output
        return int(json.loads(result.output)["budget_tokens"])

    assert budget({}) == RetrievalSettings.model_fields["default_budget_tokens"].default
    assert budget({"SELFMODEL_DEFAULT_BUDGET_TOKENS": "42"}) == 42
    assert budget({"SELFMODEL_DEFAULT_BUDGET_TOKENS": "42"}, "--budget", "77") == 77


def test_the_workspace_and_database_default_to_the_settings(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    db = tmp_path / "acme.db"
    seed(db, embedder, workspace="acme")
    env = {"SELFMODEL_DB": str(db)}
    assert runner.invoke(cli, ["users"], env=env).output.split() == []
    acme = runner.invoke(cli, ["users"], env={**env, "SELFMODEL_WORKSPACE": "acme"})
    assert acme.exit_code == 0, acme.output
    assert acme.output.split() == ["maya"]


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["users"], {"SELFMODEL_DEFAULT_BUDGET_TOKENS": "-5"}, "SELFMODEL_DEFAULT_BUDGET_TOKENS"),
        (["workspace", "list"], {"SELFMODEL_EXTRACTOR": "gpt"}, "SELFMODEL_EXTRACTOR"),
        (["serve", "--port", "0"], {}, "SELFMODEL_PORT"),
        (["serve"], {"SELFMODEL_KEY_USAGE_FLUSH_S": "0"}, "SELFMODEL_KEY_USAGE_FLUSH_S"),
        (["worker", "--batch", "0", "--until-idle"], {}, "SELFMODEL_WORKER_BATCH"),
    ],
)
def test_a_bad_setting_is_one_line_on_the_command_line(
    tmp_path: Path, args: list[str], env: dict[str, str], named: str
) -> None:
    result = runner.invoke(
        cli, [*args, "--db", str(tmp_path / "never.db")], env={"COLUMNS": "60", **env}
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert result.output.startswith(f"error: invalid setting {named}=")
    assert not (tmp_path / "never.db").exists()


def test_configuration_reference_is_generated_from_the_settings() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import settings_docs
    finally:
        sys.path.pop(0)
    assert (ROOT / "docs" / "configuration.md").read_text() == settings_docs.render(), (
        "docs/configuration.md is stale: run `python scripts/settings_docs.py`"
    )


def test_a_public_url_that_is_no_origin_says_what_to_give(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFMODEL_PUBLIC_URL", "mirror.example.com")
    with pytest.raises(ConfigurationError) as raised:
        Settings()
    assert "SELFMODEL_PUBLIC_URL" in raised.value.message
    assert "e.g. https://mirror.example.com" in raised.value.message
