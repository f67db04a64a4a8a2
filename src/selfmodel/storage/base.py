"""``Store``: every storage concern in one object — what ``open_store()`` returns.

The engine holds one ``Store``; code that needs only one concern is typed against that
concern's interface (``selfmodel.tenancy`` against ``TenancyStore``, the unit of work against
``ModelStore``, the worker against ``QueueStore``), and code that needs a few names their
combination as a protocol (retrieval's ``IndexSource``: ``ModelStore`` and ``VectorStore``).
SQLite and PostgreSQL implement every concern (``storage/sql.py``); ``tests/store_contract/``
holds both to the same contract, concern by concern.

- ``TenancyStore`` (tenancy.py): workspaces and their settings, API keys, idempotency records
- ``ModelStore`` (model.py): users, areas, observations, beliefs, evidence, belief events;
  the user lock; forgetting a user
- ``VectorStore`` (vectors.py): embeddings; watermarks and rows changed since (warm indexes)
- ``TraceStore`` (traces.py): traces of ``context`` calls
- ``QueueStore`` (queue.py): the durable job queue
- ``MirrorStore`` (mirror.py): Mirror links, resonance cards, the signing secret
- ``EvalStore`` (evaluation.py): recorded evaluation runs and their item scores
- ``OutcomeStore`` (outcomes.py): outcomes of users (feedback, implicit signals, metrics)
- ``ExperimentStore`` (experiments.py): experiments and each user's first exposure to one
- ``RetentionStore`` (retention.py): retention policies, deleting what they select, the
  checks after a deletion, the audit log

Each extends ``Database`` (transactions, schema version, closing), which they share.
"""

from __future__ import annotations

from selfmodel.storage.evaluation import EvalStore
from selfmodel.storage.experiments import ExperimentStore
from selfmodel.storage.mirror import MirrorStore
from selfmodel.storage.model import ModelStore
from selfmodel.storage.outcomes import OutcomeStore
from selfmodel.storage.queue import QueueStore
from selfmodel.storage.retention import RetentionStore
from selfmodel.storage.tenancy import TenancyStore
from selfmodel.storage.traces import TraceStore
from selfmodel.storage.vectors import VectorStore


class Store(
    TenancyStore,
    ModelStore,
    VectorStore,
    TraceStore,
    QueueStore,
    MirrorStore,
    EvalStore,
    OutcomeStore,
    ExperimentStore,
    RetentionStore,
):
    """Persistence for every concern of selfmodel, in one database shared by all of them.

    Nothing is declared here: every method belongs to one concern (``tests/store_contract/``
    checks that, and that both backends implement each concern whole).
    """
