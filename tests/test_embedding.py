"""Embedders: the bundled MiniLM offline, and an OpenAI-compatible endpoint over real HTTP."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfmodel import ConfigurationError, ExternalServiceError, SelfModel, Settings
from selfmodel.config import EmbeddingSettings
from selfmodel.embedding import OpenAIEmbedder, SentenceTransformerEmbedder, embedder_from_settings
from selfmodel.embedding import traced as traced_module
from selfmodel.embedding.sentence_transformers import (
    _Encoders,
    _encoders,
    _traced,
    asked_for,
    length_batches,
)
from selfmodel.embedding.traced import (
    AGREEMENT,
    BFLOAT16_AGREEMENT,
    TracedEncoder,
    _close,
    native_bfloat16,
)
from tests.support.openai_server import EMBEDDINGS_PATH, OpenAIServer, Reply


def test_bundled_minilm_gives_unit_vectors_that_know_paraphrases(
    embedder: SentenceTransformerEmbedder,
) -> None:
    vectors = embedder.embed(
        ["Maya loves hiking in the mountains", "Maya enjoys mountain hikes", "The stock fell 3%"]
    )
    assert vectors.shape == (3, embedder.dim) == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def _within(embedder: SentenceTransformerEmbedder) -> float:
    """How close its vectors are to the model's: float32 or bfloat16 rounding."""
    return BFLOAT16_AGREEMENT if embedder.computes_in == "bfloat16" else AGREEMENT


@pytest.mark.parametrize("precision", ["auto", "float32"])
def test_a_text_gets_the_same_vector_whatever_is_embedded_with_it(
    embedder: SentenceTransformerEmbedder,
    exact_embedder: SentenceTransformerEmbedder,
    precision: str,
) -> None:
    embedder = embedder if precision == "auto" else exact_embedder
    texts = [
        "Maya loves hiking",
        "I went to a support group yesterday and it was so powerful, everyone shared their "
        "stories and I felt accepted for who I am",
        "Maya is vegetarian",
        "ok",
    ] * 5
    together = embedder.embed(texts)
    alone = np.stack([embedder.embed([t])[0] for t in texts[:4]])
    assert together.shape == (20, 384)
    # To rounding: in bfloat16, float32 differences of 1e-7 between a padded batch and a text
    # alone can flip a rounding of a linear layer's input (7e-4 measured).
    assert np.allclose(together[:4], alone, atol=_within(embedder))
    assert np.allclose(together[4:8], alone, atol=_within(embedder))


# Long enough, and enough of them, that an embed call runs on the caller's thread.
LONG_TEXTS = [
    f"Day {n}: I went to a support group and it was so powerful, everyone shared their stories"
    for n in range(70)
]


