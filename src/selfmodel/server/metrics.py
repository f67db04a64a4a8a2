"""Prometheus metrics of one app, in its own registry (so several apps can live in one process)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from selfmodel.domain.jobs import JobRun, RunOutcome

# Buckets from 5 ms to 30 s: context calls sit around tens of ms, observe with LLM extraction
# can take seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServerMetrics:
    """Request latency, queue depth and extraction throughput."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "selfmodel_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status.",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "selfmodel_queue_depth",
            "Background jobs not finished yet (queued plus running).",
            registry=self.registry,
        )
        self.observations = Counter(
            "selfmodel_observations_ingested_total",
            "Observations stored through the API.",
            registry=self.registry,
        )
        self.extracted = Counter(
            "selfmodel_observations_extracted_total",
            "Observations whose extraction and revision finished (inline or by the in-process "
            "worker).",
            registry=self.registry,
        )
        self.beliefs_created = Counter(
            "selfmodel_beliefs_created_total",
            "Beliefs created by extraction through the API.",
            registry=self.registry,
        )
        self.key_usage_failures = Counter(
            "selfmodel_key_usage_flush_failures_total",
            "Times the keys' last use could not be written (kept in memory for the next try).",
            registry=self.registry,
        )

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Read the queue depth from the store at every scrape."""
        self.queue_depth.set_function(lambda: float(depth()))

    def count_job(self, run: JobRun) -> None:
        """Count the observations of a background job that finished."""
        if run.outcome == RunOutcome.DONE:
            self.extracted.inc(run.observations)

    def render(self) -> bytes:
        return generate_latest(self.registry)


__all__ = ["LATENCY_BUCKETS", "ServerMetrics"]
