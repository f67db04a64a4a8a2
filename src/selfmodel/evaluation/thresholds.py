"""The thresholds of evaluation and drift, each with the reason for its default.

Constants only, importing nothing, so that the settings (``selfmodel.config``,
``MonitoringSettings``) and the numerics share one value without importing each other. Every one
is a setting (``SELFMODEL_<NAME>``, docs/configuration.md); docs/evaluation.md tabulates the
reasons for operators.
"""

from __future__ import annotations

# -- drift of inputs and self-models (monitor.py, drift.py) ------------------------------------

# α of the drift tests (MMD permutation, chi-square). Drift checks run on a schedule (daily, per
# workspace, several statistics each), so at 0.05 a deployment where nothing changed would raise
# an alarm every few days; 0.01 keeps that to about one a quarter per statistic, and real shifts
# of a topic mix give p far below it (the permutation test's floor is 1/501).
DRIFT_ALPHA = 0.01
# Permutations of the MMD test. The p-value's Monte-Carlo standard error at p = α = 0.01 is
# sqrt(0.01 · 0.99 / 500) ≈ 0.0045, small enough to decide at α, and the smallest p it can give
# (1 / 501) is five times below α; more permutations cost time and change no decision.
DRIFT_PERMUTATIONS = 500
# PSI at and above which a categorical shift counts (with p < α), the credit-scoring convention
# (Siddiqi, "Credit Risk Scorecards", 2006): below 0.1 no meaningful shift, 0.1-0.25 moderate,
# 0.25 and above significant.
PSI_MODERATE = 0.1
PSI_SIGNIFICANT = 0.25
# The current window is the last week (a weekly cycle of use is the shortest that holds a
# weekend), the reference the three weeks before it: days 30 to 8 ago, long enough to be a
# stable baseline, recent enough to be the same product.
DRIFT_CURRENT_DAYS = 7.0
DRIFT_REFERENCE_DAYS = 23.0
# Longest window accepted (a bound, not a default): a hundred years is past any retention
# policy, and it keeps the arithmetic on datetimes from overflowing (an infinite window is a
# typo, not a request).
DRIFT_MAX_WINDOW_DAYS = 36_500
# Below this many queries in a window the MMD test is not run: with fewer, only a very large
# shift can reach α = 0.01, and the report says "not enough data" rather than "no drift".
DRIFT_MIN_QUERIES = 10

# -- quality drift: eval scores over runs (changepoint.py) -------------------------------------

# α of the change-point test on a suite's mean recall over its runs. Runs are few (one a deploy,
# or a night) and a person reads the alert, so the comparison's level is used, not drift's 0.01:
# with the exact permutation null, 10 runs split 5 | 5 can reach p = 2/252 ≈ 0.008 at best, and
# at 0.01 a series would need that perfect split to ever alarm.
QUALITY_ALPHA = 0.05
# Fewest runs of one suite and data tested for a change point: with n runs the smallest
# two-sided permutation p of the best split is 2 / C(n, n/2), which is 0.1 for 6 runs, 0.057 for
# 7 and 0.029 for 8 — below 8 no series can reach α = 0.05, so none is tested.
QUALITY_MIN_RUNS = 8
# Permutations of the change-point test: its standard error at p = 0.05 is
# sqrt(0.05 · 0.95 / 2000) ≈ 0.005, and a series of a few dozen runs costs milliseconds.
QUALITY_PERMUTATIONS = 2_000

# -- regressions (compare.py) -----------------------------------------------------------------

# A false alarm in one comparison of twenty when nothing changed. Stricter levels cannot be
# reached by small suites at all: with n items that moved, the smallest two-sided Wilcoxon p is
# 2 / 2^n, so α = 0.01 needs 8 moved items, α = 0.05 needs 6.
COMPARE_ALPHA = 0.05

# -- scheduling and delivery (worker.py, alerts.py) --------------------------------------------

# Windows count in days, so a daily check sees each day's new data; checking more often tests
# nearly the same windows again (an alert already open is only marked as seen again).
DRIFT_CHECK_INTERVAL_S = 86_400.0
# A webhook receiver that does not answer in 5 s is down or overloaded; waiting longer holds a
# worker thread that has jobs to run.
WEBHOOK_TIMEOUT_S = 5.0
# Tries of one delivery: the first and two retries, 1 s then 2 s apart — enough to ride out a
# receiver restarting, short enough that a worker is never held for long. A delivery that still
# fails is recorded on the alert (and the alert stays listed), never raised.
WEBHOOK_ATTEMPTS = 3
WEBHOOK_BACKOFF_S = 1.0
