"""Request and response bodies of the HTTP API (pydantic). Domain records are returned as-is."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    model_validator,
)

from selfmodel.config import MAX_BUDGET_TOKENS
from selfmodel.deprecation import either
from selfmodel.domain import (
    Belief,
    BeliefKind,
    IssuedMirrorLink,
    ObservationKind,
    ResonanceCard,
    Role,
    Scope,
    TraceRecord,
)
from selfmodel.domain.experiments import MAX_DESCRIPTION_CHARS, MAX_VARIANTS, MIN_VARIANTS
from selfmodel.domain.outcomes import (
    MAX_LABEL_CHARS,
    MAX_OUTCOME_ID_CHARS,
    MAX_USED_ITEMS,
    OutcomeKind,
)
from selfmodel.domain.retention import MAX_RETENTION_DAYS, MIN_RETENTION_DAYS
from selfmodel.domain.time import to_utc
from selfmodel.engine import (
    MAX_CARD_SOURCE_CHARS,
    MAX_CARDS_PER_CALL,
    MAX_MIRROR_LINK_TTL_S,
    MIN_MIRROR_LINK_TTL_S,
)
from selfmodel.ingest.messages import MAX_EXTERNAL_ID_CHARS
from selfmodel.privacy import PiiPolicy
from selfmodel.tenancy import MAX_KEY_NAME_CHARS

# Schema-level caps. The engine's own limits (SELFMODEL_MAX_MESSAGE_CHARS and _MAX_BATCH_MESSAGES)
# are checked again by the engine and answered with 413 payload_too_large.
MAX_NAME_CHARS = 200
MAX_ID_CHARS = 100
MAX_QUERY_CHARS = 4_000
MAX_STATEMENT_CHARS = 1_000
MAX_CONTEXT_USERS = 20
MAX_CONTEXT_ITEMS = 500
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
# Waiting for queued work: one request holds a server thread for at most MAX_WAIT_SECONDS.
MAX_WAIT_OBSERVATIONS = 1_000
DEFAULT_WAIT_SECONDS = 20.0
MAX_WAIT_SECONDS = 60.0
# Answers to resonance cards in one call (cards are pushed 20 at a time).
MAX_ANSWERS = 200

# Stored timestamps are fixed-width text (they sort as times); years before 1000 would not be.
MIN_TIMESTAMP_YEAR = 1000

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]


def _plausible(value: datetime | None) -> datetime | None:
    if value is not None and value.year < MIN_TIMESTAMP_YEAR:
        raise ValueError(f"timestamps before the year {MIN_TIMESTAMP_YEAR} are not accepted")
    return value


def _moment(value: datetime) -> datetime:
    # A moment to read at is compared in UTC: one UTC cannot hold (9999-12-31T23:00-05:00) is
    # refused here rather than overflowing in the engine.
    try:
        return to_utc(value)
    except OverflowError as exc:
        raise ValueError("this moment is out of the range of UTC timestamps") from exc


Timestamp = Annotated[datetime, AfterValidator(_plausible)]
# The moment a read looks at (``as_of``), in UTC.
Moment = Annotated[datetime, AfterValidator(_plausible), AfterValidator(_moment)]
T = TypeVar("T")


class BeliefStatusFilter(StrEnum):
    """A belief status to list, or ``all`` for every status."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"
    DECAYED = "decayed"
    ALL = "all"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


AREA = "Where this happened: an app surface, a topic, a project."
# Renamed fields stay accepted for one release, marked deprecated in the OpenAPI schema.
RENAMED_TO_AREA = "Deprecated: the old name of `area` (it goes in the next minor release)."


class _WithArea(_In):
    """A body with an ``area`` field and ``context``, its deprecated name."""

    @model_validator(mode="before")
    @classmethod
    def _area_from_its_old_name(cls, data: Any) -> Any:
        # Read before validation, so the deprecated field is never set (nor read: pydantic warns).
        if not isinstance(data, dict) or data.get("context") is None:
            return data
        area = either(data.get("area"), data["context"], new="area", old="context")
        return {**{k: v for k, v in data.items() if k != "context"}, "area": area}


