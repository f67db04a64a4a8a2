"""Traits: durable beliefs above single statements, aggregated over many occasions.

A person who mentions pottery on four different days is into pottery, whatever each sentence
said; one who speaks of "my husband John" has a husband called John. Traits are what a perceptive
friend would say after many conversations. Each is an ordinary belief (so it can be confirmed,
rejected, retrieved and explained) whose ``frame.trait`` names what it aggregates, whose evidence
is every observation behind its sources, and whose confidence comes from those occasions.

Kinds of traits (``draft_traits``):
- **interests**: something the person says they like or does for its own sake (the extractor's
  ``frame.interests``), shown on ``MIN_OCCASIONS`` or more days; "<name> is into <topic>";
- **people**: a relative or friend named in their statements ("my husband John");
- **pets**: an animal of theirs, with its name when given ("our dog Max").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
from lemminflect import getLemma

from selfmodel.domain import (
    Belief,
    BeliefEventType,
    BeliefFrame,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    Evidence,
    EvidenceStance,
    Occasion,
    new_id,
)
from selfmodel.domain.time import utcnow
from selfmodel.embedding import Embedder
from selfmodel.extraction.lexicon import taken_up_instead
from selfmodel.revision.confidence import (
    USER_ORIGINS,
    confidence,
    evidence_logit,
    latest,
    masses,
    support_occasions,
    with_evidence,
)
from selfmodel.revision.history import record_event
from selfmodel.revision.reviser import pastimes_of
from selfmodel.storage import BELIEF_VECTORS, Store

# An interest becomes a trait once it shows on this many different days, in this many different
# statements (one statement said twice is already its own belief).
MIN_OCCASIONS = 2
MIN_SOURCES = 2
# With this many interests, one trait sums them all up ("Mel is into pottery, camping and hiking").
MIN_INTERESTS_FOR_SUMMARY = 3
# Each occasion behind a trait counts as this many statement units: a mention is weaker evidence
# of an interest than a statement of it.
UNITS_PER_OCCASION = 0.8
STEM_CACHE_SIZE = 4096  # interests seen recently; each is a word or a short phrase


@dataclass(frozen=True)
class TraitDraft:
    key: str
    statement: str
    kind: BeliefKind
    sources: tuple[Belief, ...]


def draft_traits(beliefs: Sequence[Belief], name: str) -> list[TraitDraft]:
    """The traits ``beliefs`` (the person's active statements) support, by key."""
    statements = [
        b
        for b in beliefs
        if b.frame.trait is None and not b.frame.negated and b.frame.domain is None
    ]
    drafts: list[TraitDraft] = []
    by_topic: dict[str, list[Belief]] = defaultdict(list)
    named: set[str] = set()
    for belief in statements:
        for related in belief.frame.related:
            if related.name:
                named.add(related.name.lower())
        for interest in belief.frame.interests:
            by_topic[interest].append(belief)
    # A liking shown once ("I love pottery") draws in every statement of the same topic ("went
    # to a pottery class", "spent Sunday doing pottery"): together they make the interest.
    # (Membership by id: comparing beliefs field by field was most of an observe's trait work.)
    members = {topic: {b.id for b in sources} for topic, sources in by_topic.items()}
    for topic in list(by_topic):
        for belief in statements:
            if belief.id not in members[topic] and _mentions(belief, topic):
                by_topic[topic].append(belief)
                members[topic].add(belief.id)
    for topic, sources in sorted(by_topic.items()):
        days = {o.day for b in sources for o in b.occasions if o.support > 0}
        if (
            topic in named
            or len(days) < MIN_OCCASIONS
            or len({b.id for b in sources}) < MIN_SOURCES
        ):
            continue
        drafts.append(
            TraitDraft(
                key=f"interest:{topic}",
                statement=f"{name} is into {topic}",
                kind=BeliefKind.PREFERENCE,
                sources=tuple(sources),
            )
        )
    if len(drafts) >= MIN_INTERESTS_FOR_SUMMARY:
        # What a friend would say first: all they are into, most often mentioned first.
        ranked = sorted(
            drafts,
            key=lambda d: (-len({o.day for b in d.sources for o in b.occasions}), d.key),
        )
        topics = [d.key.partition(":")[2] for d in ranked]
        drafts.append(
            TraitDraft(
                key="interests",
                statement=f"{name} is into {', '.join(topics[:-1])} and {topics[-1]}",
                kind=BeliefKind.PREFERENCE,
                sources=tuple({b.id: b for d in ranked for b in d.sources}.values()),
            )
        )
    drafts.extend(_people_and_pets(statements, name))
    return drafts


def _people_and_pets(beliefs: Sequence[Belief], name: str) -> list[TraitDraft]:
    found: dict[str, tuple[str, list[Belief]]] = {}
    for belief in beliefs:
        for related in belief.frame.related:
            if related.relation == "pet":
                species = related.species or "pet"
                if related.name:
                    key = f"pet:{species}:{related.name.lower()}"
                    text = f"{name} has a {species} named {related.name}"
                else:
                    key = f"pet:{species}"
                    text = f"{name} has a {species}" if species != "pet" else f"{name} has a pet"
            elif related.name:
                key = f"person:{related.relation}:{related.name.lower()}"
                text = f"{name}'s {related.relation} is {related.name}"
            else:
                continue  # "my friends" on its own says little; named people are traits
            found.setdefault(key, (text, []))[1].append(belief)
    # A pet known by name makes "has a dog" (said of the same species) redundant, and an unnamed
    # pet mentioned in one statement is that statement already.
    named_species = {k.split(":")[1] for k in found if k.startswith("pet:") and k.count(":") == 2}
    return [
        TraitDraft(key, text, BeliefKind.RELATIONSHIP, tuple(sources))
        for key, (text, sources) in sorted(found.items())
        if key.count(":") == 2
        or (key.split(":")[1] not in named_species and len({b.id for b in sources}) >= MIN_SOURCES)
    ]


class Traits:
    """Keeps a user's trait beliefs in step with their statements (inside a transaction)."""

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def refresh(
        self, workspace_id: str, user_id: str, name: str, beliefs: Sequence[Belief]
    ) -> list[str]:
        """Create or update the user's traits from ``beliefs``, the user's active, rejected and
        decayed beliefs as they stand (a revision pass holds them: ``RevisionOutcome.revisable``);
        returns the ids of traits that changed."""
        existing = {b.frame.trait: b for b in beliefs if b.frame.trait is not None}
        active = [b for b in beliefs if b.status is BeliefStatus.ACTIVE and b.frame.trait is None]
        drafts = draft_traits(active, name)
        changed = self._retire(existing, drafts, active)
        if not drafts:
            return changed
        evidence = self._supporting_evidence(workspace_id, user_id, drafts)
        # New traits, and traits whose wording moved (the summary of interests grows), need a
        # vector; the user's own words (confirmed, edited) are never rewritten.
        worded = [
            d
            for d in drafts
            if d.key not in existing
            or (
                existing[d.key].statement != d.statement
                and existing[d.key].status is not BeliefStatus.REJECTED
                and existing[d.key].origin not in USER_ORIGINS
            )
        ]
        vectors = (
            dict(
                zip(
                    [d.key for d in worded],
                    self.embedder.embed([d.statement for d in worded]),
                    strict=True,
                )
            )
            if worded
            else {}
        )
        for draft in drafts:
            links = [e for b in draft.sources for e in evidence.get(b.id, [])]
            occasions: tuple[Occasion, ...] = ()
            for link in links:
                occasions = with_evidence(occasions, link[1], support=UNITS_PER_OCCASION)
            trait = existing.get(draft.key)
            if trait is None:
                trait = self._create(workspace_id, user_id, draft, occasions, vectors[draft.key])
                changed.append(trait.id)
            elif trait.status is not BeliefStatus.REJECTED and (
                trait.occasions != occasions or draft.key in vectors
            ):
                trait = self._update(trait, occasions, draft, vectors.get(draft.key))
                changed.append(trait.id)
            for e, _ in links:
                self.store.add_evidence(
                    workspace_id,
                    user_id,
                    e.model_copy(update={"belief_id": trait.id, "created_at": utcnow()}),
                )
        return changed

    def _retire(
        self, existing: dict[str, Belief], drafts: Sequence[TraitDraft], active: Sequence[Belief]
    ) -> list[str]:
        """An interest the person now denies ("I went off running") is over, and so is the
        summary of interests once too few remain to sum up."""
        drafted = {d.key for d in drafts}
        denied = {t for b in active if b.frame.negated for t in b.frame.topics}
        taken_up = [pastimes_of(b.frame) for b in active if b.frame.displaces]
        retired = []
        for key, trait in existing.items():
            kind, _, topic = key.partition(":")
            given_up = any(
                topic not in new and any(taken_up_instead(n, topic) for n in new)
                for new in taken_up
            )  # "I'm more into cycling now": the running is over
            over = (
                kind == "interest" and (_stem(topic) in denied or given_up)
            ) or kind == "interests"
            if (
                key in drafted
                or not over
                or trait.status is not BeliefStatus.ACTIVE
                or trait.origin in USER_ORIGINS
            ):
                continue  # (the summary is over once too few interests remain to sum up)
            ended = trait.model_copy(
                update={
                    "status": BeliefStatus.SUPERSEDED,
                    "valid_to": utcnow(),
                    "updated_at": utcnow(),
                }
            )
            self.store.update_belief(ended)
            record_event(
                self.store,
                ended,
                BeliefEventType.SUPERSEDED,
                cause="traits",
                before=trait.confidence,
                after=ended.confidence,
                details={"trait": key, "denied": topic},
            )
            retired.append(trait.id)
        return retired

    def _supporting_evidence(
        self, workspace_id: str, user_id: str, drafts: Sequence[TraitDraft]
    ) -> dict[str, list[tuple[Evidence, datetime]]]:
        source_ids = sorted({b.id for d in drafts for b in d.sources})
        links = [
            e
            for e in self.store.list_evidence(workspace_id, source_ids, user_ids=[user_id])
            if e.stance is EvidenceStance.SUPPORTS
        ]
        when = {
            o.id: o.occurred_at
            for o in self.store.get_observations(workspace_id, [e.observation_id for e in links])
        }
        out: dict[str, list[tuple[Evidence, datetime]]] = defaultdict(list)
        for e in links:
            if e.observation_id in when:
                out[e.belief_id].append((e, when[e.observation_id]))
        return out

    def _create(
        self,
        workspace_id: str,
        user_id: str,
        draft: TraitDraft,
        occasions: tuple[Occasion, ...],
        vector: np.ndarray,
    ) -> Belief:
        now = utcnow()
        first = min((o.at for o in occasions), default=now)
        support, against = masses(occasions, draft.kind, latest(occasions) or now)
        belief = Belief(
            id=new_id("bel"),
            workspace_id=workspace_id,
            user_id=user_id,
            statement=draft.statement,
            kind=draft.kind,
            confidence=confidence(occasions, draft.kind),
            origin=BeliefOrigin.INFERRED,
            status=BeliefStatus.ACTIVE,
            valid_from=first,
            evidence_logit=evidence_logit(support, against),
            last_evidence_at=latest(occasions),
            support_count=support_occasions(occasions),
            frame=BeliefFrame(trait=draft.key, topics=_topics(draft)),
            occasions=occasions,
            created_at=now,
            updated_at=now,
        )
        self.store.insert_belief(belief)
        self.store.put_vectors(
            workspace_id,
            user_id,
            BELIEF_VECTORS,
            self.embedder.name,
            [(belief.id, vector)],
            new_items=True,
        )
        record_event(
            self.store,
            belief,
            BeliefEventType.CREATED,
            cause="traits",
            before=None,
            after=belief.confidence,
            details={
                "trait": draft.key,
                "sources": [b.id for b in draft.sources],
                **_happened(occasions, first=True),
            },
        )
        return belief

    def _update(
        self,
        trait: Belief,
        occasions: tuple[Occasion, ...],
        draft: TraitDraft,
        vector: np.ndarray | None,
    ) -> Belief:
        at = latest(occasions)
        support, against = masses(occasions, trait.kind, at) if at else (0.0, 0.0)
        updated = trait.model_copy(
            update={
                "occasions": occasions,
                "confidence": (
                    trait.confidence
                    if trait.origin in USER_ORIGINS
                    else confidence(occasions, trait.kind)
                ),
                "evidence_logit": evidence_logit(support, against),
                "last_evidence_at": at,
                "support_count": support_occasions(occasions),
                "status": BeliefStatus.ACTIVE,
                "statement": draft.statement if vector is not None else trait.statement,
                "frame": trait.frame.model_copy(update={"topics": _topics(draft)}),
                "updated_at": utcnow(),
            }
        )
        self.store.update_belief(updated)
        if vector is not None:
            self.store.put_vectors(
                trait.workspace_id,
                trait.user_id,
                BELIEF_VECTORS,
                self.embedder.name,
                [(trait.id, vector)],
            )
        record_event(
            self.store,
            updated,
            BeliefEventType.REINFORCED,
            cause="traits",
            before=trait.confidence,
            after=updated.confidence,
            details={
                **({"previous": trait.statement} if updated.statement != trait.statement else {}),
                **_happened(occasions),
            },
        )
        return updated


def _happened(occasions: Sequence[Occasion], *, first: bool = False) -> dict[str, str]:
    """When a trait's change happened in the person's world (the event is recorded when the
    conversations are read, which may be much later): for a new trait, the day it first showed
    on enough occasions; for an update, its latest occasion."""
    days = sorted(o.at for o in occasions if o.support > 0)
    if not days:
        return {}
    at = days[min(MIN_OCCASIONS, len(days)) - 1] if first else days[-1]
    return {"happened_at": at.isoformat()}


def _mentions(belief: Belief, interest: str) -> bool:
    """Whether ``belief`` is about ``interest``: its topic lemma for one word ("went to a pottery
    class"), the whole phrase for several ("spicy food" is not the food bank)."""
    if " " in interest:
        return interest in belief.frame.interests or interest in belief.statement.lower()
    stem = _stem(interest)
    return stem in (*belief.frame.topics, *map(_stem, belief.frame.interests))


@lru_cache(maxsize=STEM_CACHE_SIZE)  # every trait refresh stems each interest of each statement
def _stem(interest: str) -> str:
    """An interest as the topic lemma statements carry: "running" -> "run", "pottery" stays."""
    if interest.endswith("ing") and " " not in interest:
        lemmas: tuple[str, ...] = getLemma(interest, upos="VERB")
        if lemmas:
            return lemmas[0]
    return interest.split()[-1]


def _topics(draft: TraitDraft) -> tuple[str, ...]:
    kind, _, rest = draft.key.partition(":")
    if kind == "interests":
        return tuple(sorted({i for b in draft.sources for i in b.frame.interests}))
    return (rest.split(":")[0],) if kind == "interest" else ()
