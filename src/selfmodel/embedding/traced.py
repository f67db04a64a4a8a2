"""A sentence-transformers model's transformer run as one TorchScript graph.

Run module by module, a forward pass of all-MiniLM-L6-v2 gives up the GIL and takes it back
around each of its couple of hundred tensor operations. In a server the embedding thread shares
the interpreter with the threads that rank and write, and each taking back waits for a running
thread to yield, up to the interpreter's switch interval (5 ms): one pass of a short text took
600 ms instead of 9 ms beside a thread running Python (measured). A traced graph runs the whole
pass in C++ with the GIL given up once, and skips each module's Python (a short text: 7.3 ms as
modules, 5.4 ms as a graph, one core). With the bench's serving mix in one process, that took
59 to 77 observe+context pairs a second.

Where torch has oneDNN (x86), the graph's linear layers run through it with their weights
packed once into its layout: PyTorch's own fp32 path calls MKL, which on AMD processors runs an
AVX2 kernel and packs every weight matrix again on every call (one core of an AVX-512 AMD
EPYC: a short text 5.95 → 3.50 ms, eight texts 26.2 → 13.8 ms). The sums are then taken in
another order, so a vector can differ from the model's in the last bits of a component.

Where the processor multiplies bfloat16 natively (AVX512-BF16 or AMX), the linear layers can
run in bfloat16 instead (``bfloat16=True``): their inputs, packed weights and biases rounded to
bfloat16, the sums accumulated in float32 and each result rounded to bfloat16 before it is
widened again; everything between them (attention, layer norms, pooling) runs in float32. A
pass costs two thirds of the float32 one (one core of an AVX-512 AMD EPYC: a short text 2.94 →
1.96 ms, four texts 6.90 → 4.62 ms, eight 15.7 → 10.2 ms). A vector then differs
from the model's by up to 2e-3 in a component (the check texts), and the cosine of two texts
moves by about 1e-3 (9.7e-4 at most over the serving benchmark's texts), a hundred times less
than what tells a paraphrase from another sentence; it is the same model, and its vectors sit
in one index with float32 ones. A text's vector then depends on what it is embedded with to
that rounding too (7e-4 measured, against 3e-7 in float32): float32 differences of 1e-7 between
a padded batch and a text alone can flip the rounding of a layer's input.
``SELFMODEL_EMBEDDING_PRECISION=float32`` keeps the model's own vectors. Without native
bfloat16, oneDNN would emulate it, slower than float32: the float32 graph is used.

The graph is used only when it computes what the model computes: after tracing, a padded batch
and single texts are embedded both ways and must agree to float32 rounding (``AGREEMENT``: the
packed graph differs by 3.5e-7 at most; a graph off by 1e-4 is refused, tests show), or to
bfloat16 rounding for the bfloat16 graph (``BFLOAT16_AGREEMENT``). If the bfloat16 graph
disagrees, the packed float32 graph is tried; without oneDNN, or if that disagrees, the plain
graph is traced (it agrees bit for bit); otherwise (another architecture, a torch without
``torch.jit``, any failure) the model runs as it is.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import numpy as np

log = logging.getLogger(__name__)

MASK = "attention_mask"  # tells a text's tokens from padding: without it, no padded batches

# Texts the graph is traced on (a padded batch, so the attention mask is part of the graph) and
# checked against the model with: padding, a single word, capitals, punctuation, digits.
TRACE_TEXTS = ("an example sentence that is longer than the other one", "short")
CHECK_TEXTS = (
    "ok",
    "Maya loves hiking in the mountains",
    "I went to a support group yesterday, and it was SO powerful: 12 people shared their stories!",
    "and then " * 150,  # longer than the model reads: cut as the model cuts it
)
# Largest difference a component of a unit vector may show from the model's own: float32
# rounding of sums taken in another order (3.5e-7 measured), far below any real difference.
AGREEMENT = 1e-5
# The same for linear layers in bfloat16, whose 8-bit significand rounds every input (2.0e-3
# measured on the check texts).
BFLOAT16_AGREEMENT = 5e-3
# Where each input of the transformer is in a ``tokenizers.Encoding``.
ENCODING_FIELDS = {"input_ids": "ids", MASK: "attention_mask", "token_type_ids": "type_ids"}


class TracedEncoder:
    """Embeds texts as its model does: read by a copy of the model's fast tokenizer, then one
    traced graph from tokens to unit vectors."""

    def __init__(
        self,
        graph: Any,
        inputs: tuple[str, ...],
        reader: Any,
        pad_id: int,
        *,
        precision: Computes = "float32",
    ) -> None:
        self._graph = graph
        self.precision: Computes = precision  # what the linear layers compute in
        self._inputs = inputs  # the tokenizer outputs the transformer takes, in its order
        self._reader = reader  # the model's tokenizer, set up once: see ``tokenize``
        self._pad = {name: pad_id if name == "input_ids" else 0 for name in inputs}

    @classmethod
    def trace(cls, model: Any, *, bfloat16: bool = False) -> TracedEncoder | None:
        """The traced encoder of ``model``, or None when it cannot compute the same vectors:
        with its linear layers in bfloat16 if asked (see the module's docstring), else packed
        in float32 where torch has oneDNN, else the plain graph."""
        ways: list[tuple[Computes, bool]] = [("bfloat16", True)] if bfloat16 else []
        for precision, packed in [*ways, ("float32", True), ("float32", False)]:
            try:
                traced = cls._trace(model, packed=packed, precision=precision)
                agrees = traced is not None and traced._agrees_with(model)
            except Exception as exc:  # any failure means: try the next way, then run as it is
                log.info("embedding model not traced (%s, packed=%s): %r", precision, packed, exc)
                continue
            if agrees:
                return traced
            log.info("traced embedding model (%s, packed=%s) differs from it", precision, packed)
        return None

    def _agrees_with(self, model: Any) -> bool:
        """All check texts at once, and each from the same padded tokens (the rows cut to their
        own length must give what the text alone gives), as the model embeds them."""
        texts = list(CHECK_TEXTS)
        tokens = self.tokenize(texts)
        everything = list(range(len(texts)))
        within = BFLOAT16_AGREEMENT if self.precision == "bfloat16" else AGREEMENT
        together = self.embed(tokens, everything)
        alone = [self.embed(tokens, [i]) for i in range(len(texts))]
        return _close(together, _reference(model, texts), within) and all(
            _close(a, _reference(model, [t]), within) for a, t in zip(alone, texts, strict=True)
        )

    @classmethod
    def _trace(cls, model: Any, *, packed: bool, precision: Computes) -> TracedEncoder | None:
        import torch

        transformer = getattr(model[0], "auto_model", None)
        if not isinstance(transformer, torch.nn.Module) or not hasattr(model, "preprocess"):
            return None
        accepted = inspect.signature(transformer.forward).parameters
        features = model.preprocess(list(TRACE_TEXTS))
        inputs = tuple(
            name
            for name, value in features.items()
            if name in accepted and isinstance(value, torch.Tensor)
        )
        reader = _reader(model)
        if reader is None or MASK not in inputs or not set(inputs) <= set(ENCODING_FIELDS):
            return None
        mkldnn: Any = torch.backends.mkldnn  # untyped
        if packed and not mkldnn.is_available():
            return None
        with torch.no_grad(), warnings.catch_warnings():
            # torch.jit is deprecated in favour of torch.compile/torch.export, which need a
            # compiler at run time or run the graph through Python again; and the tracer warns
            # about the shape checks it records as constants, which the agreement check covers.
            warnings.simplefilter("ignore")
            swapped = _packed_linears(transformer, precision) if packed else nullcontext()
            jit: Any = torch.jit  # untyped; deprecated, so its types may not follow
            with swapped:
                graph = jit.trace(
                    _whole_pass(model, inputs).eval(),
                    tuple(features[name] for name in inputs),
                    strict=False,
                    check_trace=False,  # ``trace`` checks its outputs instead
                )
        pad_id = int(model.tokenizer.pad_token_id or 0)
        return cls(graph, inputs, reader, pad_id, precision=precision)

    def tokenize(self, texts: Sequence[str]) -> Tokens:
        """``texts`` read as the model's tokenizer reads them, right-padded to the longest.

        Through a copy of the model's fast tokenizer, set up once and read one text at a time.
        The model's own tokenizer runs much Python around each call (it was 7 % of the server's
        GIL time), sets its truncation on every call (which is why two threads must not share
        it), and reads a batch with the GIL given up (taking it back waited out a 5 ms switch
        interval beside a busy thread, for 0.03 ms of work). ``trace`` checks that both read
        alike.
        """
        read = [self._reader.encode(text) for text in texts]
        lengths = [len(encoding.ids) for encoding in read]
        arrays = []
        for name in self._inputs:
            array = np.full((len(read), max(lengths, default=0)), self._pad[name], np.int64)
            for row, encoding in enumerate(read):
                values = getattr(encoding, ENCODING_FIELDS[name])
                array[row, : len(values)] = values
            arrays.append(array)
        return Tokens(tuple(arrays), lengths)

    def embed(self, tokens: Tokens, rows: Sequence[int]) -> np.ndarray:
        """Unit vectors of the texts at ``rows`` of ``tokens``, as ``model.encode`` gives them
        for those texts in one batch (to float32 rounding): the rows are cut to the longest of
        them."""
        import torch

        longest = max(tokens.lengths[i] for i in rows)
        # Cut in numpy: a torch operation run from Python gives up the GIL (see above).
        inputs = [torch.from_numpy(np.ascontiguousarray(a[rows, :longest])) for a in tokens.arrays]
        with torch.inference_mode():
            vectors = self._graph(*inputs)
        return np.asarray(vectors.numpy(), dtype=np.float32)


@dataclass(frozen=True)
class Tokens:
    """Texts as the transformer's inputs (one array per input, a row per text, right-padded)
    and each text's length in tokens."""

    arrays: tuple[np.ndarray, ...]
    lengths: list[int]


