"""What the Inspector's pages show, in an operator's terms: items with their signals, beliefs
with confidence and status, a verdict with what to try next, a replay's changes.

Pure functions from engine records (and a trace's JSON payload) to small view records; the
templates only lay them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from selfmodel.domain import Belief, BeliefStatus
from selfmodel.domain.debugging import ItemChange, Verdict, WhyNot
from selfmodel.domain.profile import Profile, ProfileItem

# The signals every row shows in a column of its own; the rest are listed under "factors".
MAIN_SIGNALS = ("dense", "dense_rank", "keyword", "keyword_rank", "confidence")
# Signals that multiply a score are left out of "other signals" at 1, the rest at 0 (as shown,
# to four places); ``profile`` says the row is a profile line, which the row says already.
NEUTRAL_FACTOR = 1.0
HIDDEN_SIGNALS = frozenset({*MAIN_SIGNALS, "profile"})
# A verdict in a few words, for the page's heading.
VERDICT_TITLES: dict[Verdict, str] = {
    Verdict.CHOSEN: "It was chosen",
    Verdict.NOT_IN_SCOPE: "Out of the call's scope",
    Verdict.NOT_YET: "Not there yet",
    Verdict.REJECTED: "Rejected by the user",
    Verdict.SUPERSEDED: "Superseded",
    Verdict.DECAYED: "Decayed",
    Verdict.AWAITING_USER: "Waiting for the user's answer",
    Verdict.WITHHELD: "Withheld",
    Verdict.MOMENTS_OFF: "Moments were off",
    Verdict.NOT_PERSONALIZED: "Not personalized",
    Verdict.HELD_BY_BELIEF: "Held by a belief",
    Verdict.BELOW_POOL: "Below the candidate pool",
    Verdict.DIVERSITY: "Left out for diversity",
    Verdict.RANK_CUTOFF: "Ranked below the cut",
    Verdict.BUDGET: "Did not fit the token budget",
}
# Places for a score set beside the cutoff's: two scores often agree to four.
PRECISE = 6
# A suggested budget is rounded up to this many tokens.
BUDGET_STEP = 50
# The profile's lists, in the order the user page shows them.
PROFILE_LISTS = (
    ("people", "People"),
    ("pets", "Pets"),
    ("interests", "Interests"),
    ("likes", "Likes"),
    ("dislikes", "Dislikes"),
    ("values", "Values"),
    ("goals", "Goals"),
    ("communication", "How to answer"),
)


def number(value: Any, places: int = 4) -> str:
    """A score or signal as the tables show it: ranks whole, the rest to ``places`` places."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.{places}f}"
    return str(value)


@dataclass(frozen=True)
class ItemRow:
    """One item of a trace (chosen or a candidate) with its per-signal scores."""

    rank: int
    id: str
    item_type: str
    text: str
    score: float
    chosen: bool
    signals: dict[str, float]
    tokens: int | None = None
    kind: str | None = None
    reason: str = ""

    def signal(self, name: str) -> str:
        value = self.signals.get(name)
        if name.endswith("_rank"):
            # A rank of 0 means that retriever did not find it at all.
            return "missed" if not value else number(value)
        return number(value)

    @property
    def factors(self) -> list[tuple[str, str]]:
        """The signals besides the main ones that moved the score, as (name, value)."""
        moved = []
        for name, value in sorted(self.signals.items()):
            neutral = NEUTRAL_FACTOR if name.endswith("_factor") else 0.0
            if name in HIDDEN_SIGNALS or round(value, 4) == neutral:
                continue
            moved.append((name, number(value)))
        return moved


def item_rows(items: Sequence[Mapping[str, Any]], chosen: set[str]) -> list[ItemRow]:
    """A trace's items (its ``chosen`` or ``candidates``) in their order, ranked from 1."""
    return [
        ItemRow(
            rank=rank,
            id=str(item["id"]),
            item_type=str(item.get("item_type", "")),
            text=str(item.get("text", "")),
            score=float(item.get("score", 0.0)),
            chosen=item["id"] in chosen,
            signals=dict(item.get("signals", {})),
            tokens=item.get("tokens"),
            kind=item.get("kind"),
            reason=str(item.get("reason", "")),
        )
        for rank, item in enumerate(items, start=1)
    ]


@dataclass(frozen=True)
class BeliefRow:
    id: str
    statement: str
    kind: str
    status: str
    origin: str
    percent: int
    support: int
    contradict: int
    trait: str | None

    @property
    def active(self) -> bool:
        return self.status == BeliefStatus.ACTIVE.value


def belief_row(belief: Belief) -> BeliefRow:
    return BeliefRow(
        id=belief.id,
        statement=belief.statement,
        kind=belief.kind.value,
        status=belief.status.value,
        origin=belief.origin.value,
        percent=round(belief.confidence * 100),
        support=belief.support_count,
        contradict=belief.contradict_count,
        trait=belief.frame.trait,
    )


def belief_rows(beliefs: Sequence[Belief]) -> list[BeliefRow]:
    """Current beliefs first, each group by confidence, then by statement."""
    ordered = sorted(
        beliefs, key=lambda b: (b.status is not BeliefStatus.ACTIVE, -b.confidence, b.statement)
    )
    return [belief_row(b) for b in ordered]


