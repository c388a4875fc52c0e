"""Prometheus metrics of one app: requests, latency, abstentions, red flags by criterion, errors."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from ..answer import Answer


class Metrics:
    """Prometheus metrics of one app (its own registry, so several apps in one process do not collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("hip_requests", "HTTP API requests", ["endpoint", "status"], registry=self.registry)
        self.latency = Histogram(
            "hip_request_seconds",
            "Time to the whole answer",
            ["endpoint"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.abstentions = Counter(
            "hip_abstentions", "Answers that said the article does not cover it", registry=self.registry
        )
        self.red_flags = Counter(
            "hip_red_flags", "Red flags detected, by criterion", ["criterion"], registry=self.registry
        )
        self.errors = Counter(
            "hip_errors", "Requests that failed, by kind", ["endpoint", "kind"], registry=self.registry
        )

    def answered(self, endpoint: str, answer: Answer, seconds: float) -> None:
        self.latency.labels(endpoint).observe(seconds)
        if answer.abstained:
            self.abstentions.inc()
        for criterion in answer.red_flags:
            self.red_flags.labels(criterion).inc()