def test_calls_on_two_threads_at_once_get_exactly_the_vectors_they_get_alone(
    embedder: SentenceTransformerEmbedder,
) -> None:
    calls = [LONG_TEXTS, LONG_TEXTS[::-1]]
    alone = [embedder.embed(texts) for texts in calls]
    got: dict[int, np.ndarray] = {}

    def embed(i: int) -> None:
        got[i] = embedder.embed(calls[i])

    threads = [threading.Thread(target=embed, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(np.array_equal(got[i], alone[i]) for i in range(len(calls)))


def _runs_onednn(traced: TracedEncoder) -> bool:
    return "mkldnn::_linear_pointwise" in str(traced._graph.inlined_graph)


@pytest.mark.parametrize("precision", ["auto", "float32"])
def test_the_bundled_model_runs_as_one_traced_graph_that_gives_the_models_own_vectors(
    embedder: SentenceTransformerEmbedder,
    exact_embedder: SentenceTransformerEmbedder,
    precision: str,
) -> None:
    import torch

    embedder = embedder if precision == "auto" else exact_embedder
    embedder.embed(["load it"])
    traced = _traced[embedder.model_path, asked_for(embedder.precision)]
    assert traced is not None  # a fallback to module-by-module would lose the serving speed
    # Where torch has oneDNN (x86), the linear layers run through it, weights packed once; in
    # bfloat16 where the processor has it, unless float32 is asked for.
    assert _runs_onednn(traced) == torch.backends.mkldnn.is_available()
    bfloat16 = precision == "auto" and native_bfloat16()
    assert traced.precision == embedder.computes_in == ("bfloat16" if bfloat16 else "float32")
    texts = [*LONG_TEXTS[:5], "ok", "What does Maya do on weekends?", "x " * 400]  # one truncated
    tokens = traced.tokenize(texts)
    for rows in ([*range(len(texts))], [5], [5, 6], [7, 0], [2, 3, 4]):
        some = [texts[i] for i in rows]
        expected = embedder.model.encode(
            some, batch_size=len(some), normalize_embeddings=True, show_progress_bar=False
        )
        assert _close(traced.embed(tokens, rows), expected, _within(embedder))
    # The texts are read exactly as the model's own tokenizer reads them (padding, truncation).
    features = embedder.model.preprocess(texts)
    names = ("input_ids", "token_type_ids", "attention_mask")
    for name, array in zip(names, tokens.arrays, strict=True):
        assert np.array_equal(array, features[name].numpy())


def test_without_the_graph_the_model_runs_as_it_is_and_gives_the_same_vectors(
    embedder: SentenceTransformerEmbedder,
) -> None:
    texts = [*LONG_TEXTS[:3], "ok", "What does Maya do on weekends?"]
    traced = embedder.embed(texts)
    path, key = embedder.model_path, (embedder.model_path, asked_for(embedder.precision))
    kept = _traced[key]
    # As for a model that cannot be traced: copies of it, two passes at once.
    _traced[key], _encoders[path] = None, _Encoders(embedder.model, 2)
    try:
        assert embedder.computes_in == "float32"
        untraced = embedder.embed(texts)
    finally:
        _traced[key] = kept
        del _encoders[path]
    assert _close(traced, untraced, _within(embedder))


class _Disagreeing:
    """The bundled model but for ``encode``, which answers off by more than rounding."""

    def __init__(self, model: Any, by: float) -> None:
        self._model = model
        self._by = by

    def __getitem__(self, i: int) -> Any:
        return self._model[i]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._model)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def encode(self, texts: list[str], **options: Any) -> np.ndarray:
        return np.asarray(self._model.encode(texts, **options)) + np.float32(self._by)


def test_a_graph_that_does_not_give_the_models_vectors_is_not_used(
    embedder: SentenceTransformerEmbedder,
) -> None:
    assert TracedEncoder.trace(embedder.model) is not None  # the same model as it is
    assert TracedEncoder.trace(_Disagreeing(embedder.model, 10 * AGREEMENT)) is None
    # Off by more than bfloat16 rounding, no graph is used, whatever was asked.
    off = _Disagreeing(embedder.model, 10 * BFLOAT16_AGREEMENT)
    assert TracedEncoder.trace(off, bfloat16=True) is None


@pytest.mark.skipif(not native_bfloat16(), reason="the processor has no native bfloat16")
def test_a_bfloat16_graph_is_held_to_bfloat16_rounding_and_float32_is_the_fallback(
    embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Off by ten times float32 rounding: too far for a float32 graph, within bfloat16's.
    slightly_off = _Disagreeing(embedder.model, 10 * AGREEMENT)
    fast = TracedEncoder.trace(slightly_off, bfloat16=True)
    assert fast is not None and fast.precision == "bfloat16"
    # A bfloat16 graph that does not agree gives way to the float32 graph.
    monkeypatch.setattr(traced_module, "BFLOAT16_AGREEMENT", 0.0)
    fallback = TracedEncoder.trace(embedder.model, bfloat16=True)
    assert fallback is not None and fallback.precision == "float32"


@pytest.mark.skipif(not native_bfloat16(), reason="the processor has no native bfloat16")
def test_the_bfloat16_graph_is_within_bfloat16_rounding_of_the_model(
    embedder: SentenceTransformerEmbedder,
) -> None:
    exact = TracedEncoder.trace(embedder.model)
    fast = TracedEncoder.trace(embedder.model, bfloat16=True)
    assert exact is not None and fast is not None
    assert (exact.precision, fast.precision) == ("float32", "bfloat16")
    texts = ["ok", "What does Maya do on weekends?", "I don't like jazz at all.", *LONG_TEXTS[:5]]
    tokens = exact.tokenize(texts)
    rows = list(range(len(texts)))
    a, b = exact.embed(tokens, rows), fast.embed(tokens, rows)
    assert _close(b, a, BFLOAT16_AGREEMENT) and not _close(b, a, AGREEMENT)
    # Similarities, what ranking reads, move by about a thousandth.
    assert np.abs(a @ a.T - b @ b.T).max() < 5e-3


def test_without_onednn_the_plain_graph_gives_the_models_vectors_bit_for_bit(
    embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A torch built without oneDNN (or not on x86): the graph keeps torch's own linear layers,
    and the sums are taken in the model's order."""
    import torch

    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    plain = TracedEncoder.trace(embedder.model)
    assert plain is not None and not _runs_onednn(plain)
    texts = ["ok", "What does Maya do on weekends?", *LONG_TEXTS[:3]]
    expected = embedder.model.encode(
        texts, batch_size=len(texts), normalize_embeddings=True, show_progress_bar=False
    )
    assert np.array_equal(plain.embed(plain.tokenize(texts), list(range(len(texts)))), expected)


def test_a_model_that_cannot_be_traced_runs_as_it_is() -> None:
    class NotATransformer(list[object]):
        def encode(self, texts: list[str], **_: object) -> np.ndarray:
            return np.ones((len(texts), 2), dtype=np.float32)

    assert TracedEncoder.trace(NotATransformer([object()])) is None


def test_encoders_share_the_models_weights_but_not_its_tokenizer(
    embedder: SentenceTransformerEmbedder,
) -> None:
    encoders = _Encoders(embedder.model, 2)
    with encoders.lend() as one, encoders.lend() as other:
        assert one is not other and one.tokenizer is not other.tokenizer
        pairs = zip(one.parameters(), other.parameters(), strict=True)
        assert all(a.data_ptr() == b.data_ptr() for a, b in pairs)
        texts = LONG_TEXTS[:3]
        assert np.array_equal(one.encode(texts), other.encode(texts))


def test_a_call_waits_for_an_encoder_while_every_one_is_lent() -> None:
    encoders = _Encoders(object(), 1)
    got: list[object] = []

    def borrow() -> None:
        with encoders.lend() as encoder:
            got.append(encoder)

    with encoders.lend() as only:
        waiter = threading.Thread(target=borrow)
        waiter.start()
        waiter.join(0.2)
        assert not got  # still waiting for the only encoder
    waiter.join(10)
    assert got == [only]


def _lend_in_child(encoders: _Encoders, out: multiprocessing.Queue[object]) -> None:
    with encoders.lend() as encoder:
        out.put(encoder)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_child_has_every_encoder_even_those_lent_in_the_parent() -> None:
    encoders = _Encoders("the model", 1)
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    with encoders.lend():  # the parent's only encoder is out while the child is forked
        child = context.Process(target=_lend_in_child, args=(encoders, out))
        child.start()
        assert out.get(timeout=30) == "the model"
    child.join(30)
    assert child.exitcode == 0


def _batches_cost(lengths: list[int], batches: list[list[int]], pass_cost: int) -> int:
    return sum(pass_cost + len(b) * max(lengths[i] for i in b) for b in batches)


@given(
    st.lists(st.integers(min_value=1, max_value=256), max_size=80),
    st.integers(min_value=1, max_value=64),
    st.integers(min_value=0, max_value=100),
)
def test_length_batches_cover_every_text_once_and_pad_no_more_than_fixed_batches(
    lengths: list[int], max_batch: int, pass_cost: int
) -> None:
    batches = length_batches(lengths, max_batch, pass_cost)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(0 < len(b) <= max_batch for b in batches)
    # Never dearer than fixed batches in the given order (what one encode call would run).
    fixed = [
        list(range(i, min(i + max_batch, len(lengths)))) for i in range(0, len(lengths), max_batch)
    ]
    assert _batches_cost(lengths, batches, pass_cost) <= _batches_cost(lengths, fixed, pass_cost)


def test_the_model_is_loaded_once_per_process(embedder: SentenceTransformerEmbedder) -> None:
    again = SentenceTransformerEmbedder()
    assert again.model is embedder.model


def test_openai_embedder_batches_and_normalises_over_real_http() -> None:
    with OpenAIServer(embedding_dim=16) as server:
        embedder = OpenAIEmbedder(server.base_url, "test-embed", batch_size=2, max_retries=0)
        vectors = embedder.embed(["a", "b", "c"])
        assert vectors.shape == (3, 16)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert [len(r["input"]) for r in server.requests_to(EMBEDDINGS_PATH)] == [2, 1]
        assert np.allclose(embedder.embed(["a"])[0], vectors[0])


def test_warming_up_an_engine_does_not_call_its_embedding_service(tmp_path: Path) -> None:
    with OpenAIServer(embedding_dim=16) as server:
        embedder = OpenAIEmbedder(server.base_url, "test-embed", max_retries=0)
        with SelfModel.open(str(tmp_path / "warm.db"), embedder=embedder) as sm:
            sm.warm_up()  # loads the language pipeline; a service waits for real texts
        assert server.requests_to(EMBEDDINGS_PATH) == []


def test_openai_embedder_retries_server_errors_then_succeeds() -> None:
    with OpenAIServer(embedding_dim=8) as server:
        server.script_embeddings(Reply.error(503), Reply.error(500))
        embedder = OpenAIEmbedder(server.base_url, "m", max_retries=2)
        assert embedder.embed(["hello"]).shape == (1, 8)
        assert len(server.requests_to(EMBEDDINGS_PATH)) == 3


def test_openai_embedder_gives_up_with_a_clear_error() -> None:
    with OpenAIServer(embedding_dim=8) as server:
        server.script_embeddings(*[Reply.error(500)] * 3)
        embedder = OpenAIEmbedder(server.base_url, "m", max_retries=1)
        with pytest.raises(ExternalServiceError, match="after 2 attempts"):
            embedder.embed(["hello"])
        server.script_embeddings(Reply.error(401))
        with pytest.raises(ExternalServiceError, match="HTTP 401"):
            embedder.embed(["hello"])


def test_a_selfmodel_can_run_on_an_openai_compatible_embedding_endpoint(tmp_path: Path) -> None:
    with OpenAIServer(embedding_dim=32) as server:
        settings = Settings(
            embedding=EmbeddingSettings(
                embedder="openai", embedding_base_url=server.base_url, embedding_model="test-embed"
            )
        )
        with SelfModel.open(str(tmp_path / "o.db"), settings=settings) as sm:
            sm.observe("maya", "I love hiking in the mountains.")
            assert sm.context("maya", "hiking").items


def test_embedder_settings_that_cannot_work_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="EMBEDDING_BASE_URL"):
        embedder_from_settings(EmbeddingSettings(embedder="openai"))
    with pytest.raises(ConfigurationError, match="EMBEDDING_MODEL"):
        embedder_from_settings(EmbeddingSettings(embedder="sentence-transformers"))


def test_the_precision_setting_reaches_local_models(embedder: SentenceTransformerEmbedder) -> None:
    path = embedder.model_path
    chosen = {
        (kind, precision): embedder_from_settings(
            EmbeddingSettings(
                embedder=kind,
                embedding_model=path if kind == "sentence-transformers" else None,
                embedding_precision=precision,
            )
        )
        for kind in ("minilm", "sentence-transformers")
        for precision in ("auto", "float32")
    }
    native = "bfloat16" if native_bfloat16() else "float32"
    for (_, precision), local in chosen.items():
        assert isinstance(local, SentenceTransformerEmbedder) and local.precision == precision
        assert local.computes_in == (native if precision == "auto" else "float32")
    # One graph for each precision the processor computes in ("auto" is "float32" without
    # native bfloat16), both over the one loaded model.
    graphs = {_traced[path, native], _traced[path, "float32"]}
    assert len(graphs) == len({native, "float32"})


def test_a_precision_that_is_not_offered_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="auto, float32"):
        SentenceTransformerEmbedder(precision="bfloat16")  # type: ignore[arg-type]
