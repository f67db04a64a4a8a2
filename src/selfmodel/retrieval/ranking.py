"""Ranking: fuse dense and keyword signals, weigh by confidence and recency, diversify.

Reciprocal-rank fusion (Cormack et al., 2009) combines rankings without calibrating their scores
against each other: score = Σ 1 / (RRF_K + rank). Confidence and recency then act as priors
(multiplicative, bounded), and maximal marginal relevance (Carbonell & Goldstein, 1998) keeps the
budget from being spent on near-duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from selfmodel.domain import BeliefStatus
from selfmodel.retrieval.index import BELIEF, ScopeIndex
from selfmodel.retrieval.temporal import TemporalQuery
from selfmodel.revision.confidence import current_confidence, current_status

RRF_K = 60
# The ranker sorts this many times the documents it keeps before it looks at them; the rest
# are sorted only if it reads past them (it skips beliefs no longer current).
POOL_ROOM = 2


@dataclass(frozen=True)
class RankingConfig:
    """Every weight the ranker uses, named; recorded in each trace."""

    rrf_k: int = RRF_K
    dense_weight: float = 1.0
    # Words count half as much as meaning: LoCoMo 26 + 30 recall@10 0.732 at 1.0, 0.779 at 0.5,
    # 0.773 at 0.25, 0.754 at 0 (in-sample; the name-aware baseline gets the same weight).
    keyword_weight: float = 0.5
    # How much a belief's confidence moves its score: factor = 1 - w + w * confidence.
    confidence_weight: float = 0.3
    # Beliefs and observations compete on equal terms (LoCoMo: a boost > 1 lowered recall@10).
    belief_boost: float = 1.0
    # Recency: factor = 1 + w * 2^(-age / half_life). Small: old facts stay retrievable.
    recency_weight: float = 0.05
    recency_half_life_days: float = 90.0
    # A query that names some of the scope's users prefers their items: factor 1 + w.
    named_user_weight: float = 0.5
    # Session context: each observation gains w × the best fused score in its session, so a turn
    # in a sitting that is about the query outranks an equally matching stray turn.
    session_weight: float = 0.1
    # "When…?" questions prefer items that carry a time: factor 1 + w.
    when_weight: float = 0.3
    # Items inside a period the query names ("in May 2023", "last summer"): factor 1 + w.
    window_weight: float = 0.3
    # What the assistant (or system) said is context, not evidence about the user: its turns
    # count this much of a user's turn.
    non_user_weight: float = 0.5
    # A request ("suggest a trip", "what should I cook?") rarely shares a word with what bears on
    # it: its words count this much (instead of ``keyword_weight``), and raw moments this much
    # of what the self-model holds (see retrieval/intent.py).
    request_keyword_weight: float = 0.0
    request_moment_weight: float = 0.5
    # A question about what someone would do or like ("Would Mel rather go to a national park or
    # a theme park?") is answered by what they are like: their traits count 1 + w (LoCoMo
    # 26 + 30, in-sample: category 3 recall@10 0.636 at 0, 0.727 at 0.5 and at 1.0).
    disposition_trait_weight: float = 0.5
    # MMR trade-off between relevance (1.0) and novelty. LoCoMo 26 + 30 recall@10 (in-sample):
    # 0.787 at 0.8, 0.792 at 0.9 and 0.95, 0.791 at 1.0 (0.6 had lowered it); the held-out
    # preference split 0.944 at 0.8, 0.941 at 0.95. Beliefs already stand in for the moments
    # they were read from, so little is left to diversify.
    mmr_lambda: float = 0.95
    # Redundancy (as a cosine) of an item whose evidence the block already holds.
    covered_redundancy: float = 1.0
    # Match the query with the scope users' names taken out (see ``without_names``).
    strip_names: bool = True
    # How many fused candidates are considered for MMR and recorded in the trace.
    candidate_pool: int = 60

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass
class Candidate:
    """One document with every signal that went into its score."""

    index: int
    score: float
    signals: dict[str, float] = field(default_factory=dict)


def _best_first(scores: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Positions by descending score; ties in ``tiebreak`` order (the index's canonical order)."""
    return np.lexsort((tiebreak, -scores))


