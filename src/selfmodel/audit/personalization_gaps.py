"""Personalization gaps: is "personalized" actually about the person?

From the personalization report over the window (docs/experiments.md defines the metrics):

- **specificity** of the personalized blocks (an experiment's control with personalization off is
  left out: it is generic on purpose);
- **distinctiveness** of the blocks of one query asked for several people;
- **coverage**: the share of the people served whose model holds enough confident beliefs, and
  those it knows too little about;
- **corrections**: from the belief history, how often people's verdicts in the Mirror (or through
  the API on their behalf) say "not me": rejections and rewrites among all their verdicts.
"""

from __future__ import annotations

from collections import Counter

from selfmodel.audit.grading import against, measured, not_measured, plural, section, share
from selfmodel.audit.recorded import Recorded
from selfmodel.config import AuditSettings
from selfmodel.domain import BeliefEventType
from selfmodel.domain.audit import Check, Figure, Plot, Reference, Section, Series
from selfmodel.domain.personalization import (
    DEFAULT_MIN_BELIEFS,
    DEFAULT_MIN_CONFIDENCE,
    PersonalizationReport,
    VariantPersonalization,
)

KEY = "personalization_gaps"
MEASURE_COMMAND = "selfmodel eval personalization"
# A person's verdicts on their model: "not me" (rejected, rewritten) and the rest.
NOT_ME = frozenset({BeliefEventType.REJECTED, BeliefEventType.EDITED})
VERDICTS = NOT_ME | {
    BeliefEventType.CONFIRMED,
    BeliefEventType.SUPERSEDED,
    BeliefEventType.REINFORCED,
}
REFERENCES_SHOWN = 5


def personalization_gaps(
    recorded: Recorded, report: PersonalizationReport, settings: AuditSettings
) -> Section:
    """The personalization gaps section."""
    personal = [v for v in report.variants if _personalized(v.variant, recorded)]
    return section(
        KEY,
        "Personalization gaps",
        "Is what the product calls personalized actually about the person?",
        [
            _specificity(personal, settings),
            _distinctiveness(personal, settings),
            _coverage(report, settings),
            _corrections(recorded, settings),
        ],
    )


def _personalized(variant: str, recorded: Recorded) -> bool:
    """False for a variant with personalization off in any of its experiments."""
    configs = {
        (x.name, v.name): v.config.personalized for x in recorded.experiments for v in x.variants
    }
    for part in variant.split(", "):
        name, _, arm = part.partition(":")
        if configs.get((name, arm)) is False:
            return False
    return True


def _specificity(personal: list[VariantPersonalization], settings: AuditSettings) -> Check:
    traces = sum(v.traces for v in personal)
    if not traces:
        return not_measured(
            "specificity",
            "Specificity of personalized blocks",
            "No personalized context block about one user was traced in the window.",
            MEASURE_COMMAND,
        )
    value = sum(v.specificity * v.traces for v in personal) / traces
    empty = sum(v.empty_blocks for v in personal)
    status, thresholds = against(settings, "specificity", value)
    return measured(
        key="specificity",
        title="Specificity of personalized blocks",
        status=status,
        finding=f"On average {share(value)} of a personalized block's tokens could only have come "
        f"from that person's model ({plural(traces, 'block')}, {empty} empty).",
        figures=[
            Figure(name="specificity", value=value, unit="share"),
            Figure(name="blocks", value=traces),
            Figure(name="empty blocks", value=empty),
        ],
        thresholds=thresholds,
        plots=[
            Plot(
                title="Specificity per experiment variant (- : no experiment)",
                kind="bars",
                x_label="variant",
                y_label="specificity",
                x=[v.variant for v in personal],
                series=[Series(name="specificity", values=[v.specificity for v in personal])],
            )
        ],
        action="Learn more about each person before answering (ask in the product, or push Mirror "
        "cards) and check that blocks lead with the profile (docs/retrieval.md).",
    )


