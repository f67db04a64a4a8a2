"""OpenTelemetry spans for the engine's calls, so teams see selfmodel inside their own tracing.

One span per ``context`` call, per ``observe`` and ``ingest`` call and per queued job run, sent to
the tracer provider the application configured (the global one unless ``SelfModel.open`` is given
another): selfmodel never installs an exporter. Attributes follow the OpenTelemetry GenAI
semantic conventions where they define one (``gen_ai.operation.name``, ``gen_ai.memory.store.id``,
``user.id``/``user.hash``, ``error.type``) and use the ``selfmodel.*`` namespace otherwise.

The privacy rule: spans carry identifiers, counts, sizes and timings, never text. No message,
statement, query, area name or error message is ever set on a span (an exception event names the
error's class and stable code, not its message, which may quote a user id); the product's user
id only when ``SELFMODEL_OTEL_USER_IDS`` asks for it. The table of attributes is in
docs/debugging.md.

``opentelemetry-api`` is optional (the ``otel`` extra): without it, or with
``SELFMODEL_OTEL_SPANS=false``, every span here is a no-op and nothing is imported.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from selfmodel.config import TelemetrySettings
from selfmodel.domain import Workspace
from selfmodel.errors import SelfModelError

logger = logging.getLogger("selfmodel.telemetry")

TRACER_NAME = "selfmodel"
# Span names, one per kind of call (what a team filters on in its tracing backend).
CONTEXT_SPAN = "selfmodel.context"
OBSERVE_SPAN = "selfmodel.observe"
INGEST_SPAN = "selfmodel.ingest"
JOB_SPAN = "selfmodel.job"
# gen_ai.operation.name values from the GenAI conventions' memory operations: a context call
# searches the memory, observing and a job's revision update it.
SEARCH_MEMORY = "search_memory"
UPDATE_MEMORY = "update_memory"
# Hex digits of the user hash kept: 64 bits tell users apart in any workspace's traces.
USER_HASH_CHARS = 16

AttributeValue = str | bool | int | float | list[str]


class SpanRecorder(Protocol):
    """What the engine may write on its current span: attributes and nothing else."""

    def set(self, attributes: Mapping[str, AttributeValue | None]) -> None: ...

    def fail(self, error_type: str) -> None: ...


class _Discard:
    """The span when telemetry is off: takes everything, keeps nothing."""

    def set(self, attributes: Mapping[str, AttributeValue | None]) -> None:
        pass

    def fail(self, error_type: str) -> None:
        pass


class _Recorder:
    def __init__(self, span: Any, status: Any) -> None:
        self._span = span
        self._status = status

    def set(self, attributes: Mapping[str, AttributeValue | None]) -> None:
        # None means "not applicable to this call": left off rather than written as a string.
        self._span.set_attributes({k: v for k, v in attributes.items() if v is not None})

    def fail(self, error_type: str) -> None:
        """Mark the span failed without an exception (a job whose failure is recorded, not
        raised): ``error.type`` names the error class only."""
        self._span.set_attribute("error.type", error_type)
        self._span.set_status(self._status.Status(self._status.StatusCode.ERROR, error_type))


class Telemetry:
    """Opens the engine's spans on the configured tracer provider, or nothing."""

    def __init__(self, settings: TelemetrySettings, tracer_provider: Any | None = None) -> None:
        self._user_ids = settings.otel_user_ids
        self._tracer: Any | None = None
        self._api: Any | None = None
        if not settings.otel_spans:
            return
        try:
            # Imported here, not at module level: the package is an optional extra and a light
            # install (the SDK, the CLI's --help) must not pay for it.
            api = importlib.import_module("opentelemetry.trace")
        except ImportError:
            logger.info("opentelemetry-api is not installed: selfmodel emits no spans")
            return
        from selfmodel import __version__

        self._api = api
        self._tracer = api.get_tracer(TRACER_NAME, __version__, tracer_provider=tracer_provider)

    def user_attributes(
        self, workspace: Workspace | str, external_ids: Sequence[str]
    ) -> dict[str, Any]:
        """``user.id`` or ``user.hash`` for the users of a call, as the settings allow (given
        only validated ids: a refused one is not echoed into anyone's traces)."""
        if self._user_ids == "off" or not external_ids:
            return {}
        if self._user_ids == "plain":
            return {"user.id": external_ids[0] if len(external_ids) == 1 else external_ids}
        workspace_id = workspace.id if isinstance(workspace, Workspace) else workspace
        hashes = [user_hash(workspace_id, e) for e in external_ids]
        return {"user.hash": hashes[0] if len(hashes) == 1 else hashes}

    @contextmanager
    def span(self, name: str, operation: str, workspace: Workspace | str) -> Iterator[SpanRecorder]:
        """A span around one call: INTERNAL, a child of the caller's current span.

        ``workspace``: the engine's workspace, or only its id (a queued job of any workspace).

        An exception leaving the block marks the span ERROR with an exception event that names
        the error (class and code) but never its message, then propagates unchanged.
        """
        if self._tracer is None or self._api is None:
            yield _Discard()
            return
        api = self._api
        with self._tracer.start_as_current_span(
            name,
            kind=api.SpanKind.INTERNAL,
            record_exception=False,  # the default event would carry the message: done below
            set_status_on_exception=False,
        ) as span:
            span.set_attributes({"gen_ai.operation.name": operation})
            if isinstance(workspace, Workspace):
                span.set_attributes(
                    {"gen_ai.memory.store.id": workspace.id, "selfmodel.workspace": workspace.name}
                )
            else:
                span.set_attribute("gen_ai.memory.store.id", workspace)
            try:
                yield _Recorder(span, api)
            except BaseException as exc:
                code = exc.code if isinstance(exc, SelfModelError) else type(exc).__name__
                span.set_attribute("error.type", code)
                span.record_exception(
                    exc,
                    attributes={
                        "exception.message": code,
                        # Frames only: format_exception's last line would repeat the message.
                        "exception.stacktrace": "".join(traceback.format_tb(exc.__traceback__)),
                    },
                )
                span.set_status(api.Status(api.StatusCode.ERROR, code))
                raise