def _best_first_of(scores: np.ndarray, order: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``positions`` as ``_best_first`` orders them, where ``order`` is a permutation of
    0 … n-1 (so no two positions tie on both keys).

    A float32 score (a cosine, a BM25 score) and its document's order fit in one int64: the
    negated score's bits, made to sort as integers, in the high half, the order in the low
    half. One ``argsort`` of those is about four times faster than ``lexsort`` on two keys (0.13
    against 0.49 ms for 10 000 documents; a call ranks by meaning and by keywords).
    """
    picked = scores[positions]
    by_score: np.ndarray
    if picked.dtype != np.float32 or np.isnan(picked).any():
        by_score = positions[_best_first(picked, order[positions])]
        return by_score
    negated = -picked + np.float32(0.0)  # -0.0 becomes +0.0: the two tie, as in ``lexsort``
    bits = negated.view(np.int32).astype(np.int64)
    # IEEE floats order as sign-magnitude integers: flip a negative one's magnitude bits.
    bits = np.where(bits < 0, bits ^ 0x7FFFFFFF, bits)
    by_score = positions[np.argsort((bits << 32) | order[positions])]
    return by_score


def _best_first_lazily(
    scores: np.ndarray, tiebreak: np.ndarray, positions: np.ndarray, first: int
) -> Iterator[int]:
    """``positions`` as ``_best_first`` orders them, one at a time: the best ``first`` are
    picked out (with everything tied with the last of them) and sorted; the rest only if read.

    The ranker reads little more than the pool's worth of 10 000 documents: a full sort is
    wasted on the others.
    """
    picked = scores[positions]
    if 0 < first < len(positions) and np.isfinite(picked).all():
        threshold = np.partition(picked, len(picked) - first)[len(picked) - first]
        # Everything above the threshold comes before everything below it, in either order.
        head = picked >= threshold
        yield from _sorted(scores, tiebreak, positions[head])
        yield from _sorted(scores, tiebreak, positions[~head])
    else:
        yield from _sorted(scores, tiebreak, positions)


def _sorted(scores: np.ndarray, tiebreak: np.ndarray, positions: np.ndarray) -> Iterator[int]:
    yield from positions[_best_first(scores[positions], tiebreak[positions])].tolist()


def _ranks(scores: np.ndarray, order: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """1-based rank of every document by score (ties in ``order``, a permutation of 0 … n-1);
    0 where ``mask`` excludes it."""
    positions = np.arange(len(scores)) if mask is None else np.flatnonzero(mask)
    ranks = np.zeros(len(scores), dtype=np.int64)
    ranks[_best_first_of(scores, order, positions)] = np.arange(1, len(positions) + 1)
    return ranks


@dataclass(frozen=True)
class KeywordMatch:
    """How a query's words score on one version of an index, with their ranks.

    It needs no query vector, so a call computes it while its query is being embedded (on the
    embedding thread) instead of after; ``rank`` uses it only for the index version it was
    computed on, and scores the words again if the index has changed since.
    """

    index: ScopeIndex
    version: int
    query: str
    scores: np.ndarray
    ranks: np.ndarray

    def fits(self, index: ScopeIndex, query: str) -> bool:
        return self.index is index and self.version == index.version and self.query == query


def keyword_match(index: ScopeIndex, query: str) -> KeywordMatch:
    """BM25 scores of ``query`` on ``index`` and their ranks (0 where no word matches).

    Ties break by the index's canonical order, not by position: an index kept up to date by
    appends ranks exactly as one freshly built from the store. Hold ``index.lock`` when other
    threads may change the index.
    """
    scores = index.keyword_scores(query)
    ranks = _ranks(scores, index.order, scores > 0)
    return KeywordMatch(index, index.version, query, scores, ranks)


def named_users(query: str, users: Mapping[str, str]) -> frozenset[str]:
    """Ids of the scope's users (id → name) whose name appears as a word in ``query``."""
    words = {w.lower() for w in re.findall(r"[\w'-]+", query)}
    words |= {w.removesuffix("'s") for w in words}
    return frozenset(uid for uid, name in users.items() if name and name.lower() in words)


def without_names(query: str, names: Sequence[str]) -> str:
    """``query`` with the scope users' names (and their possessive) taken out.

    Beliefs name their subject in every statement while messages say "I", so a name left in the
    query makes every belief look relevant; whose items matter is the named-user prior's job.
    """
    stripped = query
    for name in names:
        if name:
            stripped = re.sub(rf"\b{re.escape(name)}(?:'s|’s)?\b", " ", stripped, flags=re.I)
    stripped = " ".join(stripped.split())
    return stripped if re.search(r"\w", stripped) else query


def rank(
    index: ScopeIndex,
    query: str,
    query_vector: np.ndarray,
    config: RankingConfig,
    now: datetime,
    *,
    users: Mapping[str, str] | None = None,
    temporal: TemporalQuery | None = None,
    original_query: str | None = None,
    beliefs_only: bool = False,
    request: bool = False,
    disposition: bool = False,
    keywords: KeywordMatch | None = None,
) -> list[Candidate]:
    """All documents worth considering, best first, each with its signal breakdown.

    ``users`` maps the scope's user ids to their names (for the named-user prior); ``temporal``
    is the query's time analysis (for the when / window priors); ``original_query`` is the
    query as asked when ``query`` is the form used for matching (names taken out);
    ``keywords``, the keyword match of ``query`` if already computed (see ``KeywordMatch``).
    """
    n = len(index)
    if not n:
        return []
    if keywords is None or not keywords.fits(index, query):
        keywords = keyword_match(index, query)
    keyword, keyword_rank = keywords.scores, keywords.ranks
    dense = index.dense_scores(query_vector)
    # Ties break by the canonical order, as for keywords (see ``keyword_match``).
    dense_rank = _ranks(dense, index.order)
    keyword_weight = config.request_keyword_weight if request else config.keyword_weight
    rrf = config.dense_weight / (config.rrf_k + dense_rank)
    rrf = rrf + np.where(keyword_rank > 0, keyword_weight / (config.rrf_k + keyword_rank), 0)

    session_bonus = np.zeros(n)
    if config.session_weight and index.session_count:
        in_session = index.sessions >= 0
        best = np.zeros(index.session_count)
        np.maximum.at(best, index.sessions[in_session], rrf[in_session])
        session_bonus[in_session] = config.session_weight * best[index.sessions[in_session]]
    fused = rrf + session_bonus

    # A belief stands in for the moments it was read from: it ranks at least as high as the best
    # of them, and they leave the pool — the block says what was understood, not the transcript.
    current = index.current_beliefs(now)
    holding = current[index.stand_in_beliefs] if len(index.stand_in_beliefs) else np.zeros(0, bool)
    held = np.zeros(n, dtype=bool)
    moment_score = np.zeros(n)
    if holding.any():
        beliefs, moments = index.stand_in_beliefs[holding], index.stand_in_moments[holding]
        held[moments] = True
        np.maximum.at(moment_score, beliefs, fused[moments])
        fused = np.where(index.is_belief, np.maximum(fused, moment_score), fused)

    named = named_users(original_query or query, users or {})
    # Only a query naming some (not all) of the scope's users says whose items matter.
    names_some = bool(named and users and len(named) < len(users))
    # Whose items the query asks about: everyone's unless it names some of the scope's users.
    asked_about = np.isin(index.user_ids, list(named)) if names_some else np.ones(n, dtype=bool)
    named_factor = np.where(asked_about & names_some, 1 + config.named_user_weight, 1.0)
    time_factor = np.ones(n)
    if temporal is not None and temporal.asks_when:
        time_factor = np.where(index.carries_time, 1 + config.when_weight, 1.0)

    eligible = ~index.is_withheld & ~held
    if beliefs_only:
        eligible &= index.is_belief
    # Room past the pool for the beliefs that are skipped as not current at ``now``.
    pool = _best_first_lazily(
        fused, index.order, np.flatnonzero(eligible), config.candidate_pool * 2 * POOL_ROOM
    )
    candidates: list[Candidate] = []
    for i in pool:
        if len(candidates) >= config.candidate_pool * 2:
            break
        doc = index.documents[i]
        confidence = doc.confidence
        if doc.belief is not None:
            # Confidence as of the moment asked about; a belief faded by then is not current.
            if current_status(doc.belief, now) is not BeliefStatus.ACTIVE:
                continue
            confidence = current_confidence(doc.belief, now)
        confidence_factor = 1 - config.confidence_weight + config.confidence_weight * confidence
        age_days = max((now - doc.occurred_at).total_seconds() / 86_400.0, 0.0)
        recency_factor = 1 + config.recency_weight * 2 ** (
            -age_days / config.recency_half_life_days
        )
        type_factor = config.belief_boost if doc.item_type == BELIEF else 1.0
        speaker_factor = 1.0 if doc.from_user else config.non_user_weight
        intent_factor = config.request_moment_weight if request and doc.item_type != BELIEF else 1.0
        if (
            disposition
            and doc.belief is not None
            and doc.belief.frame.trait is not None
            # "Would Caroline …?" asks what Caroline is like, not what anyone else is.
            and asked_about[i]
        ):
            intent_factor = 1 + config.disposition_trait_weight
        window_factor = 1.0
        if temporal is not None and any(w.contains(doc.occurred_at) for w in temporal.windows):
            window_factor = 1 + config.window_weight
        score = (
            float(fused[i])
            * confidence_factor
            * recency_factor
            * type_factor
            * speaker_factor
            * intent_factor
            * float(named_factor[i])
            * float(time_factor[i])
            * window_factor
        )
        candidates.append(
            Candidate(
                index=i,
                score=score,
                signals={
                    "confidence": confidence,
                    "moment_score": float(moment_score[i]),
                    "dense": float(dense[i]),
                    "dense_rank": float(dense_rank[i]),
                    "keyword": float(keyword[i]),
                    "keyword_rank": float(keyword_rank[i]),
                    "rrf": float(rrf[i]),
                    "session_bonus": float(session_bonus[i]),
                    "confidence_factor": confidence_factor,
                    "recency_factor": recency_factor,
                    "type_factor": type_factor,
                    "speaker_factor": speaker_factor,
                    "intent_factor": intent_factor,
                    "named_user_factor": float(named_factor[i]),
                    "when_factor": float(time_factor[i]),
                    "window_factor": window_factor,
                },
            )
        )
    candidates.sort(key=lambda c: -c.score)
    return candidates[: config.candidate_pool]


def diversify(
    index: ScopeIndex, candidates: list[Candidate], config: RankingConfig, limit: int
) -> list[Candidate]:
    """Maximal marginal relevance over the candidates' vectors; returns up to ``limit``."""
    if not candidates:
        return []
    top = candidates[0].score or 1.0
    relevance = np.array([c.score / top for c in candidates])
    vectors = index.vectors[[c.index for c in candidates]]
    # ``einsum``'s own loop, not BLAS (as in ``ScopeIndex.dense_scores``): OpenBLAS splits even
    # this 60 × 60 product over its threads, which then spin on the cores the query embedding
    # needs; on two busy cores the product took 20 ms of a warm call and slowed the next
    # embedding (about 0.3 ms this way, and the same bits whatever the thread count).
    similarity = np.einsum("ik,jk->ij", vectors, vectors, optimize=False)
    # Each item's highest similarity to anything chosen so far, updated as items are chosen.
    closest = np.full(len(candidates), -np.inf)
    # An item whose evidence is already all in the block repeats it, whatever its words: each
    # item counts its evidence not in the block yet (kept up to date as items are chosen, not
    # compared set by set each round).
    evidence = [set(index.documents[c.index].evidence_ids) for c in candidates]
    holders: dict[str, list[int]] = {}
    for i, ids in enumerate(evidence):
        for evidence_id in ids:
            holders.setdefault(evidence_id, []).append(i)
    uncovered = np.array([len(ids) for ids in evidence])
    has_evidence = uncovered > 0
    covered: set[str] = set()
    available = np.ones(len(candidates), dtype=bool)
    redundancy = np.zeros(len(candidates))  # nothing is chosen yet
    chosen: list[int] = []
    for _ in range(min(limit, len(candidates))):
        mmr = config.mmr_lambda * relevance - (1 - config.mmr_lambda) * redundancy
        # Every round scores all items and passes over the chosen: the same first best as
        # scoring only the remaining ones, without gathering them each round.
        best = int(np.argmax(np.where(available, mmr, -np.inf)))
        chosen.append(best)
        available[best] = False
        candidates[best].signals["mmr"] = float(mmr[best])
        closest = np.maximum(closest, similarity[:, best])
        for evidence_id in evidence[best] - covered:
            covered.add(evidence_id)
            uncovered[holders[evidence_id]] -= 1
        repeated = has_evidence & (uncovered == 0)
        redundancy = np.where(repeated, np.maximum(closest, config.covered_redundancy), closest)
    return [candidates[i] for i in chosen]
