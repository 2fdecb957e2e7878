"""The catalogue of network-quality metrics: unit, valid range, which direction is worse,
whether the value is a rate (a proportion of sessions, judged with its volume) and the
smallest change that matters to a user.

Pure data, no Django: ``relaydesk.monitoring`` imports it to validate telemetry, the
detector imports it to know how to judge a series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Direction = Literal["higher", "lower", "none"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric.

    ``worse`` says which way is bad ("none": load, never an anomaly by itself).  A rate is
    a proportion in ``[0, scale]`` (``scale`` 1 for ratios, 100 for percentages) whose
    weight is the number of sessions (or joins) behind it, so its noise is judged with a
    Wilson interval.  ``min_abs`` and ``min_rel`` are the smallest deviation from the usual
    level that matters (absolute in the metric's unit, relative to the usual level — for a
    rate where lower is worse, relative to the usual *failure* share).
    """

    name: str
    unit: str
    lo: float
    hi: float
    worse: Direction
    is_rate: bool
    description: str
    scale: float = 1.0
    min_abs: float = 0.0
    min_rel: float = 0.0

    def validate(self, value: float) -> str | None:
        """None when ``value`` is acceptable, else a message saying why not."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{self.name}: value must be a number"
        if not math.isfinite(value):
            return f"{self.name}: value must be finite"
        if value < self.lo or value > self.hi:
            return f"{self.name}: value {value:g} outside [{self.lo:g}, {self.hi:g}] {self.unit}"
        return None


# fmt: off
METRICS: dict[str, MetricSpec] = {
    m.name: m
    for m in (
        MetricSpec("rtt_ms", "ms", 0.0, 60_000.0, "higher", False,
                   "round-trip time client to edge", min_abs=80.0, min_rel=0.50),
        MetricSpec("jitter_ms", "ms", 0.0, 10_000.0, "higher", False,
                   "variation of packet arrival", min_abs=12.0, min_rel=0.60),
        MetricSpec("packet_loss_pct", "%", 0.0, 100.0, "higher", True,
                   "lost packets", scale=100.0, min_abs=2.0, min_rel=1.0),
        MetricSpec("join_success_rate", "ratio", 0.0, 1.0, "lower", True,
                   "joins that succeed", min_abs=0.02, min_rel=1.0),
        MetricSpec("join_in_5s_rate", "ratio", 0.0, 1.0, "lower", True,
                   "joins that succeed within 5 s", min_abs=0.04, min_rel=0.6),
        MetricSpec("video_freeze_rate", "ratio", 0.0, 1.0, "higher", True,
                   "share of viewing time frozen (frames > 600 ms apart)",
                   min_abs=0.012, min_rel=0.8),
        MetricSpec("audio_freeze_rate", "ratio", 0.0, 1.0, "higher", True,
                   "share of listening time with gaps > 200 ms", min_abs=0.008, min_rel=0.9),
        MetricSpec("bitrate_kbps", "kbit/s", 0.0, 1_000_000.0, "lower", False,
                   "delivered bitrate", min_abs=200.0, min_rel=0.30),
        MetricSpec("concurrent_users", "users", 0.0, 1_000_000_000.0, "none", False,
                   "load; weights the rates, not an error by itself"),
    )
}
# fmt: on

METRIC_NAMES: tuple[str, ...] = tuple(METRICS)
QUALITY_METRICS: tuple[str, ...] = tuple(n for n, m in METRICS.items() if m.worse != "none")


def get_metric(name: str) -> MetricSpec:
    """The spec of a known metric; ``KeyError`` naming the known ones otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        known = ", ".join(METRIC_NAMES)
        raise KeyError(f"unknown metric {name!r}; known: {known}") from None


def validate_sample(metric: str, value: float, weight: float | None = None) -> str | None:
    """Validate one telemetry sample: None if fine, else a message naming what is wrong."""
    spec = METRICS.get(metric)
    if spec is None:
        return f"unknown metric {metric!r}"
    problem = spec.validate(value)
    if problem is not None:
        return problem
    if weight is not None:
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            return "weight must be a number"
        if not math.isfinite(weight) or weight < 0:
            return "weight must be a finite number >= 0"
    return None