class MessageIn(_In):
    """One message or event. Only ``content`` is required."""

    content: str = Field(min_length=1, description="What was said or happened.")
    role: Role = Role.USER
    speaker: Name | None = None
    occurred_at: Timestamp | None = Field(default=None, description="ISO 8601; default: `at`.")
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_EXTERNAL_ID_CHARS,
        description="Your id for the message; re-sending it changes nothing.",
    )
    kind: ObservationKind = ObservationKind.MESSAGE
    source: Name | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class ObserveIn(_WithArea):
    """A batch of messages from one user (and the people they talk with)."""

    messages: list[MessageIn] = Field(min_length=1)
    area: Name | None = Field(default=None, description=AREA)
    context: Name | None = Field(default=None, deprecated=True, description=RENAMED_TO_AREA)
    at: Timestamp | None = Field(default=None, description="Default `occurred_at` (default: now).")
    source: Name | None = None
    wait: bool = Field(
        default=True,
        description="Answer only once the self-model reflects the messages (when work is queued).",
    )


class ContextIn(_WithArea):
    """Ask for a prompt-ready block about one user or several."""

    user: Name | list[Name] = Field(description="A user id, or a list for a shared scope.")
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    # Numbers are strict: `true` is not one token, nor "300" three hundred.
    budget_tokens: int | None = Field(default=None, ge=1, le=MAX_BUDGET_TOKENS, strict=True)
    area: Name | None = Field(
        default=None, description="Read this area's beliefs and observations plus global ones."
    )
    context: Name | None = Field(default=None, deprecated=True, description=RENAMED_TO_AREA)
    limit: int | None = Field(default=None, ge=1, le=MAX_CONTEXT_ITEMS, strict=True)
    as_of: Moment | None = Field(
        default=None, description="Read as things were at this moment (default: now)."
    )
    moments: bool = Field(
        default=True,
        description="false: only the self-model (profile and beliefs), no raw observations.",
    )


class UserIn(_In):
    display_name: str | None = Field(
        min_length=1, max_length=100, description="How the user is named; null for none."
    )


class EditIn(_In):
    statement: str = Field(min_length=1, max_length=MAX_STATEMENT_CHARS)
    kind: BeliefKind | None = None


class SettleIn(_In):
    over: str = Field(
        min_length=1,
        max_length=MAX_ID_CHARS,
        description="The belief of the same user that is no longer true: it ends now.",
    )


class SettledOut(BaseModel):
    """A conflict answered: the belief that holds (confirmed) and the one that ended."""

    kept: Belief
    ended: Belief = Field(description="Status `superseded`, `superseded_by` the kept belief.")


class NewBeliefIn(_WithArea):
    statement: str = Field(min_length=1, max_length=MAX_STATEMENT_CHARS)
    kind: BeliefKind = BeliefKind.FACT
    area: Name | None = Field(default=None, description="Scope the belief to this area.")
    context: Name | None = Field(default=None, deprecated=True, description=RENAMED_TO_AREA)


class DecayIn(_In):
    as_of: Moment | None = Field(default=None, description="Fade as of this moment (default: now).")


class WaitIn(_In):
    """Observations sent with ``wait=false`` whose understanding to wait for."""

    observation_ids: list[Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]] = Field(
        min_length=1, max_length=MAX_WAIT_OBSERVATIONS
    )
    timeout: float = Field(
        default=DEFAULT_WAIT_SECONDS,
        ge=0,
        le=MAX_WAIT_SECONDS,
        strict=True,
        description="Seconds to wait before answering 504 wait_timeout (then ask again).",
    )


class AnswersIn(_In):
    """Which resonance cards the user selected (true) or saw and left (false)."""

    answers: dict[Annotated[str, Field(max_length=MAX_ID_CHARS)], bool] = Field(
        min_length=1, max_length=MAX_ANSWERS
    )


# Card answers carry their list under its old name too while the old /prompts routes (which
# share the handlers) are mounted.
RENAMED_TO_CARDS = (
    "Deprecated: the same list as `cards`, for clients of the old `/prompts` routes (it goes "
    "with them in the next minor release)."
)


