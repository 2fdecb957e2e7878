"""The network-quality metrics RelayDesk accepts, with units and valid ranges (pure, no Django).

Rates are fractions in [0, 1] (``join_success_rate=0.97``); packet loss is a percentage in
[0, 100], as its name says. ``worse`` tells which direction is bad (``"up"``: a rising value is
bad, ``"down"``: a falling value is bad, ``"none"``: load, not an error by itself).

This catalogue is the ingest's copy of ``relaydesk.detection.metrics`` (names, units and
ranges agree; ``tests/monitoring/test_metrics.py`` checks it). To use the shared one, build
``METRICS`` from ``relaydesk.detection.metrics.METRICS`` (``lo``/``hi`` → ``low``/``high``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    low: float
    high: float
    worse: Literal["up", "down", "none"]
    kind: Literal["rate", "gauge"]
    description: str


_CATALOGUE: Final[tuple[Metric, ...]] = (
    Metric("rtt_ms", "ms", 0.0, 60_000.0, "up", "gauge", "round-trip time client to edge"),
    Metric("jitter_ms", "ms", 0.0, 10_000.0, "up", "gauge", "variation of packet arrival"),
    Metric("packet_loss_pct", "%", 0.0, 100.0, "up", "gauge", "lost packets, in percent"),
    Metric("join_success_rate", "ratio", 0.0, 1.0, "down", "rate", "joins that succeed"),
    Metric("join_in_5s_rate", "ratio", 0.0, 1.0, "down", "rate", "joins that succeed within 5 s"),
    Metric("video_freeze_rate", "ratio", 0.0, 1.0, "up", "rate", "share of viewing time frozen"),
    Metric("audio_freeze_rate", "ratio", 0.0, 1.0, "up", "rate", "share of listening time frozen"),
    Metric("bitrate_kbps", "kbit/s", 0.0, 1_000_000.0, "down", "gauge", "delivered bitrate"),
    Metric("concurrent_users", "users", 0.0, 1e9, "none", "gauge", "concurrent users (load)"),
)

METRICS: Final[dict[str, Metric]] = {m.name: m for m in _CATALOGUE}
METRIC_NAMES: Final[tuple[str, ...]] = tuple(m.name for m in _CATALOGUE)


def metric(name: str) -> Metric:
    """The catalogue entry for ``name``; KeyError names the valid choices."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; choose from {', '.join(METRIC_NAMES)}") from None
