"""The storage contract, one module per concern: every backend (SQLite, PostgreSQL) passes the
very same tests (the ``store`` fixture of ``tests/conftest.py`` is parametrized over both).

- ``test_shape.py``: each concern interface is implemented whole by both backends, and ``Store``
  is exactly the union of the concerns
- ``test_database.py``: transactions (across concerns) and reads beside an open write
- ``test_tenancy.py``, ``test_model.py``, ``test_vectors.py``, ``test_traces.py``,
  ``test_queue.py``, ``test_mirror.py``: one concern each
"""
