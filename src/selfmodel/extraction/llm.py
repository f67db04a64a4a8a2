"""The LLM extractor: any OpenAI-compatible chat endpoint (hosted, vLLM, Ollama, llama.cpp).

Observations are sent in batches; the answer is JSON checked against a pydantic model. Timeouts,
connection errors, 429/5xx and unparseable answers are retried with exponential backoff; when a
batch still fails, that batch is extracted by the local extractor instead, and the fallback is
logged (logger ``selfmodel.extraction``) and counted in ``fallback_count`` — never silent.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from datetime import date, datetime
from datetime import time as clock
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from selfmodel.domain import BeliefFrame, BeliefKind, BeliefOrigin, Facet, Related, Role
from selfmodel.errors import ConfigurationError, validation_message
from selfmodel.extraction import prompts
from selfmodel.extraction.base import CandidateBelief, ExtractionRequest, Extractor
from selfmodel.extraction.frames import MILD_HEDGE_STRENGTH
from selfmodel.extraction.local import CONTEXT_TURNS, LocalExtractor
from selfmodel.extraction.stance import STATEMENTS as STANCE_STATEMENTS
from selfmodel.extraction.stance import Stance

if TYPE_CHECKING:
    from selfmodel.config import ExtractionSettings

logger = logging.getLogger("selfmodel.extraction")

DEFAULT_BATCH_SIZE = 8
DEFAULT_BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0
# Status codes worth retrying: rate limiting and server-side failures. Other 4xx mean the request
# itself is wrong (bad key, unknown model); retrying cannot help, so we fall back at once.
_RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)


class _LLMRelated(BaseModel):
    model_config = ConfigDict(extra="ignore")

    relation: str = Field(min_length=1)
    name: str | None = None
    species: str | None = None


class _LLMStance(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: Stance
    person: str = Field(min_length=1)


class _LLMBelief(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str
    statement: str = Field(min_length=1)
    kind: BeliefKind
    strength: float = Field(default=1.0, gt=0.0, le=1.0)
    stated: bool = False
    negated: bool = False
    change: bool = False
    contradicts: str | None = None
    facet: Facet | None = None
    value: str | None = None
    name: str | None = None
    topics: list[str] = Field(default_factory=list)
    interests: list[str] = Field(default_factory=list)
    related: list[_LLMRelated] = Field(default_factory=list)
    domain: Literal["communication"] | None = None
    stance: _LLMStance | None = None
    quote: str | None = None
    valid_from: date | None = None

    def frame(self) -> BeliefFrame:
        """The same structure the local extractor reads from the parse."""
        if self.name and self.name.strip():
            return BeliefFrame(facet=Facet.NAME, value=self.name.strip())
        if self.stance is not None:
            return BeliefFrame(stance=f"{self.stance.kind.value}:{self.stance.person.strip()}")
        return BeliefFrame(
            negated=self.negated,
            change=self.change,
            facet=self.facet if self.value and self.value.strip() else None,
            value=self.value.strip() if self.facet and self.value else None,
            topics=tuple(dict.fromkeys(t.strip().lower() for t in self.topics if t.strip())),
            interests=tuple(dict.fromkeys(t.strip().lower() for t in self.interests if t.strip())),
            related=tuple(
                Related(
                    relation="pet" if r.species else r.relation.strip().lower(),
                    name=r.name.strip() if r.name and r.name.strip() else None,
                    species=r.species.strip().lower() if r.species else None,
                )
                for r in self.related
            ),
            domain=self.domain,
        )


class _LLMAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    beliefs: list[dict[str, Any]]


class _InvalidAnswer(Exception):
    """The endpoint answered, but not with the JSON we asked for."""


class _PermanentFailure(Exception):
    """The endpoint refused the request in a way retrying cannot fix (401, 404, 400...)."""


class LLMExtractor(Extractor):
    """Extraction by an OpenAI-compatible chat model, falling back to ``LocalExtractor``."""

    name = "llm"
    version = f"llm-{prompts.PROMPT_VERSION}"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        batch_size: int = DEFAULT_BATCH_SIZE,
        backoff_s: float = DEFAULT_BACKOFF_S,
        fallback: Extractor | None = None,
    ) -> None:
        if not base_url or not model:
            raise ConfigurationError("the LLM extractor needs a base URL and a model")
        if batch_size < 1 or max_retries < 0:
            raise ConfigurationError("batch_size must be >= 1 and max_retries >= 0")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_retries = max_retries
        self.batch_size = batch_size
        self.backoff_s = backoff_s
        self.fallback = fallback or LocalExtractor()
        #: Batches extracted by the fallback because the endpoint failed.
        self.fallback_count = 0
        #: Beliefs the model returned that failed validation (unknown kind, unknown message...).
        self.invalid_belief_count = 0
        self.last_error: str | None = None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers)

    @classmethod
    def from_settings(cls, settings: ExtractionSettings) -> LLMExtractor:
        """An extractor configured by ``SELFMODEL_LLM_*`` settings."""
        if not settings.llm_base_url or not settings.llm_model:
            raise ConfigurationError(
                "extractor 'llm' needs SELFMODEL_LLM_BASE_URL and SELFMODEL_LLM_MODEL"
            )
        return cls(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> LLMExtractor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def extract(self, requests: Sequence[ExtractionRequest]) -> list[CandidateBelief]:
        user_requests = [r for r in requests if r.observation.role is Role.USER]
        candidates: list[CandidateBelief] = []
        for start in range(0, len(user_requests), self.batch_size):
            batch = user_requests[start : start + self.batch_size]
            try:
                candidates.extend(self._extract_batch(batch))
            except (httpx.HTTPError, _InvalidAnswer, _PermanentFailure) as error:
                self.fallback_count += 1
                self.last_error = f"{type(error).__name__}: {error}"
                logger.warning(
                    "LLM extraction failed for %d observation(s) at %s (%s); "
                    "using the %s extractor instead (fallback #%d)",
                    len(batch), self.base_url, self.last_error, self.fallback.name,
                    self.fallback_count,
                )  # fmt: skip
                candidates.extend(self.fallback.extract(batch))
        return candidates

    def _extract_batch(self, batch: Sequence[ExtractionRequest]) -> list[CandidateBelief]:
        keys = {str(index + 1): request for index, request in enumerate(batch)}
        messages = [
            {
                "id": key,
                "speaker": request.subject,
                "date": request.observation.occurred_at.strftime("%A %d %B %Y"),
                "text": request.observation.content,
                "before": [
                    {"role": o.role.value, "speaker": o.speaker, "text": o.content}
                    for o in request.preceding[-CONTEXT_TURNS:]
                ],
            }
            for key, request in keys.items()
        ]
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": prompts.SYSTEM_PROMPT},
                {"role": "user", "content": prompts.user_prompt(messages)},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "candidate_beliefs",
                    "strict": True,
                    "schema": prompts.RESPONSE_SCHEMA,
                },
            },
        }
        answer = self._post_with_retries(body)
        return [c for raw in answer.beliefs if (c := self._candidate(raw, keys)) is not None]

    def _post_with_retries(self, body: dict[str, Any]) -> _LLMAnswer:
        attempt = 0
        while True:
            try:
                return self._post(body)
            except (httpx.TimeoutException, httpx.TransportError, _InvalidAnswer) as error:
                retry_after = None
                failure: Exception = error
            except httpx.HTTPStatusError as error:
                if error.response.status_code not in _RETRYABLE_STATUS:
                    raise _PermanentFailure(str(error)) from error
                retry_after = _retry_after_s(error.response)
                failure = error
            if attempt >= self.max_retries:
                raise failure
            delay = min(MAX_BACKOFF_S, self.backoff_s * 2**attempt)
            if retry_after is not None:
                delay = min(MAX_BACKOFF_S, max(delay, retry_after))
            logger.info(
                "LLM request failed (%s: %s); retry %d/%d in %.2fs",
                type(failure).__name__, failure, attempt + 1, self.max_retries, delay,
            )  # fmt: skip
            time.sleep(delay)
            attempt += 1

    def _post(self, body: dict[str, Any]) -> _LLMAnswer:
        response = self._client.post(f"{self.base_url}/chat/completions", json=body)
        response.raise_for_status()
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise _InvalidAnswer(f"not a chat completion: {error!r}") from error
        return parse_answer(content)

    def _candidate(
        self, raw: dict[str, Any], keys: dict[str, ExtractionRequest]
    ) -> CandidateBelief | None:
        try:
            belief = _LLMBelief.model_validate(raw)
        except ValidationError as error:
            self._reject(f"invalid belief {raw!r}: {validation_message(error.errors()[0])}")
            return None
        request = keys.get(belief.message.strip())
        if request is None:
            self._reject(f"belief cites unknown message {belief.message!r}")
            return None
        observation = request.observation
        span = locate_quote(observation.content, belief.quote) if belief.quote else None
        valid_from = (
            datetime.combine(belief.valid_from, clock(), tzinfo=observation.occurred_at.tzinfo)
            if belief.valid_from
            else None
        )
        if belief.stance is not None:
            # Worded and weighed as the local extractor does, so the two keep one belief per
            # stance and person whichever of them read the message.
            belief = belief.model_copy(
                update={
                    "statement": STANCE_STATEMENTS[belief.stance.kind].format(
                        subject=request.subject, listener=belief.stance.person.strip()
                    ),
                    "kind": BeliefKind.RELATIONSHIP,
                    "strength": MILD_HEDGE_STRENGTH,
                    "stated": False,
                }
            )
        return CandidateBelief(
            statement=belief.statement.strip(),
            kind=belief.kind,
            observation_id=observation.id,
            strength=belief.strength,
            origin=BeliefOrigin.STATED if belief.stated else BeliefOrigin.INFERRED,
            contradicts=(belief.contradicts or "").strip() or None,
            frame=belief.frame(),
            span_start=span[0] if span else None,
            span_end=span[1] if span else None,
            quote=observation.content[span[0] : span[1]] if span else None,
            valid_from=valid_from,
            extractor=f"{self.name}:{self.version}",
        )

    def _reject(self, reason: str) -> None:
        self.invalid_belief_count += 1
        logger.warning("dropped a belief from the LLM: %s", reason)


def parse_answer(content: Any) -> _LLMAnswer:
    """The model's answer as validated JSON; tolerates code fences from endpoints that ignore
    ``response_format``. Raises ``_InvalidAnswer`` otherwise."""
    if not isinstance(content, str):
        raise _InvalidAnswer(f"content is {type(content).__name__}, not text")
    text = _FENCE.sub("", content.strip())
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        # Some models wrap the object in prose; take the outermost braces.
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise _InvalidAnswer("the answer is not JSON") from None
        try:
            data = json.loads(text[start : end + 1])
        except json.JSONDecodeError as error:
            raise _InvalidAnswer(f"the answer is not JSON: {error}") from error
    if isinstance(data, list):  # a bare list of beliefs is an acceptable shortcut
        data = {"beliefs": data}
    try:
        return _LLMAnswer.model_validate(data)
    except ValidationError as error:
        raise _InvalidAnswer(f"the answer does not match the schema: {error}") from error


def locate_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` occurs in ``text``: exactly, else ignoring case, else ignoring differences
    in whitespace and quote characters. None when the model's quote is not in the text."""
    quote = quote.strip()
    if not quote:
        return None
    index = text.find(quote)
    if index >= 0:
        return index, index + len(quote)
    index = text.lower().find(quote.lower())
    if index >= 0:
        return index, index + len(quote)
    words = [re.escape(_straight(word)) for word in quote.split()]
    pattern = re.compile(r"\s+".join(words), re.IGNORECASE)
    match = pattern.search(_straight(text))
    return (match.start(), match.end()) if match else None


def _straight(text: str) -> str:
    """Curly quotes to straight ones; same length, so positions carry over."""
    return text.translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))


def _retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
