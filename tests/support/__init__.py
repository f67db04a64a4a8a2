"""Test helpers that are real components, not mocks (e.g. a local OpenAI-compatible server)."""
