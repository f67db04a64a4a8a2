"""The thresholds of ``selfmodel audit``, each with the reason for its default.

Constants only, importing nothing, so that the settings (``selfmodel.config``, ``AuditSettings``)
and the checks share one value without importing each other. Every one is a setting
(``SELFMODEL_AUDIT_<NAME>``, docs/configuration.md); docs/audit.md tabulates the reasons for
operators. A check is *at risk* past its first threshold and *failing* past its second.
"""

from __future__ import annotations

# Checks graded against a pair of settings, ``audit_<stem>`` (at risk) and ``audit_<stem>_failing``
# (a unit suffix stays last: ``audit_context_p95_ms``, ``audit_context_p95_failing_ms``). Higher
# is better for the first group (a share that should be large), lower for the second.
FLOORS = (
    "eval_coverage",
    "traced_answers",
    "replay_reproduced",
    "outcome_coverage",
    "specificity",
    "distinctiveness",
    "coverage",
)
CEILINGS = (
    "context_p95_ms",
    "recall_fall",
    "stale_share",
    "full_blocks",
    "unexplained",
    "corrections",
    "backlog_age_s",
)

# -- the window ------------------------------------------------------------------------------

# A month: the span the drift check compares (7 + 23 days), so the audit reads the same traffic
# the worker's alerts came from, and the unit storage growth is told in.
DAYS = 30.0
# Longest window accepted (a bound, not a default): a year is the joined report's own limit.
MAX_DAYS = 366.0

# -- evaluation drift ------------------------------------------------------------------------

# An eval run older than a week misses at least one deploy of most teams, and the drift
# check's current window is a week too; no run at all in the audit's window is failing.
EVAL_MAX_AGE_DAYS = 7.0
# Share of context calls whose configuration (ranking and budget) an eval run of the window
# scored. Below 80 % more than an experiment's usual treatment arm runs unevaluated; below half,
# most answers come from a configuration no eval has seen.
EVAL_COVERAGE = 0.8
EVAL_COVERAGE_FAILING = 0.5

# -- context decay ---------------------------------------------------------------------------

# p95 of a context call. It sits on the answer's critical path before the model's first token
# (typically 0.3–1 s): past half a second the memory lookup is what the person waits for, past
# two seconds it doubles the wait. The benchmark's p95 on 2 cores is ~30 ms (docs/benchmarks.md).
CONTEXT_P95_MS = 500.0
CONTEXT_P95_FAILING_MS = 2_000.0
# Fall of eval recall from the shortest history to the longest (absolute). 0.1 is the size of
# the gap between retrieval strategies on LoCoMo (docs/benchmarks.md); 0.2 means long-time
# users get a clearly worse product than new ones.
RECALL_FALL = 0.1
RECALL_FALL_FAILING = 0.2
# Share of served beliefs that no longer held when served (superseded, rejected or decayed
# before the call, as the store knows now). One in a hundred is noticed by the people who told
# the product otherwise; one in twenty makes it look as if it does not listen.
STALE_SHARE = 0.01
STALE_SHARE_FAILING = 0.05
# Share of blocks left with no room for another of their lines. When most blocks are full the
# budget, not relevance, decides what the model sees; when nearly all are, items are being cut
# for nearly every answer.
FULL_BLOCKS = 0.5
FULL_BLOCKS_FAILING = 0.9

# -- debug loops -----------------------------------------------------------------------------

# Share of answers judged by an outcome that name their trace. An answer without its trace
# cannot be replayed or explained; a tenth unlinked is what a product that forgets the id on
# one surface looks like, half is a product that does not pass it at all.
TRACED_ANSWERS = 0.9
TRACED_ANSWERS_FAILING = 0.5
# Traces replayed per audit (a seeded sample of the window's): a replay rebuilds the index as it
# was, tens of milliseconds each, and 20 finds a one-in-ten failure with probability 0.88.
REPLAY_SAMPLE = 20
# Share of replays that reproduce their trace. Replays are deterministic by construction
# (docs/debugging.md): one that differs is a bug or a lost input, at risk; below 90 % the
# debugging tools cannot be trusted.
REPLAY_REPRODUCED = 1.0
REPLAY_REPRODUCED_FAILING = 0.9
# Share of chosen items whose lineage is gone (a belief with no evidence left and not written by
# the person). "Why do you think that?" must always have an answer.
UNEXPLAINED = 0.01
UNEXPLAINED_FAILING = 0.05
# A rating at or below this (on the 1–5 scale) is a bad outcome, with thumbs down and
# corrections: two stars and fewer are the ratings review tools count as negative.
BAD_RATING = 2.0

# -- metric misalignment ---------------------------------------------------------------------

# Share of context calls that an outcome names. Below a fifth, a day of a small product has too
# few outcomes per variant for its mean to move; below one in twenty, outcomes cannot be tied
# to engineering metrics at all.
OUTCOME_COVERAGE = 0.2
OUTCOME_COVERAGE_FAILING = 0.05
# Significance of a correlation between an engineering metric and an outcome across days (the
# joined report's Pearson r): the comparison level of `eval compare`.
CORRELATION_ALPHA = 0.05

# -- personalization gaps --------------------------------------------------------------------

# Mean specificity of personalized blocks (share of tokens only this person's model could
# supply). Below 0.3 most of a block could have been handed to anyone; below 0.1 "personalized"
# is generic.
SPECIFICITY = 0.3
SPECIFICITY_FAILING = 0.1
# Mean distinctiveness of blocks for a query asked for several people (1 − cosine of their
# mean item embeddings). MiniLM puts texts on one topic at cosine 0.4–0.7, so below 0.3 the
# blocks say nearly the same about everyone; below 0.1 they are the same.
DISTINCTIVENESS = 0.3
DISTINCTIVENESS_FAILING = 0.1
# Share of the users served whose model holds enough confident beliefs (the personalization
# report's coverage: 3 beliefs at confidence ≥ 0.5). A fifth left out is a segment the product
# treats as strangers; half is most of them.
COVERAGE = 0.8
COVERAGE_FAILING = 0.5
# Share of the person's verdicts in the Mirror that say "not me" (rejected or rewritten). One in
# ten is what a model inferring from conversation gets wrong at best; one in four means people
# would not recognise themselves.
CORRECTIONS = 0.1
CORRECTIONS_FAILING = 0.25

# -- readiness -------------------------------------------------------------------------------

# The longest history of one user the scale benchmark measures (docs/benchmarks.md, 10 000
# observations per user): beyond it, latency and memory are not measured.
MAX_USER_OBSERVATIONS = 10_000
# Age of the oldest unfinished job. Inline observing understands a message in well under a
# second; five minutes waiting means workers are down or outpaced, an hour means people's
# messages from an hour ago are not yet part of their model.
BACKLOG_AGE_S = 300.0
BACKLOG_AGE_FAILING_S = 3_600.0
# How far ahead storage is projected: a year is how far ahead capacity is usually planned.
HORIZON_MONTHS = 12.0
# Size past which a SQLite deployment should move: the online backup copies the whole file
# page by page and VACUUM rewrites it, both minutes past ~20 GB on ordinary disks, while one
# machine's disk holds the only copy.
SQLITE_MAX_GB = 20.0
# Observations written per second (peak minute) past which one SQLite writer is the limit: a
# quarter of the measured observe(wait=false) rate of 2,285/s on 2 cores (docs/deployment.md),
# leaving the single write lock to the workers' revisions, which take far longer per message.
SQLITE_WRITES_PER_S = 500.0
