"""The metric catalogue that monitoring validates telemetry with and the detector reads."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from relaydesk.detection import METRIC_NAMES, METRICS, QUALITY_METRICS, get_metric, validate_sample


def test_catalogue_has_the_nine_metrics_of_the_issue() -> None:
    assert set(METRIC_NAMES) == {
        "rtt_ms",
        "jitter_ms",
        "packet_loss_pct",
        "join_success_rate",
        "join_in_5s_rate",
        "video_freeze_rate",
        "audio_freeze_rate",
        "bitrate_kbps",
        "concurrent_users",
    }
    assert "concurrent_users" not in QUALITY_METRICS and len(QUALITY_METRICS) == 8


@pytest.mark.parametrize(
    ("name", "unit", "worse", "is_rate"),
    [
        ("rtt_ms", "ms", "higher", False),
        ("jitter_ms", "ms", "higher", False),
        ("packet_loss_pct", "%", "higher", True),
        ("join_success_rate", "ratio", "lower", True),
        ("join_in_5s_rate", "ratio", "lower", True),
        ("video_freeze_rate", "ratio", "higher", True),
        ("audio_freeze_rate", "ratio", "higher", True),
        ("bitrate_kbps", "kbit/s", "lower", False),
        ("concurrent_users", "users", "none", False),
    ],
)
def test_each_metric_knows_unit_direction_and_rate(
    name: str, unit: str, worse: str, is_rate: bool
) -> None:
    spec = METRICS[name]
    assert (spec.unit, spec.worse, spec.is_rate) == (unit, worse, is_rate)
    assert spec.lo < spec.hi
    if is_rate:
        assert spec.hi == spec.scale  # a proportion on its scale: [0, 1] or [0, 100] %


def test_validate_sample_names_what_is_wrong() -> None:
    assert validate_sample("rtt_ms", 45.0, 120) is None
    assert validate_sample("join_success_rate", 1, None) is None
    assert "unknown metric" in (validate_sample("rtt", 1.0) or "")
    assert "outside" in (validate_sample("packet_loss_pct", 101.0) or "")
    assert "outside" in (validate_sample("join_success_rate", 1.2) or "")
    assert "outside" in (validate_sample("rtt_ms", -1.0) or "")
    assert "finite" in (validate_sample("rtt_ms", math.nan) or "")
    assert "number" in (validate_sample("rtt_ms", True) or "")  # type: ignore[arg-type]
    assert "number" in (validate_sample("rtt_ms", "12") or "")  # type: ignore[arg-type]
    assert "weight" in (validate_sample("rtt_ms", 12.0, -3) or "")
    assert "weight" in (validate_sample("rtt_ms", 12.0, math.inf) or "")


def test_get_metric_lists_the_known_ones() -> None:
    assert get_metric("jitter_ms").unit == "ms"
    with pytest.raises(KeyError, match="known: rtt_ms"):
        get_metric("latency")


def test_detection_package_never_imports_django() -> None:
    code = (
        "import sys, relaydesk.detection, relaydesk.detection.generator;"
        "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "False"