def _distinctiveness(personal: list[VariantPersonalization], settings: AuditSettings) -> Check:
    compared = [v for v in personal if v.distinctiveness is not None and v.queries_compared]
    queries = sum(v.queries_compared for v in compared)
    if not queries:
        return not_measured(
            "distinctiveness",
            "Distinctiveness across people",
            "No query was asked for two people or more in the window.",
            MEASURE_COMMAND,
        )
    value = sum((v.distinctiveness or 0.0) * v.queries_compared for v in compared) / queries
    status, thresholds = against(settings, "distinctiveness", value)
    return measured(
        key="distinctiveness",
        title="Distinctiveness across people",
        status=status,
        finding=f"Blocks for the same query differed between people by {value:.2f} on average "
        f"(1 − cosine; {plural(queries, 'query', 'queries')} asked for several people).",
        figures=[
            Figure(name="distinctiveness", value=value),
            Figure(name="queries compared", value=queries),
        ],
        thresholds=thresholds,
        action="Blocks say nearly the same about everyone: raise the weight of the person's own "
        "beliefs over generic moments and test it as an experiment.",
    )


def _coverage(report: PersonalizationReport, settings: AuditSettings) -> Check:
    c = report.coverage
    if not c.active_users or c.share is None:
        return not_measured(
            "coverage",
            "People the model knows enough about",
            "No one was served a context block in the window.",
            MEASURE_COMMAND,
        )
    status, thresholds = against(settings, "coverage", c.share)
    return measured(
        key="coverage",
        title="People the model knows enough about",
        status=status,
        finding=f"{c.covered} of the {c.active_users} people served ({share(c.share)}) have at "
        f"least {DEFAULT_MIN_BELIEFS} beliefs at confidence ≥ {DEFAULT_MIN_CONFIDENCE:g}; "
        f"{c.active_users - c.covered} have fewer.",
        figures=[
            Figure(name="people covered", value=c.share, unit="share"),
            Figure(name="people served", value=c.active_users),
            Figure(name="people below", value=c.active_users - c.covered),
        ],
        thresholds=thresholds,
        references=[
            Reference(kind="user", id=u.user, note=f"{u.confident_beliefs} confident beliefs")
            for u in c.below[:REFERENCES_SHOWN]
        ],
        action="Ask the people the model knows least about a few questions (Mirror cards: "
        "`push_cards`) before personalizing for them.",
    )


def _corrections(recorded: Recorded, settings: AuditSettings) -> Check:
    verdicts = [
        e
        for e in recorded.events
        if e.cause == "user" and e.type in VERDICTS and recorded.within(e.at)
    ]
    if not verdicts:
        return not_measured(
            "corrections",
            'People saying "not me"',
            "No one gave a verdict on their model in the window (in the Mirror or through the "
            "API): mint people a Mirror link and send it to them.",
            "POST /v1/users/{user}/mirror-link",
        )
    not_me = [e for e in verdicts if e.type in NOT_ME]
    value = len(not_me) / len(verdicts)
    status, thresholds = against(settings, "corrections", value)
    by_user = Counter(e.user_id for e in not_me)
    people = len({e.user_id for e in verdicts})
    return measured(
        key="corrections",
        title='People saying "not me"',
        status=status,
        finding=f"{len(not_me)} of {len(verdicts)} verdicts people gave on their model "
        f'({share(value)}) said "not me" (rejected or rewritten), from '
        f"{plural(people, 'person', 'people')}.",
        figures=[
            Figure(name="not me", value=value, unit="share"),
            Figure(name="verdicts", value=len(verdicts)),
            Figure(name="people", value=people),
        ],
        thresholds=thresholds,
        references=[
            Reference(
                kind="user",
                id=recorded.users[user_id].external_id if user_id in recorded.users else user_id,
                note=f'{n} times "not me"',
            )
            for user_id, n in by_user.most_common(REFERENCES_SHOWN)
        ],
        plots=[
            Plot(
                title="Verdicts people gave on their model",
                kind="bars",
                x_label="verdict",
                y_label="verdicts",
                x=[t.value for t in sorted(VERDICTS)],
                series=[
                    Series(
                        name="verdicts",
                        values=[
                            float(sum(1 for e in verdicts if e.type is t)) for t in sorted(VERDICTS)
                        ],
                    )
                ],
            )
        ],
        action="Read what people rejected (`selfmodel show USER --all`) and find the extraction "
        "that produced it (`selfmodel history BELIEF`).",
    )


__all__ = ["KEY", "personalization_gaps"]
