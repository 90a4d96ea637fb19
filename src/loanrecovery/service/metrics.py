"""Prometheus metrics of one server process: requests, latencies, events ingested, and queue
depths read from the database at scrape time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics", "MeasureRequests", "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Depths(Collector):
    def __init__(self, read: Callable[[], dict[str, float]]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "loanrecovery_queue_depth", "Items waiting, by queue", labels=["queue"]
        )
        for name, value in self.read().items():
            family.add_metric([name], value)
        yield family


class Metrics:
    """The metrics of one app, in a registry of its own.

    Parameters
    ----------
    depths : callable
        Returns the current queue depths by name (open cases, unassigned cases, suspense,
        undelivered outbox messages).
    """

    def __init__(self, depths: Callable[[], dict[str, float]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "loanrecovery_http_requests",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "loanrecovery_http_request_seconds",
            "HTTP request latency by route",
            ["route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
            registry=self.registry,
        )
        self.events = Counter(
            "loanrecovery_payment_events",
            "Payment events ingested, by outcome",
            ["status"],
            registry=self.registry,
        )
        self.shared_transactions = Histogram(
            "loanrecovery_payment_events_per_transaction",
            "Single payment events applied per transaction (requests arriving together share one)",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
            registry=self.registry,
        )
        self.registry.register(_Depths(depths))

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)


class MeasureRequests:
    """ASGI middleware: counts each HTTP request by route, method and status, observes its
    latency, and sends it back in a ``Server-Timing`` header.

    A plain ASGI wrapper rather than ``@app.middleware("http")`` (Starlette's
    ``BaseHTTPMiddleware``), which runs each request through extra tasks and streams: a
    measurable share of a small request's CPU.
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
                took = (time.perf_counter() - start) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={took:.1f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route, scope["method"], str(status[0])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)