class AnsweredOut(BaseModel):
    """The cards this call answered (cards answered before are left as they were)."""

    cards: list[ResonanceCard]
    prompts: list[ResonanceCard] = Field(deprecated=True, description=RENAMED_TO_CARDS)

    @classmethod
    def of(cls, cards: list[ResonanceCard]) -> AnsweredOut:
        return cls(cards=cards, prompts=cards)


class KeyIn(_In):
    scope: Scope
    name: str | None = Field(default=None, max_length=MAX_KEY_NAME_CHARS)


class WorkspaceSettingsIn(_In):
    pii_policy: PiiPolicy


def _retention_days(description: str) -> Any:
    # Strict: `true` is not one day, nor "30" thirty.
    return Field(
        default=None,
        ge=MIN_RETENTION_DAYS,
        le=MAX_RETENTION_DAYS,
        strict=True,
        description=f"{description} Null: keep for ever. Left out: unchanged.",
    )


class RetentionPolicyIn(_In):
    """Changes to the workspace's retention policy: only the fields given change."""

    observations_max_age_days: int | None = _retention_days(
        "Delete raw observations recorded more than this many days ago (beliefs and the words "
        "their evidence quotes stay)."
    )
    inactive_user_days: int | None = _retention_days(
        "Forget users with no activity for this many days, as DELETE /v1/users/{user} does."
    )
    traces_max_age_days: int | None = _retention_days(
        "Delete traces of context calls older than this many days."
    )


class RetentionRunIn(_In):
    dry_run: bool = Field(
        default=False, strict=True, description="Report what the policy selects; delete nothing."
    )


class MirrorLinkIn(_In):
    ttl_s: int | None = Field(
        default=None,
        ge=MIN_MIRROR_LINK_TTL_S,
        le=MAX_MIRROR_LINK_TTL_S,
        strict=True,
        description="How long the link works, in seconds (default: SELFMODEL_MIRROR_LINK_TTL_S).",
    )


class MirrorLinkOut(IssuedMirrorLink):
    user: str = Field(description="Your id of the user.")


class RevokedOut(BaseModel):
    revoked: int


class CardIn(_In):
    statement: str = Field(min_length=1, max_length=MAX_STATEMENT_CHARS)
    kind: BeliefKind = BeliefKind.FACT


class CardsIn(_In):
    statements: list[CardIn] = Field(min_length=1, max_length=MAX_CARDS_PER_CALL)
    source: str | None = Field(default=None, max_length=MAX_CARD_SOURCE_CHARS)


class CardsOut(BaseModel):
    cards: list[ResonanceCard]
    prompts: list[ResonanceCard] = Field(deprecated=True, description=RENAMED_TO_CARDS)

    @classmethod
    def of(cls, cards: list[ResonanceCard]) -> CardsOut:
        return cls(cards=cards, prompts=cards)


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `belief_not_found`.")
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorOut(BaseModel):
    """The one shape of every error answer."""

    error: ErrorDetail


class OutcomeIn(_In):
    """One outcome: explicit feedback, an implicit signal, or a custom metric (docs/api.md)."""

    kind: OutcomeKind
    trace_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID_CHARS,
        description="The trace of the context call whose answer this judges.",
    )
    name: str | None = Field(
        default=None, min_length=1, max_length=64, description="A metric's name (metric only)."
    )
    value: float | None = Field(
        default=None,
        strict=True,
        description="rating: 1–5; returned: days away (≥ 0); metric: any finite number.",
    )
    label: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LABEL_CHARS,
        description="Explicit feedback only: a correction's text, a reason.",
    )
    used_item_ids: list[Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]] | None = (
        Field(
            default=None,
            max_length=MAX_USED_ITEMS,
            description="Items of the trace's context block the answer used (needs trace_id).",
        )
    )
    occurred_at: Moment | None = Field(default=None, description="ISO 8601; default: now.")
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_OUTCOME_ID_CHARS,
        description="Your id for the outcome; recording it again returns the first record.",
    )