def _whole_pass(model: Any, inputs: tuple[str, ...]) -> Any:
    """The model from its tokenizer's tensors to unit vectors, as one module to trace.

    Everything after the tokenizer is in the graph, the pooling too: each tensor operation run
    from Python would give up the GIL and wait to take it back (a six-text pass took 18 ms alone
    and 102 ms beside a thread running Python when only the transformer was traced).
    """
    import torch

    class WholePass(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = model[0].auto_model
            self.after = torch.nn.ModuleList(list(model)[1:])  # pooling, normalising

        def forward(self, *tensors: Any) -> Any:
            features = dict(zip(inputs, tensors, strict=True))
            output = self.transformer(**features, return_dict=True)
            features["token_embeddings"] = output["last_hidden_state"]
            for module in self.after:
                features = module(features)
            # What ``encode(normalize_embeddings=True)`` does last, to the same bits.
            return torch.nn.functional.normalize(features["sentence_embedding"], p=2, dim=1)

    return WholePass()


def _reader(model: Any) -> Any:
    """A copy of ``model``'s fast tokenizer that truncates as the model does and never pads,
    or None when the model has no fast tokenizer."""
    backend = getattr(getattr(model, "tokenizer", None), "backend_tokenizer", None)
    limit = getattr(model, "max_seq_length", None)
    if backend is None or limit is None:
        return None
    from tokenizers import Tokenizer

    reader = Tokenizer.from_str(backend.to_str())
    reader.no_padding()
    reader.enable_truncation(max_length=int(limit))
    return reader


# What a traced graph's linear layers compute in.
Computes = Literal["float32", "bfloat16"]


@cache
def native_bfloat16() -> bool:
    """Whether this processor multiplies bfloat16 in hardware (AVX512-BF16 or AMX tiles)."""
    try:
        import torch

        cpu: Any = torch.cpu  # untyped private checks
        return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())
    except Exception:  # a torch without the checks: float32
        return False


