"""Operations: Prometheus metrics at ``/metrics`` and JSON log lines.

Request latency is recorded by ``MetricsMiddleware`` in this process (with gunicorn's several
worker processes, in prometheus_client's multi-process mode: ``relaydesk serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder in the data directory). Everything that lives in
the database — job queue depth and age, SLA warnings and breaches, notices sent and failed —
is read at scrape time by ``DatabaseCollector``, so every process reports the same truth and
nothing is lost when a process restarts. Other capabilities add their own gauges (e.g.
detector scores) with ``register_collector``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("relaydesk.metrics")

REQUEST_SECONDS = Histogram(
    "relaydesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_extra: list[Callable[[], Iterable[Metric]]] = []


def register_collector(fn: Callable[[], Iterable[Metric]]) -> None:
    """Add a function that yields metric families at scrape time (e.g. detector scores)."""
    if fn not in _extra:
        _extra.append(fn)


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + str(match.route or match.view_name or "unknown").lstrip("^")[:120]


class MetricsMiddleware:
    """Observe each request's duration, labelled by URL pattern (not by the raw path, so the
    number of series stays bounded)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        try:
            REQUEST_SECONDS.labels(
                _route(request), request.method or "GET", f"{response.status_code // 100}xx"
            ).observe(time.perf_counter() - start)
        except Exception:  # metrics must never break a request
            log.exception("could not record request metrics")
        return response


class DatabaseCollector(Collector):
    """Facts read from the database at scrape time."""

    def collect(self) -> Iterator[Metric]:
        from django.db.models import Count, Min
        from django.tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        from relaydesk.notify.models import OutboundEmail
        from relaydesk.sla.models import ClockEvent

        now = datetime.now(UTC)
        ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY).aggregate(
            n=Count("id"), oldest=Min("enqueued_at")
        )
        depth = GaugeMetricFamily("relaydesk_job_queue_depth", "Background jobs waiting to run.")
        depth.add_metric([], ready["n"] or 0)
        yield depth
        age = GaugeMetricFamily(
            "relaydesk_job_queue_oldest_age_seconds", "Age of the oldest job waiting to run (0 if none)."
        )
        oldest = ready["oldest"]
        age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        yield age

        sla = CounterMetricFamily(
            "relaydesk_sla_events", "SLA clock warnings and breaches recorded, by clock.", labels=["kind", "metric"]
        )
        rows = (
            ClockEvent.objects.filter(kind__in=["warning", "breached"])
            .values_list("kind", "metric")
            .annotate(n=Count("id"))
            .order_by()
        )
        for kind, metric, n in rows:
            sla.add_metric([kind, metric], n)
        yield sla

        mail = GaugeMetricFamily(
            "relaydesk_outbox_messages", "Outbound notices by delivery state.", labels=["channel", "state"]
        )
        for state, n in OutboundEmail.objects.values_list("status").annotate(n=Count("id")).order_by():
            mail.add_metric(["email", state], n)
        # Incident notices by webhook (their e-mail notices become OutboundEmail rows, above).
        from relaydesk.incidents.models import Notice

        webhooks = (
            Notice.objects.filter(channel=Notice.WEBHOOK).values_list("status").annotate(n=Count("id")).order_by()
        )
        for state, n in webhooks:
            mail.add_metric(["webhook", state], n)
        yield mail

        for fn in list(_extra):
            try:
                yield from fn()
            except Exception:
                log.exception("metrics collector %s failed", getattr(fn, "__name__", fn))


def _allowed(request: HttpRequest) -> bool:
    token = getattr(settings, "RELAYDESK_METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    if token and header == f"Bearer {token}":
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "is_admin_role", False):
        return True
    # Without a configured token, a scraper on the same machine may read it.
    return not token and request.META.get("REMOTE_ADDR", "") in ("127.0.0.1", "::1")


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse(
            "metrics: send 'Authorization: Bearer <RELAYDESK_METRICS_TOKEN>', log in as an admin, "
            "or scrape from this machine\n",
            status=403,
            content_type="text/plain",
        )
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and any extras."""

    _STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in self._STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)
