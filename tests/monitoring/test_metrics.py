"""The ingest's metric catalogue agrees with the detector's (names, units, valid ranges), so
switching validation to the shared catalogue changes nothing."""

from __future__ import annotations

import pytest

from relaydesk.monitoring.metrics import METRIC_NAMES, METRICS


def test_catalogue_matches_the_detection_package() -> None:
    detection = pytest.importorskip(
        "relaydesk.detection.metrics", reason="detector package not present"
    )
    assert set(METRIC_NAMES) == set(detection.METRICS)
    for name, m in METRICS.items():
        d = detection.METRICS[name]
        assert (m.unit, m.low, m.high) == (d.unit, d.lo, d.hi), name
        assert {"up": "higher", "down": "lower", "none": "none"}[m.worse] == d.worse, name
