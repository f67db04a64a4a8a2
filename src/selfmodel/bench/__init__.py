"""Benchmarks: LoCoMo retrieval quality, context latency at scale, and shared reporting helpers.

Each benchmark is a plain function returning JSON-ready data; ``selfmodel bench …``
(``cli/bench.py``) runs it with a progress bar, prints a table and optionally writes the JSON.
"""
