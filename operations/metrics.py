"""Prometheus metrics. What the database knows (messages, quarantine, polls, replies) and the
Celery queues' lengths are read when Prometheus scrapes, so every web process answers the
same whatever process did the work; request latency is observed in each web process (with
``PROMETHEUS_MULTIPROC_DIR`` set, summed over gunicorn's processes)."""

import os
import time
from collections.abc import Callable, Iterator

import redis
from django.conf import settings
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from cases.models import Message
from channels.models import ChannelAccount
from intake.models import QuarantinedPayload

REQUEST_SECONDS = Histogram(
    "careinbox_request_seconds",
    "Time to answer a request, by view and status class",
    ["view", "status"],
)
CELERY_QUEUES = ("celery", "linking")


def _by(rows: QuerySet, field: str) -> list[tuple[str, int]]:
    """How many rows have each value of ``field``."""
    counted = rows.values_list(field).annotate(n=Count("pk")).order_by(field)
    return [(str(value), n) for value, n in counted]


class DatabaseCollector:
    """The figures the database holds, read at each scrape."""

    def collect(self) -> Iterator[Metric]:
        messages = Message.objects
        families = [
            (
                CounterMetricFamily,
                "careinbox_messages_ingested",
                "Customer messages stored, by channel",
                "channel",
                _by(messages.filter(direction=Message.Direction.INBOUND), "channel"),
            ),
            (
                GaugeMetricFamily,
                "careinbox_quarantined_payloads",
                "Payloads kept in quarantine, by status",
                "status",
                _by(QuarantinedPayload.objects.all(), "status"),
            ),
            (
                GaugeMetricFamily,
                "careinbox_replies",
                "Agents' replies, by delivery status",
                "status",
                _by(messages.filter(direction=Message.Direction.OUTBOUND), "delivery_status"),
            ),
        ]
        for family, name, documentation, label, counts in families:
            metric = family(name, documentation, labels=[label])
            for value, n in counts:
                metric.add_metric([value], n)
            yield metric
        yield from _polls()
        if settings.REDIS_URL:
            yield from _queues()


def _polls() -> Iterator[Metric]:
    labels = ["platform", "account"]
    failures = GaugeMetricFamily(
        "careinbox_poll_failures", "Polls failed in a row, by account", labels=labels
    )
    lag = GaugeMetricFamily(
        "careinbox_poll_lag_seconds", "Seconds since the last successful poll", labels=labels
    )
    now = timezone.now()
    for account in ChannelAccount.objects.filter(enabled=True):
        key = [account.platform, account.name]
        failures.add_metric(key, account.poll_failures)
        if account.last_success_at is not None:
            lag.add_metric(key, (now - account.last_success_at).total_seconds())
    yield failures
    yield lag


def _queues() -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        "careinbox_celery_queue_length", "Tasks waiting in each Celery queue", labels=["queue"]
    )
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL, **settings.REDIS_CACHE_OPTIONS)
    try:
        for queue in CELERY_QUEUES:
            depth.add_metric([queue], broker.llen(queue))
    except redis.RedisError:
        return  # /readyz says Redis is down; the metric is absent meanwhile
    yield depth


def exposition() -> bytes:
    """The text Prometheus scrapes: the database's figures, then this process's (or, in
    multiprocess mode, every web process's) request latencies."""
    figures = CollectorRegistry(auto_describe=True)
    figures.register(DatabaseCollector())
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
        return generate_latest(figures) + generate_latest(processes)
    return generate_latest(figures) + generate_latest(REGISTRY)


class RequestLatencyMiddleware:
    """Observes each request's time under its view's name (not its URL, which holds ids)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unmatched"
        elapsed = time.perf_counter() - started
        REQUEST_SECONDS.labels(view=view, status=f"{response.status_code // 100}xx").observe(
            elapsed
        )
        return response
