"""The detection sweep: stored per-minute telemetry → ``relaydesk.detection`` → incidents.

Every ``RELAYDESK_DETECTION_INTERVAL_S`` (10 s) a worker reads, per service × region and
quality metric, one series per carrier from ``monitoring.store.read_series_by`` over the last
``RELAYDESK_DETECTION_HISTORY_DAYS`` (3) — the detector's daily baseline — scores only the
last ``RELAYDESK_DETECTION_WINDOW_MIN`` (180) minutes (``detect_incidents(score_from=…)``),
groups them into candidates and hands every ongoing candidate to
``intake.open_or_update_from_detection``. The history is cached per process and only the last
``REFRESH`` minutes are read again each pass (late samples still count). Minutes are judged
once they have ended (plus a few seconds' grace). Several workers may run it at once: the
place lock and the candidate key make a repeat change nothing.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from relaydesk.core.models import Region

log = logging.getLogger(__name__)

REFRESH_MIN = 15
GRACE_S = 3.0


def _conf(name: str, default: float) -> float:
    from .services import conf

    return conf(name, default)


@dataclass
class _Cached:
    start: int  # epoch seconds of the first minute
    end: int  # exclusive
    by_loc: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]  # mean, weight


_cache: dict[tuple[str, str, str], _Cached] = {}
_last_run: list[float] = [0.0]


def reset() -> None:
    _cache.clear()
    _last_run[0] = 0.0


def _location(key: int | None) -> str:
    return f"AS{key}" if key is not None else ""


def _read(service: str, region: str, metric: str, start: int, end: int) -> _Cached:
    """The metric's per-carrier series on the grid [start, end), from cache + a fresh tail."""
    from relaydesk.monitoring.store import read_series_by

    cached = _cache.get((service, region, metric))
    n = (end - start) // 60
    by_loc: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {}
    if cached is not None and cached.start <= start < cached.end:
        fetch_from = max(start, cached.end - REFRESH_MIN * 60)
        off = (start - cached.start) // 60
        keep = max(0, min(n, (fetch_from - start) // 60))
        for loc, (mean, weight) in cached.by_loc.items():
            m = np.full(n, np.nan)
            w = np.zeros(n)
            m[:keep] = mean[off : off + keep]
            w[:keep] = weight[off : off + keep]
            by_loc[loc] = (m, w)
    else:
        fetch_from = start
    fresh = read_series_by(
        service, region, metric,
        datetime.fromtimestamp(fetch_from, UTC), datetime.fromtimestamp(end, UTC), by="carrier",
    )
    i0 = (fetch_from - start) // 60
    for key, ser in fresh.items():
        loc = _location(key)
        if loc not in by_loc:
            by_loc[loc] = (np.full(n, np.nan), np.zeros(n))
        m, w = by_loc[loc]
        k = len(ser.timestamps)
        m[i0 : i0 + k] = ser.mean
        w[i0 : i0 + k] = ser.weight
    out = _Cached(start, end, by_loc)
    _cache[(service, region, metric)] = out
    return out


def detection_sweep(now: float | None = None, force: bool = False) -> dict[str, int]:
    """One pass over every place with telemetry; returns counts (places, candidates, incidents
    touched). Throttled to one pass per interval per process unless ``force``."""
    from relaydesk.detection import QUALITY_METRICS, SeriesKey
    from relaydesk.detection.incidents import detect_incidents
    from relaydesk.monitoring.store import list_series

    from .intake import open_or_update_from_detection

    t = time.time() if now is None else now
    if not force and t - _last_run[0] < _conf("RELAYDESK_DETECTION_INTERVAL_S", 10):
        return {}
    _last_run[0] = t
    end = int(math.floor((t - GRACE_S) / 60) * 60)
    history = int(_conf("RELAYDESK_DETECTION_HISTORY_DAYS", 3) * 86400)
    window = int(_conf("RELAYDESK_DETECTION_WINDOW_MIN", 180) * 60)
    start = end - history
    places: dict[tuple[str, str], set[str]] = {}
    for s in list_series():
        places.setdefault((s.service, s.region), set()).add(s.metric)
    zones = dict(Region.objects.values_list("code", "timezone"))
    result = {"places": 0, "candidates": 0, "incidents": 0}
    ts = np.arange(start, end, 60, dtype=np.float64)
    for (service, region), metrics in sorted(places.items()):
        series: dict[Any, tuple[Any, Any]] = {}
        for metric in sorted(metrics & set(QUALITY_METRICS)):
            data = _read(service, region, metric, start, end)
            for loc, (m, w) in data.by_loc.items():
                series[SeriesKey(service, region, loc, metric)] = (m, w)
        if not series:
            continue
        traffic = None
        if "concurrent_users" in metrics:
            users = _read(service, region, "concurrent_users", start, end)
            traffic = {(service, region, loc): m for loc, (m, _w) in users.by_loc.items()}
        result["places"] += 1
        try:
            candidates = detect_incidents(
                ts, series, traffic=traffic, tz_by_region=zones, score_from=float(end - window)
            )
        except Exception:
            log.exception("detection failed for %s/%s", service, region)
            continue
        for cand in candidates:
            result["candidates"] += 1
            if not cand.ongoing:
                continue
            try:
                if open_or_update_from_detection(cand) is not None:
                    result["incidents"] += 1
            except Exception:
                log.exception("could not open an incident for %s", cand.key)
    if result["candidates"]:
        log.info("detection pass: %s in %.2f s", result, time.time() - t)
    return result