@dataclass(frozen=True)
class FacetRow:
    facet: str
    value: str
    percent: int
    since: Any
    replaced: list[str]
    belief_id: str


@dataclass(frozen=True)
class ProfileList:
    key: str
    title: str
    items: list[ProfileItem]


def facet_rows(profile: Profile) -> list[FacetRow]:
    """The single-valued facets: the current value, since when, and what it replaced."""
    return [
        FacetRow(
            facet=facet.value.replace("_", " "),
            value=current.value,
            percent=round(current.confidence * 100),
            since=current.since,
            replaced=[old.value for old in current.replaced],
            belief_id=current.belief_id,
        )
        for facet, current in sorted(profile.facets.items(), key=lambda f: f[0].value)
    ]


def profile_lists(profile: Profile) -> list[ProfileList]:
    lists = [ProfileList(key, title, list(getattr(profile, key))) for key, title in PROFILE_LISTS]
    return [entry for entry in lists if entry.items]


@dataclass(frozen=True)
class Suggestion:
    """A change worth replaying after a "why not?": the setting, its value, and why."""

    name: str
    value: str
    because: str


def suggestion(why: WhyNot) -> Suggestion | None:
    """What to try in a replay so the item gets in, when the verdict says what held it out."""
    d = why.details
    if why.verdict is Verdict.BUDGET:
        needed = int(d["budget_tokens"]) + int(d["line_tokens"]) + 1
        budget = -(-needed // BUDGET_STEP) * BUDGET_STEP
        return Suggestion("budget_tokens", str(budget), "room for its line in the budget")
    if why.verdict is Verdict.RANK_CUTOFF:
        rank = d.get("rank") or d.get("score_rank")
        if rank:
            return Suggestion("limit", str(rank), "take as many items as its rank")
    if why.verdict is Verdict.BELOW_POOL and d.get("overall_rank"):
        return Suggestion(
            "ranking.candidate_pool", str(d["overall_rank"]), "consider as many candidates"
        )
    if why.verdict is Verdict.DIVERSITY:
        return Suggestion("ranking.mmr_lambda", "1.0", "rank by relevance alone")
    return None


@dataclass(frozen=True)
class SignalPair:
    name: str
    mine: str
    cutoff: str


def signal_pairs(why: WhyNot) -> list[SignalPair]:
    """The item's signals beside those of the lowest item chosen (the cutoff), where scored."""
    mine = why.details.get("signals") or {}
    cutoff = why.details.get("signals_of_cutoff") or {}
    names = sorted(set(mine) | set(cutoff))
    return [
        SignalPair(n, number(mine.get(n), PRECISE), number(cutoff.get(n), PRECISE)) for n in names
    ]


# The details a verdict carries that the page shows in its own table, in this order.
DETAIL_ORDER = (
    "score",
    "cutoff_score",
    "cutoff_item",
    "overall_rank",
    "dense_rank",
    "keyword_rank",
    "score_rank",
    "rank",
    "indexed_items",
    "budget_tokens",
    "tokens_used",
    "line_tokens",
    "tokens_used_at_its_turn",
    "closest_chosen",
    "similarity",
    "held_by",
    "superseded_by",
    "valid_to",
    "last_evidence_at",
    "status",
    "experiments",
)


def detail_rows(why: WhyNot) -> list[tuple[str, str]]:
    """The verdict's figures (signals aside: ``signal_pairs``), known ones first."""
    d = {k: v for k, v in why.details.items() if k not in ("signals", "signals_of_cutoff")}
    keys = [k for k in DETAIL_ORDER if k in d] + sorted(set(d) - set(DETAIL_ORDER))
    return [(k, _detail(d[k])) for k in keys]


def _detail(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return number(value, PRECISE)


@dataclass(frozen=True)
class ChangeRow:
    """One item of a replay's diff, for the table."""

    change: str  # "gained", "lost", "moved", "rescored"
    id: str
    item_type: str
    text: str
    rank: tuple[str, str]
    score: tuple[str, str]
    tokens: tuple[str, str]
    signals: list[tuple[str, str, str]] = field(default_factory=list)


def change_rows(items: Sequence[ItemChange]) -> tuple[list[ChangeRow], int]:
    """The items a replay changed (gained, lost, moved or rescored), and how many stayed."""
    rows, same = [], 0
    for i in items:
        if i.change == "kept":
            if i.rank_before != i.rank_after:
                change = "moved"
            elif i.score_before != i.score_after or i.signals:
                change = "rescored"
            else:
                same += 1
                continue
        else:
            change = i.change
        rows.append(
            ChangeRow(
                change=change,
                id=i.id,
                item_type=i.item_type,
                text=i.text,
                rank=(number(i.rank_before), number(i.rank_after)),
                score=(number(i.score_before), number(i.score_after)),
                tokens=(number(i.tokens_before), number(i.tokens_after)),
                signals=[
                    (name, number(s.before), number(s.after)) for name, s in i.signals.items()
                ],
            )
        )
    return rows, same


__all__ = [
    "VERDICT_TITLES",
    "BeliefRow",
    "ChangeRow",
    "FacetRow",
    "ItemRow",
    "ProfileList",
    "SignalPair",
    "Suggestion",
    "belief_row",
    "belief_rows",
    "change_rows",
    "detail_rows",
    "facet_rows",
    "item_rows",
    "number",
    "profile_lists",
    "signal_pairs",
    "suggestion",
]