@contextmanager
def _packed_linears(transformer: Any, precision: Computes) -> Iterator[None]:
    """While tracing, every linear layer of ``transformer`` runs through oneDNN with its weight
    packed once (in ``precision``); the model itself is given its own layers back (``encode``
    runs as it did)."""
    import torch

    class PackedLinear(torch.nn.Module):
        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            weight = linear.weight.detach()
            self.register_buffer("packed", torch.ops.mkldnn._reorder_linear_weight(weight, None))
            self.bias = linear.bias

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = torch.ops.mkldnn._linear_pointwise(
                x, self.packed, self.bias, "none", [], ""
            )
            return out

    class BFloat16Linear(torch.nn.Module):
        """Input, weight and bias rounded to bfloat16, sums accumulated in float32; the result
        comes out in bfloat16 (oneDNN gives the input's type) and is widened to float32."""

        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            weight = linear.weight.detach().to(torch.bfloat16)
            self.register_buffer("packed", torch.ops.mkldnn._reorder_linear_weight(weight, None))
            bias = linear.bias.detach().to(torch.bfloat16) if linear.bias is not None else None
            self.register_buffer("bias", bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = torch.ops.mkldnn._linear_pointwise(
                x.to(torch.bfloat16), self.packed, self.bias, "none", [], ""
            )
            return out.to(torch.float32)

    layer = BFloat16Linear if precision == "bfloat16" else PackedLinear

    swapped = [
        (parent, name, child)
        for parent in transformer.modules()
        for name, child in parent.named_children()
        if isinstance(child, torch.nn.Linear)
    ]
    jit: Any = torch.jit
    try:
        for parent, name, child in swapped:
            # Scripted: the tracer cannot record the op's empty list of scalars.
            parent._modules[name] = jit.script(layer(child))
        yield
    finally:
        for parent, name, child in swapped:
            parent._modules[name] = child


def _close(vectors: np.ndarray, reference: np.ndarray, within: float = AGREEMENT) -> bool:
    return vectors.shape == reference.shape and bool(
        np.abs(vectors - reference).max(initial=0.0) <= within
    )


def _reference(model: Any, texts: list[str]) -> np.ndarray:
    return np.asarray(
        model.encode(
            texts,
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        ),
        dtype=np.float32,
    )


__all__ = ["Computes", "Tokens", "TracedEncoder", "native_bfloat16"]
