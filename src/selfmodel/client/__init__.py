"""The Python SDK: ``Client`` / ``AsyncClient`` for the selfmodel HTTP API.

Same method names and return types as ``selfmodel.SelfModel``; errors are raised as the same
``selfmodel.errors`` classes. Retries 429/503 and unreachable servers with backoff; writes carry
an ``Idempotency-Key`` so a retried write is applied once.
"""

from selfmodel.client._client import AsyncClient, Client

__all__ = ["AsyncClient", "Client"]
