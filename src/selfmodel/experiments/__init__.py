"""Experiments on the context configuration: deterministic assignment, and the statistics that
judge them (effects with CUPED, an always-valid sequential test, sample ratio mismatch, sample
sizes). The engine (``selfmodel.engine.experiments``) stores them; docs/experiments.md has the
formulas and their sources."""