def user_hash(workspace_id: str, external_id: str) -> str:
    """A stable pseudonym for a user in traces: the same user, the same hash, in one workspace.

    Unkeyed, so anyone who can guess an id can confirm it: a pseudonym, not anonymity.
    """
    digest = hashlib.sha256(f"{workspace_id}\x00{external_id}".encode()).hexdigest()
    return digest[:USER_HASH_CHARS]


class _Revised(Protocol):
    """What one revision changed, by belief id (``RevisionOutcome``, ``ObserveResult``)."""

    @property
    def created(self) -> list[str]: ...
    @property
    def reinforced(self) -> list[str]: ...
    @property
    def contradicted(self) -> list[str]: ...
    @property
    def superseded(self) -> list[str]: ...


def revision_attributes(revised: _Revised) -> dict[str, Any]:
    """How many beliefs a revision created, reinforced, contradicted and superseded."""
    return {
        "selfmodel.beliefs.created": len(revised.created),
        "selfmodel.beliefs.reinforced": len(revised.reinforced),
        "selfmodel.beliefs.contradicted": len(revised.contradicted),
        "selfmodel.beliefs.superseded": len(revised.superseded),
    }


def experiment_attributes(config: Mapping[str, Any]) -> dict[str, Any]:
    """The experiments and variants a context call ran under, from its traced config."""
    ran = [e for e in config.get("experiments", []) if isinstance(e, Mapping)]
    if not ran:
        return {}
    return {
        "selfmodel.experiments": [str(e.get("name", e.get("id", ""))) for e in ran],
        "selfmodel.variants": [str(e.get("variant", "")) for e in ran],
    }


__all__ = [
    "CONTEXT_SPAN",
    "INGEST_SPAN",
    "JOB_SPAN",
    "OBSERVE_SPAN",
    "SEARCH_MEMORY",
    "UPDATE_MEMORY",
    "SpanRecorder",
    "Telemetry",
    "experiment_attributes",
    "revision_attributes",
    "user_hash",
]
