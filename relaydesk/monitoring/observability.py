"""``/metrics`` gauges from the detection sweep: the latest scored minute of every series.

Read from :class:`relaydesk.monitoring.detect.DetectorScore` at scrape time, so every web
process reports what the last sweep (in whichever worker) found. Series whose latest score is
older than ``STALE_S`` are left out (their telemetry stopped; a stale 0 would read as "fine").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric

STALE_S = 30 * 60


def detector_scores(now: datetime | None = None) -> Iterator[Metric]:
    """Yield ``relaydesk_detector_score{service,region,location,metric}`` in [0, 1]
    (0.5 = worse than usual by the tolerance) and the age of the newest scored minute."""
    from .detect import DetectorScore

    when = now or datetime.now(UTC)
    gauge = GaugeMetricFamily(
        "relaydesk_detector_score",
        "Anomaly score of the latest scored minute per series (0 usual, 0.5 worse than usual "
        "by the tolerance, 1 twice that or more).",
        labels=["service", "region", "location", "metric"],
    )
    newest: datetime | None = None
    rows = DetectorScore.objects.filter(minute__gte=when - timedelta(seconds=STALE_S)).order_by(
        "service", "region", "location", "metric"
    )
    for service, region, location, metric, score, minute in rows.values_list(
        "service", "region", "location", "metric", "score", "minute"
    ):
        gauge.add_metric([service, region, location, metric], float(score))
        newest = minute if newest is None or minute > newest else newest
    yield gauge
    lag = GaugeMetricFamily(
        "relaydesk_detector_lag_seconds",
        "Seconds between now and the start of the newest minute the detector scored "
        "(absent when nothing was scored in the last 30 minutes).",
    )
    if newest is not None:
        lag.add_metric([], (when - newest).total_seconds())
    yield lag
