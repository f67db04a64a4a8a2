"""A workspace with everything the audit reads, built through the real pipeline, and one drift.

Everything is placed in time before ``built.now`` (a recent moment, so traces recorded by the wall
clock fall in the window too):

- maya's demo conversation ingested (``src/selfmodel/data/demo_conversation.jsonl``);
- eight people who each say four things of their own (a pastime, a home, a job, a pet: no two
  alike, so each block is specific) 20 days before, and the same again 3 days before — their
  models grow in both drift windows and change in neither;
- an "asker" who asks 40 cooking questions in days 29–8 before and 40 travel and finance
  questions in the last week: **the injected drift** (the drift bench's own query streams);
- the same two questions asked about each of the nine people two days before;
- the docs' golden set run for real and recorded as eight nightly runs of one steady score;
- outcomes naming their traces (thumbs up, two thumbs down, a correction, ratings) for about
  half of the calls; an experiment running with two users exposed;
- eleven verdicts in the Mirror, one of them "not me"; one message through the queue, run by
  a worker; a retention policy applied by a worker; the worker's drift check at ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib import resources

from selfmodel import SelfModel
from selfmodel.bench.drift import COOKING, TRAVEL_FINANCE
from selfmodel.domain import BeliefStatus
from selfmodel.domain.time import utcnow
from selfmodel.evaluation import EvalConfiguration, EvalRuns, golden_suite, run_suite
from selfmodel.ingest.files import read_conversation_file
from selfmodel.worker import Worker
from tests.support.evaluation import GOLDEN_EXAMPLE

PASTIMES = [
    "running",
    "swimming",
    "painting",
    "chess",
    "gardening",
    "climbing",
    "baking",
    "sailing",
]
HOMES = ["Leeds", "Lyon", "Porto", "Dublin", "Oslo", "Krakow", "Tallinn", "Seville"]
JOBS = [
    "a nurse",
    "a carpenter",
    "a lawyer",
    "a pilot",
    "a baker",
    "a teacher",
    "a welder",
    "a vet",
]
PETS = [
    ("dog", "Rex"),
    ("cat", "Miso"),
    ("parrot", "Kiwi"),
    ("dog", "Bruno"),
    ("cat", "Luna"),
    ("rabbit", "Pip"),
    ("dog", "Odin"),
    ("cat", "Tofu"),
]
PEOPLE = [f"person-{i}" for i in range(len(PASTIMES))]
ABOUT_EVERYONE = ["What does this person enjoy doing?", "Where does this person live?"]
QUERIES_PER_WINDOW = 40
NIGHTLY_RUNS = 8


@dataclass(frozen=True)
class Built:
    now: datetime
    drift_queries: tuple[str, ...]  # the asker's traced questions of the current window
    eval_runs: tuple[str, ...]
    experiment: str
    rejected: str  # the belief a person said "not me" to


def _facts(i: int) -> list[str]:
    kind, name = PETS[i]
    return [
        f"I love {PASTIMES[i]}.",
        f"I live in {HOMES[i]}.",
        f"I work as {JOBS[i]}.",
        f"I have a {kind} named {name}.",
    ]


def build(sm: SelfModel) -> Built:
    """Populate ``sm``'s workspace (it should be empty)."""
    now = utcnow().replace(second=0, microsecond=0)

    def said(user: str, texts: list[str], days_ago: float) -> None:
        when = (now - timedelta(days=days_ago)).isoformat()
        sm.observe(user, [{"content": t, "occurred_at": when} for t in texts])

    source = resources.files("selfmodel") / "data" / "demo_conversation.jsonl"
    with resources.as_file(source) as path:
        sm.ingest(read_conversation_file(path))
    said("asker", ["I love cooking.", "I travel a lot for work.", "I live in Berlin."], 40)
    said("asker", ["I love cooking.", "I travel a lot for work.", "I live in Berlin."], 10)
    for i, person in enumerate(PEOPLE):
        said(person, _facts(i), 20)
        said(person, _facts(i), 3)

    traces: list[str] = []
    for queries, (first, last) in (
        (COOKING[:QUERIES_PER_WINDOW], (29.0, 8.0)),
        (TRAVEL_FINANCE[:QUERIES_PER_WINDOW], (6.5, 0.1)),
    ):
        for n, query in enumerate(queries):
            when = now - timedelta(days=first - (first - last) * n / (len(queries) - 1))
            traces.append(sm.context("asker", query, now=when).trace_id)
    personal = [
        sm.context(user, query, now=now - timedelta(days=2)).trace_id
        for user in ["maya", *PEOPLE]
        for query in ABOUT_EVERYONE
    ]

    # The docs' golden set, run for real, recorded as the last eight nights' runs.
    suite = golden_suite(GOLDEN_EXAMPLE)
    configuration = EvalConfiguration(settings=sm.settings)
    scored = run_suite(suite, configuration, sm._c.embedder)
    runs = [
        EvalRuns(sm.store)
        .record(
            sm.workspace,
            suite,
            configuration,
            replace(
                scored,
                started_at=now - timedelta(days=night, minutes=5),
                finished_at=now - timedelta(days=night),
            ),
        )
        .id
        for night in range(NIGHTLY_RUNS, 0, -1)
    ]

    # Outcomes naming their traces: every other asker call and every personal one.
    for n, trace_id in enumerate(traces[::2]):
        kind = "thumbs_down" if n in (3, 17) else "thumbs_up"
        sm.record_outcome("asker", kind, trace_id=trace_id)
    for n, (user, trace_id) in enumerate(
        zip([u for u in ["maya", *PEOPLE] for _ in ABOUT_EVERYONE], personal, strict=True)
    ):
        if n == 5:
            sm.record_outcome(user, "correction", trace_id=trace_id, label="wrong city")
        else:
            sm.record_outcome(user, "rating", trace_id=trace_id, value=4 + n % 2)

    # The Mirror: ten "this is me", one "not me".
    verdicts = [b for person in PEOPLE[:3] for b in sm.beliefs(person, status=BeliefStatus.ACTIVE)]
    for belief in verdicts[:10]:
        sm.confirm(belief.id)
    rejected = verdicts[10].id
    sm.reject(rejected)

    experiment = sm.create_experiment(
        "answer-length",
        [{"name": "control"}, {"name": "shorter", "config": {"budget_tokens": 200}}],
    )
    for person in PEOPLE[:2]:
        sm.assignment(person, experiment.name)

    sm.observe(PEOPLE[3], "I started learning the cello.", wait=False)
    worker = Worker(sm, clock=lambda: now)
    worker.run(until_idle=True)
    sm.set_retention_policy({"traces_max_age_days": 365})
    worker.run_retention()
    sm.check_drift(now=now)
    return Built(
        now=now,
        drift_queries=tuple(TRAVEL_FINANCE[:QUERIES_PER_WINDOW]),
        eval_runs=tuple(runs),
        experiment=experiment.id,
        rejected=rejected,
    )
