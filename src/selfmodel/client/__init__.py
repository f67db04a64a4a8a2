"""The Python SDK: ``Client`` / ``AsyncClient`` for the selfmodel HTTP API.

Same method names, arguments and return types as ``selfmodel.SelfModel`` (mypy checks both
against ``selfmodel.interface.SelfModelAPI``); errors are raised as the same ``selfmodel.errors``
classes. Retries 429/503 and unreachable servers with backoff; writes carry an
``Idempotency-Key`` so a retried write is applied once.

Importing it loads the domain types, the errors and httpx — not the engine, so
``pip install selfmodel`` (no extras) is enough.
"""

from selfmodel.client._client import AsyncClient, Client

__all__ = ["AsyncClient", "Client"]
