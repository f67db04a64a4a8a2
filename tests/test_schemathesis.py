"""Property-based fuzzing of the whole API from its own OpenAPI schema: no input gets a 500.

schemathesis generates valid and invalid requests for every operation in /openapi.json and sends
them in-process (ASGI) with a real admin key on a real SQLite file; every answer must be a
non-5xx that matches the documented status codes, content types and response schemas.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from selfmodel import SelfModel
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.server import create_app
from tests.support.server import new_workspace_key

# Schema-valid input can still be refused for what the schema cannot say: an unknown user or
# belief (404), a cursor this server never issued (422). Everything else is checked.
NOT_APPLICABLE = [schemathesis.checks.positive_data_acceptance]
# Per operation; ~30 operations × this stays well under two minutes on two cores.
MAX_EXAMPLES = 12


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[SelfModel]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    with SelfModel.open(str(path), embedder=embedder) as sm:
        yield sm


@pytest.fixture(scope="module")
def api_key(engine: SelfModel) -> str:
    key = new_workspace_key(engine.store, "fuzz")
    # Something to find, so operations on existing things are exercised too.
    fuzz = engine.in_workspace("fuzz")
    fuzz.observe("ada", "I love hiking in the mountains and I work as a nurse.")
    return key


@pytest.mark.slow
def test_no_request_gets_a_server_error(engine: SelfModel, api_key: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(engine))
    headers = {"Authorization": f"Bearer {api_key}"}
    failures: list[str] = []
    operations = 0
    for loaded in schema.get_all_operations():
        operation = loaded.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=NOT_APPLICABLE)

        try:
            check()
        except BaseException as exc:  # collect every operation's failure, then report them all
            if not isinstance(exc, Exception) and not isinstance(exc, BaseExceptionGroup):
                raise
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 20
    assert not failures, "\n\n".join(failures)