class VariantConfigIn(_In):
    """How ``context`` runs in a variant; unset fields run as the caller asks."""

    personalized: StrictBool = Field(
        default=True, description="false: an empty self-model (the block uses nothing known)."
    )
    ranking: dict[str, StrictBool | StrictInt | StrictFloat] = Field(
        default_factory=dict,
        max_length=50,
        description="RankingConfig fields by name (e.g. keyword_weight: 0).",
    )
    budget_tokens: int | None = Field(default=None, ge=1, le=MAX_BUDGET_TOKENS, strict=True)
    moments: StrictBool | None = None


class VariantIn(_In):
    name: str = Field(min_length=1, max_length=64)
    weight: float = Field(default=1.0, gt=0, strict=True, description="Relative share.")
    config: VariantConfigIn = Field(default_factory=VariantConfigIn)


class ExperimentIn(_In):
    """An experiment: 2–10 variants, each a configuration of ``context`` (docs/experiments.md)."""

    name: str = Field(min_length=1, max_length=64)
    variants: list[VariantIn] = Field(min_length=MIN_VARIANTS, max_length=MAX_VARIANTS)
    control: str | None = Field(
        default=None, min_length=1, max_length=64, description="Default: the first variant."
    )
    layer: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Experiments of one layer never share a user.",
    )
    traffic: float = Field(
        default=1.0, gt=0, le=1, strict=True, description="Share of the (layer's) users."
    )
    description: str | None = Field(default=None, min_length=1, max_length=MAX_DESCRIPTION_CHARS)


class AssignmentIn(_In):
    user: str = Field(min_length=1, max_length=MAX_NAME_CHARS, description="Your id of the user.")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` as ``cursor`` to get the next (null: no more)."""

    items: list[T]
    next_cursor: str | None = None


class WorkspaceOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    settings: dict[str, Any]


class KeyOut(BaseModel):
    id: str
    name: str | None
    prefix: str = Field(description="The first characters of the key, to tell keys apart.")
    scope: Scope
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class KeyCreatedOut(KeyOut):
    key: str | None = Field(
        description="The full key. Shown only in this answer: store it now. Null when the "
        "answer is a replay under an Idempotency-Key (the secret is never stored)."
    )


class ReplayIn(_In):
    """What to change for a replay; anything left out keeps the trace's recorded value."""

    config: dict[str, Any] | None = Field(
        default=None,
        description='The shape of a trace\'s config: {"ranking": {"keyword_weight": 0},'
        ' "budget_tokens": 500, "limit": 5, "moments": false}; "extractor": "local" rebuilds'
        " the self-model with another extractor (docs/debugging.md).",
    )


class TraceOut(BaseModel):
    id: str
    workspace_id: str
    user_ids: list[str]
    query: str
    created_at: datetime
    latency_ms: float
    config: dict[str, Any]
    payload: dict[str, Any]

    @classmethod
    def of(cls, trace: TraceRecord) -> TraceOut:
        return cls(
            id=trace.id,
            workspace_id=trace.workspace_id,
            user_ids=list(trace.user_ids),
            query=trace.query,
            created_at=trace.created_at,
            latency_ms=trace.latency_ms,
            config=trace.config,
            payload=trace.payload,
        )


class EvalRunOut(BaseModel):
    """A recorded eval run: suite, data and configuration hashes, code version, summary."""

    id: str
    suite: str
    suite_kind: str = Field(description="golden or locomo.")
    dataset_sha256: str = Field(description="sha256 of the suite file's bytes.")
    config_sha256: str = Field(description="sha256 of the configuration as canonical JSON.")
    k: int = Field(description="Items of each context block scored (evidence recall@k).")
    started_at: datetime
    finished_at: datetime
    item_count: int
    mean_recall: float | None = Field(description="Mean evidence recall@k over the items.")
    config: dict[str, Any]
    code_version: dict[str, str | None]
    summary: dict[str, Any]


class EvalItemOut(BaseModel):
    item_id: str
    category: str | None
    recall: float
    evidence_found: int
    evidence_total: int
    violations: int = Field(description="must_not_contain phrases the block held.")
    tokens: int
    latency_ms: float


class EvalRunDetailOut(EvalRunOut):
    items: list[EvalItemOut] = Field(description="Per-item scores, in suite order.")


class ForgetOut(BaseModel):
    user: str
    deleted: dict[str, int] = Field(description="Rows deleted per table.")
    total: int


class HealthOut(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)
