"""``selfmodel audit``: where a deployment stands on the five problems, from its own telemetry.

The engine (``SelfModel.audit``) reads the store and the reports it already has (drift,
personalization, the joined report, replays) and hands them here; each module grades one part:

- ``thresholds.py``: every threshold's default and the reason for it (``AuditSettings`` reads them)
- ``grading.py``: how a figure becomes a status, and checks a section
- ``recorded.py``: what the store recorded, read once (``Recorded``)
- ``evaluation_drift.py``, ``context_decay.py``, ``debug_loops.py``, ``metric_alignment.py``,
  ``personalization_gaps.py``: one problem each
- ``readiness.py``: running persistent user understanding at scale
- ``report.py``: the report from its sections
- ``page.py``: the self-contained HTML page (inline SVG, readable on a phone)

The records are ``selfmodel.domain.audit``; docs/audit.md walks through a report.
"""
