"""Anomaly detection on network telemetry: pure NumPy/SciPy, no Django import.

Public API (what ``relaydesk.monitoring`` and ``relaydesk.incidents`` call):

* ``metrics``: ``METRICS``, ``MetricSpec``, ``get_metric``, ``validate_sample``;
* per series: ``SeriesDetector(metric, params, tz).update(ts, value, weight)`` and
  ``score_series(timestamps, values, weights=None, metric="rtt_ms", tz=...)``
  (``score_series_detailed`` adds instantaneous scores, status codes and the baseline);
* across series: ``corroborate(scores, traffic)`` and
  ``group_incidents(timestamps, keys, scores, traffic)`` -> ``IncidentCandidate`` list;
  ``detect_incidents(timestamps, {key: (values, weights)}, traffic=, tz_by_region=)`` does
  both steps;
* ``generator.generate(...)``: synthetic telemetry with labelled incidents.
"""

from relaydesk.detection.detector import (
    DEFAULT_PARAMS,
    NO_DATA,
    NOT_SCORED,
    OK,
    SKIPPED,
    WARMING_UP,
    DetectorParams,
    SeriesDetector,
    SeriesScores,
    describe_status,
    score_series,
    score_series_detailed,
)
from relaydesk.detection.incidents import (
    COMPONENT_STATUS,
    DEFAULT_GROUPING,
    Evidence,
    GroupingParams,
    IncidentCandidate,
    SeriesKey,
    corroborate,
    detect_incidents,
    group_incidents,
    severity_from_impact,
)
from relaydesk.detection.metrics import (
    METRIC_NAMES,
    METRICS,
    QUALITY_METRICS,
    MetricSpec,
    get_metric,
    validate_sample,
)

__all__ = [
    "COMPONENT_STATUS",
    "DEFAULT_GROUPING",
    "DEFAULT_PARAMS",
    "METRICS",
    "METRIC_NAMES",
    "NOT_SCORED",
    "NO_DATA",
    "OK",
    "QUALITY_METRICS",
    "SKIPPED",
    "WARMING_UP",
    "DetectorParams",
    "Evidence",
    "GroupingParams",
    "IncidentCandidate",
    "MetricSpec",
    "SeriesDetector",
    "SeriesKey",
    "SeriesScores",
    "corroborate",
    "describe_status",
    "detect_incidents",
    "get_metric",
    "group_incidents",
    "score_series",
    "score_series_detailed",
    "severity_from_impact",
    "validate_sample",
]
