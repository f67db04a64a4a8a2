"""The similarity bars of the reviser, measured on pairs the real extractor writes.

A wrong merge loses a fact, a missed one leaves a weaker twin: the bars should merge most
paraphrases and few different facts. The pairs are what one person says on two days; each side
goes through the real ``LocalExtractor`` (frames, wording) and is compared as the reviser does:
its statement without the name (``wording.core``), with the lower bar when the topics agree.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from selfmodel.domain import Observation
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.engine.understanding import statement_vectors
from selfmodel.extraction.base import CandidateBelief, ExtractionRequest
from selfmodel.extraction.local import LocalExtractor
from selfmodel.revision.reviser import says_the_same

PARAPHRASES = [
    ("I love running.", "I really enjoy running."),
    ("I love running.", "I'm really into running."),
    ("I'm a software engineer.", "I work as a software engineer."),
    ("I hate crowded places.", "I can't stand crowds."),
    ("I love hiking in the mountains.", "I really love hiking in the mountains."),
    ("I no longer drink coffee.", "I stopped drinking coffee."),
    ("I'm vegetarian.", "I don't eat meat, I'm vegetarian."),
    ("I play the piano every evening.", "Every evening I play the piano."),
    ("I'm training for a marathon.", "I'm in training for a marathon."),
    ("I love Thai food.", "Thai food is my favourite."),
    (
        "I'm keen on counseling or working in mental health.",
        "Lately I've been looking into counseling and mental health as a career.",
    ),
]
DIFFERENT = [
    ("I love hiking in the mountains.", "I love camping in the mountains."),
    ("I read science fiction.", "I write science fiction."),
    ("I love running.", "I love swimming."),
    ("I play the piano every evening.", "I play the guitar every evening."),
    ("I love Thai food.", "I love Italian food."),
    ("I went to a pottery class.", "I went to a yoga class."),
    ("I'm a software engineer.", "I'm a nurse."),
    ("I hate crowded places.", "I hate loud music."),
    ("My sister lives in Rome.", "My brother lives in Rome."),
    ("I drink coffee every morning.", "I drink tea every morning."),
    ("I love hiking in the mountains with my dog.", "I love camping in the mountains with my dog."),
]
WHEN = datetime(2024, 3, 4, 9, tzinfo=UTC)


def candidate(text: str) -> CandidateBelief:
    observation = Observation(
        id="o", workspace_id="w", user_id="u", content=text, occurred_at=WHEN, recorded_at=WHEN
    )
    (found, *_) = LocalExtractor().extract(
        [ExtractionRequest(observation=observation, subject="Maya")]
    )
    return found


def merges(embedder: SentenceTransformerEmbedder, a: str, b: str) -> bool:
    first, second = candidate(a), candidate(b)
    vectors = statement_vectors(embedder, [first.statement, second.statement], ["Maya"])
    similarity = float(vectors[first.statement] @ vectors[second.statement])
    return says_the_same(first.frame, second.frame, similarity)


@pytest.fixture(scope="module")
def rates(embedder: SentenceTransformerEmbedder) -> tuple[float, float]:
    merged = sum(merges(embedder, a, b) for a, b in PARAPHRASES) / len(PARAPHRASES)
    confused = sum(merges(embedder, a, b) for a, b in DIFFERENT) / len(DIFFERENT)
    return merged, confused


def test_most_paraphrases_are_one_belief(rates: tuple[float, float]) -> None:
    assert rates[0] >= 0.7


def test_few_different_facts_are_merged(rates: tuple[float, float]) -> None:
    assert rates[1] <= 0.1
