"""Concurrent small embedding calls share forward passes and get their own vectors, to rounding."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
from collections.abc import Callable

import numpy as np
import pytest

from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.embedding.coalescing import Coalescer
from selfmodel.embedding.traced import AGREEMENT, BFLOAT16_AGREEMENT

QUERIES = [
    "what does she do for fun?",
    "where does maya live these days?",
    "what is he working towards?",
    "does she have any pets",
    "which languages does Sam speak at home and at work?",
    "job",
]


def _gated(
    encode: Callable[[list[str]], np.ndarray],
) -> tuple[Callable[..., np.ndarray], list[int], threading.Event]:
    """``encode`` that records each pass's size and holds the first pass until ``release``."""
    sizes: list[int] = []
    release = threading.Event()

    def run(texts: list[str]) -> np.ndarray:
        sizes.append(len(texts))
        release.wait(10)
        return encode(texts)

    return run, sizes, release


def _in_threads(target: Callable[[int], None], n: int) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def test_concurrent_queries_get_the_vectors_they_would_get_alone(
    embedder: SentenceTransformerEmbedder,
) -> None:
    alone = np.stack([embedder.embed([q])[0] for q in QUERIES])
    got: dict[int, np.ndarray] = {}
    _in_threads(lambda i: got.__setitem__(i, embedder.embed_one(QUERIES[i % len(QUERIES)])), 24)
    # To the rounding of the precision it computes in (see test_embedding.py).
    atol = BFLOAT16_AGREEMENT if embedder.computes_in == "bfloat16" else AGREEMENT
    for i, vector in got.items():
        assert np.allclose(vector, alone[i % len(QUERIES)], atol=atol)
    assert len(got) == 24


def test_calls_that_wait_together_share_one_pass() -> None:
    def encode(texts: list[str]) -> np.ndarray:
        return np.array([[float(len(t)), float(i)] for i, t in enumerate(texts)], np.float32)

    gated, sizes, release = _gated(encode)
    coalescer = Coalescer(gated, max_texts=64)
    results: dict[int, np.ndarray] = {}
    first = threading.Thread(target=lambda: results.__setitem__(0, coalescer.embed(["a"])))
    first.start()
    while not sizes:  # the first pass is running (held): the rest queue up behind it
        threading.Event().wait(0.001)
    waiting = [
        threading.Thread(target=lambda i=i: results.__setitem__(i, coalescer.embed(["x" * i] * 2)))
        for i in range(1, 6)
    ]
    for thread in waiting:
        thread.start()
    while coalescer_pending(coalescer) < 5:
        threading.Event().wait(0.001)
    release.set()
    for thread in [first, *waiting]:
        thread.join(10)
    assert sizes == [1, 10]  # the first alone, then the five waiting calls in one pass
    for i in range(1, 6):
        assert results[i].shape == (2, 2)
        assert list(results[i][:, 0]) == [float(i), float(i)]  # each got its own rows back


def coalescer_pending(coalescer: Coalescer) -> int:
    return coalescer._queue.qsize()


def test_large_calls_run_on_the_callers_thread() -> None:
    threads: list[str] = []

    def encode(texts: list[str]) -> np.ndarray:
        threads.append(threading.current_thread().name)
        return np.zeros((len(texts), 3), np.float32)

    coalescer = Coalescer(encode, max_texts=4)
    assert coalescer.embed(["a"] * 4).shape == (4, 3)
    assert coalescer.embed(["a"]).shape == (1, 3)
    assert threads == [threading.current_thread().name, "selfmodel-embed"]


def test_an_error_reaches_every_caller_of_the_pass_and_the_next_pass_works() -> None:
    failing = {"on": True}

    def encode(texts: list[str]) -> np.ndarray:
        if failing["on"]:
            raise RuntimeError("model exploded")
        return np.ones((len(texts), 2), np.float32)

    gated, sizes, release = _gated(encode)
    coalescer = Coalescer(gated, max_texts=64)
    errors: list[BaseException] = []

    def call(i: int) -> None:
        try:
            coalescer.embed([str(i)])
        except RuntimeError as exc:
            errors.append(exc)

    runner = threading.Thread(target=_in_threads, args=(call, 6))
    runner.start()
    while coalescer_pending(coalescer) + sum(sizes) < 6:  # each call is one text
        threading.Event().wait(0.001)
    release.set()
    runner.join(30)
    assert len(errors) == 6 and all("exploded" in str(e) for e in errors)
    failing["on"] = False
    assert coalescer.embed(["fine"]).shape == (1, 2)


def _embed_in_child(coalescer: Coalescer, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(coalescer.embed(["child"]).tolist())


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_child_starts_its_own_thread() -> None:
    coalescer = Coalescer(lambda texts: np.full((len(texts), 2), 7.0, np.float32), max_texts=8)
    coalescer.embed(["parent"])  # the parent's thread exists; a fork copies none of it
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_embed_in_child, args=(coalescer, out))
    child.start()
    assert out.get(timeout=30) == [[7.0, 7.0]]
    child.join(30)
    assert child.exitcode == 0


def test_the_embedding_thread_runs_its_start_hook_once_on_itself() -> None:
    seen: list[str] = []
    coalescer = Coalescer(
        lambda texts: np.zeros((len(texts), 1), np.float32),
        max_texts=8,
        on_start=lambda: seen.append(threading.current_thread().name),
    )
    coalescer.embed(["a"])
    coalescer.embed(["b"])
    assert seen == ["selfmodel-embed"]


def test_the_embedding_thread_embeds_on_one_core_and_callers_keep_theirs() -> None:
    import torch

    from selfmodel.embedding.sentence_transformers import _one_thread

    before = torch.get_num_threads()
    seen: list[int] = []

    def encode(texts: list[str]) -> np.ndarray:
        seen.append(torch.get_num_threads())
        return np.zeros((len(texts), 1), np.float32)

    Coalescer(encode, max_texts=8, on_start=_one_thread).embed(["x"])
    assert seen == [1]
    assert torch.get_num_threads() == before  # OpenMP's setting is per thread


def test_openmp_threads_are_told_to_sleep_before_torch_loads() -> None:
    code = """
import importlib.abc, os, sys
seen = []
class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "torch" and not seen:
            seen.append(os.environ.get("OMP_WAIT_POLICY"))
sys.meta_path.insert(0, Watch())
import selfmodel.engine
from selfmodel.embedding import SentenceTransformerEmbedder
SentenceTransformerEmbedder().embed_one("load torch if nothing did")
print(seen)
"""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "['PASSIVE']"


def test_a_started_embedding_runs_while_the_caller_works_and_equals_embed_one(
    embedder: SentenceTransformerEmbedder,
) -> None:
    release = threading.Event()
    coalescer = Coalescer(
        lambda texts: (release.wait(10), np.ones((len(texts), 2), np.float32))[1], max_texts=8
    )
    wait = coalescer.start(["query"])  # returns before the pass has run
    assert not release.is_set()
    release.set()
    assert wait().shape == (1, 2)
    started = embedder.start_embed_one(QUERIES[0])
    assert np.allclose(started(), embedder.embed_one(QUERIES[0]), atol=1e-6)
