"""The detection sweep: stored per-minute rollups -> ``relaydesk.detection`` -> incidents.

``run_detection(now)`` looks at every service × region that has telemetry in the last
``RELAYDESK_DETECTION_WINDOW_MIN`` minutes (default 240). For each it reads one series per
carrier (or per edge node, when the place reports no carriers) and quality metric, scores the
window's minutes against the detector's seasonal baselines, groups the scores into incident
candidates and hands every *ongoing* candidate to the incidents app through a small adapter.

Cost is bounded by reading only what the detector looks at (``docs/decisions/0007``): the
minutes of the window and, for the baseline, the same local hours on the previous 7 days and
the same weekday of the previous 4 weeks (±1 hour for DST) — about 80 hours per series instead
of 28 days. Those history hours are cached per process (they do not change), the window's last
``REFRESH_MIN`` minutes are read again every pass (late samples count). ``score_series`` with
``score_from`` gives a sparse history exactly the numbers a dense run gives (the baseline uses
only those hours), and only the window's minutes are scored.

Why score the whole window and not only the newest minutes: incident candidates need context
(when the bad stretch began, how many quiet minutes followed, 15 of them to propose resolving,
30 to end), and recomputing it from causal scores keeps every worker stateless and the
candidate key (``service:region:start``) stable from tick to tick.

``score_window(service, region, start, end, tz)`` runs the very same reads, scores and grouping
for one place and any past window, without the cache: the self-diagnosis answers with what
the sweep concludes.

Safe with several workers: on PostgreSQL one sweep at a time (a session advisory lock; a
worker that cannot take it skips the tick); the adapter's callee is idempotent per candidate
key. The latest score of every series is kept in :class:`DetectorScore` for ``/metrics``.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, models, transaction

from relaydesk.core.models import Region, Service
from relaydesk.detection import (
    QUALITY_METRICS,
    IncidentCandidate,
    SeriesKey,
    group_incidents,
    score_series_detailed,
)
from relaydesk.detection.detector import DAY_H, DEFAULT_PARAMS, WEEK_H

from .models import EdgeNode, TelemetryBatch
from .store import list_series, read_series_by

log = logging.getLogger("relaydesk.monitoring.detect")

HOUR = 3600
REFRESH_MIN = 15  # the window's newest minutes are read again every pass (late samples)
GRACE_S = 5.0  # a minute is judged once it has ended and this much time has passed
LOCK_KEY = zlib.crc32(b"relaydesk.monitoring.detect") & 0x7FFFFFFF

DEFAULTS = {
    "RELAYDESK_DETECTION_INTERVAL_S": 60.0,  # at most one sweep per this many seconds
    "RELAYDESK_DETECTION_WINDOW_MIN": 240.0,  # minutes scored and grouped each sweep
}


def setting(name: str) -> float:
    """A Django setting of that name wins, then the environment, then the default."""
    value = getattr(settings, name, None)
    if value is None:
        env = os.environ.get(name)
        value = float(env) if env else DEFAULTS[name]
    return float(value)


class DetectorScore(models.Model):
    """The latest scored minute of one series (service × region × location × metric), written
    by each sweep and read by the ``/metrics`` collector (any process)."""

    service = models.CharField(max_length=32)
    region = models.CharField(max_length=32)
    location = models.CharField(max_length=100, help_text="AS<asn>, an edge node code or ''")
    metric = models.CharField(max_length=32)
    minute = models.DateTimeField(help_text="start of the latest scored minute (UTC)")
    score = models.FloatField()
    updated_at = models.DateTimeField()

    class Meta:
        app_label = "monitoring"
        constraints = [
            models.UniqueConstraint(
                fields=["service", "region", "location", "metric"], name="mon_detscore_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service}/{self.region}/{self.location}/{self.metric} {self.score:.2f}"


# -- the incidents adapter ----------------------------------------------------------------------


def candidate_data(c: IncidentCandidate) -> dict[str, Any]:
    """A candidate as plain JSON-friendly data (epoch seconds, lists, string keys)."""
    d = dataclasses.asdict(c)
    d["locations"] = list(c.locations)
    d["metrics"] = list(c.metrics)
    d["series_peaks"] = {f"{loc}|{met}": round(v, 4) for (loc, met), v in c.series_peaks.items()}
    return d


def _find_callee() -> Callable[..., Any] | None:
    """``open_or_update_from_detection`` from the incidents app, wherever it lives (imported
    lazily: monitoring does not depend on incidents)."""
    import importlib

    for name in ("relaydesk.incidents.services", "relaydesk.incidents.intake"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        fn = getattr(module, "open_or_update_from_detection", None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    return None


def hand_to_incidents(candidate: dict[str, Any], now: datetime) -> Any:
    """Give one candidate (plain data) to the incidents app; logs and skips when the app does
    not offer ``open_or_update_from_detection`` (yet). Returns the callee's answer or None."""
    fn = _find_callee()
    if fn is None:
        log.warning(
            "incidents app has no open_or_update_from_detection: skipped %s", candidate["key"]
        )
        return None
    try:
        accepts_now = "now" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        accepts_now = False
    return fn(candidate, now=now) if accepts_now else fn(candidate)


# Tests (and operators) may replace the adapter; the sweep calls whatever is here.
adapter: list[Callable[[dict[str, Any], datetime], Any]] = [hand_to_incidents]


# -- reading rollups, cached by hour ---------------------------------------------------------------


@dataclass
class _Hour:
    final: bool  # read after the hour ended + REFRESH_MIN: not read again
    by_loc: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]  # mean, weight (60,)


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hours: dict[tuple[str, str, str, str], dict[int, _Hour]] = {}
        self.node_codes: dict[int, str] = {}
        self.last_end: int | None = None
        self.last_run: float = 0.0
        self.last_batch: int = -1  # the newest telemetry batch when the last sweep ran

    def clear(self) -> None:
        with self.lock:
            self.hours.clear()
            self.node_codes.clear()
            self.last_end = None
            self.last_run = 0.0
            self.last_batch = -1


_cache = _Cache()


def reset() -> None:
    """Forget cached rollups and the throttle (tests)."""
    _cache.clear()


def _loc_name(by: str, key: int | None) -> str:
    if key is None:
        return ""
    if by == "carrier":
        return f"AS{key}"
    code = _cache.node_codes.get(key)
    if code is None:
        _cache.node_codes.update(EdgeNode.objects.values_list("id", "code"))
        code = _cache.node_codes.get(key, str(key))
    return code


def _runs(hours: list[int]) -> list[tuple[int, int]]:
    """Sorted hours -> [first, last] runs of consecutive hours."""
    out: list[tuple[int, int]] = []
    for h in hours:
        if out and out[-1][1] == h - 1:
            out[-1] = (out[-1][0], h)
        else:
            out.append((h, h))
    return out


def _read(
    service: str,
    region: str,
    metric: str,
    by: str,
    hours: list[int],
    end: int,
    *,
    cached: bool = True,
    ids: tuple[int, int] | None = None,
) -> dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    """Per location, (mean, weight) over ``hours`` (60 minutes each, concatenated); minutes at
    or after ``end`` are NaN. Reads only hours not cached as final; ``cached=False`` reads
    everything and leaves the sweep's cache alone (a one-off look at some other window).
    ``ids``: the service and region primary keys, if known (saves two look-ups a read)."""
    cache = _cache.hours.setdefault((service, region, metric, by), {}) if cached else {}
    want = set(hours)
    for h in [h for h in cache if h not in want]:  # keep only what this sweep needs
        del cache[h]
    todo = [h for h in hours if h not in cache or not cache[h].final]
    for first, last in _runs(todo):
        lo = datetime.fromtimestamp(first * HOUR, UTC)
        hi = datetime.fromtimestamp(min((last + 1) * HOUR, end), UTC)
        if hi <= lo:
            for h in range(first, last + 1):
                cache[h] = _Hour(False, {})
            continue
        svc: str | int = service if ids is None else ids[0]
        reg: str | int = region if ids is None else ids[1]
        got = read_series_by(svc, reg, metric, lo, hi, by=by)
        n = (last - first + 1) * 60
        per_loc: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {}
        for key, ser in got.items():
            m = np.full(n, np.nan)
            w = np.zeros(n)
            k = len(ser.mean)
            m[:k] = ser.mean
            w[:k] = ser.weight
            per_loc[_loc_name(by, key)] = (m, w)
        for h in range(first, last + 1):
            i = (h - first) * 60
            final = (h + 1) * HOUR + REFRESH_MIN * 60 <= end
            cache[h] = _Hour(
                final, {loc: (m[i : i + 60], w[i : i + 60]) for loc, (m, w) in per_loc.items()}
            )
    locs = sorted({loc for h in hours for loc in cache[h].by_loc})
    out = {}
    for loc in locs:
        m = np.full(len(hours) * 60, np.nan)
        w = np.zeros(len(hours) * 60)
        for i, h in enumerate(hours):
            got_h = cache[h].by_loc.get(loc)
            if got_h is not None:
                m[i * 60 : (i + 1) * 60] = got_h[0]
                w[i * 60 : (i + 1) * 60] = got_h[1]
        out[loc] = (m, w)
    return out


def needed_hours(window_start: int, end: int) -> list[int]:
    """UTC hours the sweep reads: the window (plus the detector's lookback minutes before it) and,
    for the baseline of each window minute, the reference hours the detector uses (same local
    hour on the previous days and weeks; ±1 hour covers a DST change)."""
    p = DEFAULT_PARAMS
    first = (window_start - p.lookback_minutes * 60) // HOUR
    last = (end - 60) // HOUR
    hours = set(range(first, last + 1))
    c_lo = (window_start - p.lookback_minutes * 60 - HOUR // 2) // HOUR
    c_hi = (end - 60 - HOUR // 2) // HOUR + 1
    lags = {DAY_H * d for d in range(1, p.daily_refs + 1)}
    lags |= {WEEK_H * k for k in range(1, p.weekly_refs + 1)}
    for c in range(c_lo, c_hi + 1):
        for lag in lags:
            hours.update((c - lag - 1, c - lag, c - lag + 1))
    return sorted(hours)


# -- the sweep ------------------------------------------------------------------------------------


class _Lock:
    """One sweep at a time across processes on PostgreSQL (session advisory lock)."""

    def __init__(self) -> None:
        self.held = False

    def __enter__(self) -> bool:
        if connection.vendor != "postgresql":
            self.held = True
            return True
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            self.held = bool(cur.fetchone()[0])
        return self.held

    def __exit__(self, *exc: object) -> None:
        if self.held and connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def _places(
    service: str | None = None, region: str | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    places: dict[tuple[str, str], dict[str, Any]] = {}
    for s in list_series(service, region):
        p = places.setdefault(
            (s.service, s.region), {"metrics": set(), "carriers": False, "nodes": False}
        )
        p["metrics"].add(s.metric)
        p["carriers"] |= s.carrier_asn is not None
        p["nodes"] |= s.node is not None
    return places


def _grid(hours: list[int]) -> np.ndarray[Any, Any]:
    """Minute starts (epoch seconds, float) of ``hours``, 60 per hour, concatenated."""
    return (
        np.repeat(np.array(hours, dtype=np.int64) * HOUR, 60)
        + np.tile(np.arange(60, dtype=np.int64) * 60, len(hours))
    ).astype(np.float64)


@dataclass
class PlaceScores:
    """What the detector makes of one service × region over a window: the sweep hands the
    candidates to incidents, the self-diagnosis shows the same numbers to a customer.

    ``ts`` is the grid that was read (the window and the baseline's reference hours) and
    ``data`` its per-minute (mean, weight) by metric and location ("AS<asn>", an edge node
    code, or "" for samples sent without either). ``keys`` are the series with data in the
    window; ``scores``, ``instant`` and ``baseline`` (the usual level, in the metric's unit)
    are keys × window minutes."""

    service: str
    region: str
    by: str  # "carrier" or "node": what the locations are
    ts: np.ndarray[Any, Any]
    in_window: np.ndarray[Any, Any]
    data: dict[str, dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]]
    keys: list[SeriesKey]
    scores: np.ndarray[Any, Any]
    instant: np.ndarray[Any, Any]
    baseline: np.ndarray[Any, Any]
    candidates: list[IncidentCandidate]

    @property
    def window_ts(self) -> np.ndarray[Any, Any]:
        window: np.ndarray[Any, Any] = self.ts[self.in_window]
        return window


def _score_place(
    service: str,
    region: str,
    place: dict[str, Any],
    hours: list[int],
    ts: np.ndarray[Any, Any],
    w0: int,
    end: int,
    tz: str | None,
    *,
    cached: bool = True,
) -> PlaceScores | None:
    """Read, score and group one place over the window ``[w0, end)`` (``ts``: the grid of
    ``hours``); None when no series has data in the window (nothing to judge)."""
    by = "carrier" if place["carriers"] or not place["nodes"] else "node"
    metrics = sorted(place["metrics"] & set(QUALITY_METRICS))
    in_window = (ts >= w0) & (ts < end)
    sid = Service.objects.filter(code=service).values_list("pk", flat=True).first()
    rid = Region.objects.filter(code=region).values_list("pk", flat=True).first()
    ids = (sid, rid) if sid is not None and rid is not None else None
    data = {
        metric: _read(service, region, metric, by, hours, end, cached=cached, ids=ids)
        for metric in metrics
    }
    recent = [
        (metric, loc, m, w)
        for metric in metrics
        for loc, (m, w) in sorted(data[metric].items())
        if np.any(w[in_window] > 0)  # no recent data: nothing to judge here
    ]
    if not recent:
        return None
    # The detector's cost grows with the span of its input: start at the first hour
    # that has data (a young installation or a short demo history).
    have = np.zeros(len(ts), dtype=bool)
    for _metric, _loc, _m, w in recent:
        have |= w > 0
    lo = int(np.argmax(have)) // 60 * 60
    keys: list[SeriesKey] = []
    rows: list[np.ndarray[Any, Any]] = []
    inst: list[np.ndarray[Any, Any]] = []
    early: list[np.ndarray[Any, Any]] = []
    base: list[np.ndarray[Any, Any]] = []
    for metric, loc, m, w in recent:
        got = score_series_detailed(ts[lo:], m[lo:], w[lo:], metric, tz=tz, score_from=float(w0))
        keys.append(SeriesKey(service, region, loc, metric))
        rows.append(got.scores[in_window[lo:]])
        inst.append(got.instant[in_window[lo:]])
        early.append(got.early[in_window[lo:]])
        base.append(got.baseline[in_window[lo:]])
    traffic = None
    if "concurrent_users" in place["metrics"]:
        users = _read(service, region, "concurrent_users", by, hours, end, cached=cached, ids=ids)
        data["concurrent_users"] = users
        traffic = {
            (service, region, loc): np.nan_to_num(m[in_window]) for loc, (m, _w) in users.items()
        }
    scores, instant = np.vstack(rows), np.vstack(inst)
    candidates = group_incidents(
        ts[in_window], keys, scores, traffic, instant=instant, early=np.vstack(early)
    )
    return PlaceScores(
        service, region, by, ts, in_window, data, keys, scores, instant, np.vstack(base), candidates
    )


def score_window(
    service: str, region: str, start: datetime, end: datetime, tz: str | None
) -> PlaceScores | None:
    """The detector's view of one place over ``[start, end)`` (whole minutes covering it), the
    sweep's own reads, scores and grouping without its cache (any past window). None when the
    place has no telemetry in the window."""
    place = _places(service, region).get((service, region))
    if place is None:
        return None
    w0 = math.floor(start.timestamp() / 60) * 60
    w1 = math.ceil(end.timestamp() / 60) * 60
    hours = needed_hours(w0, w1)
    return _score_place(service, region, place, hours, _grid(hours), w0, w1, tz, cached=False)


def run_detection(now: datetime | None = None) -> dict[str, Any]:
    """One detection pass over every place with recent telemetry (see the module docstring).
    Returns counts: places scored, series, candidates, candidates handed to incidents, the
    seconds it took."""
    started = time.perf_counter()
    t = (now or datetime.now(UTC)).timestamp()
    end = int(math.floor((t - GRACE_S) / 60) * 60)
    window = int(setting("RELAYDESK_DETECTION_WINDOW_MIN")) * 60
    w0 = end - window
    result: dict[str, Any] = {"places": 0, "series": 0, "candidates": 0, "handed": 0}
    with _Lock() as held:
        if not held:
            result["skipped"] = "another worker is sweeping"
            return result
        zones = dict(Region.objects.values_list("code", "timezone"))
        hours = needed_hours(w0, end)
        ts = _grid(hours)
        scores_out: list[tuple[str, str, str, str, int, float]] = []
        for (service, region), place in sorted(_places().items()):
            got = _score_place(service, region, place, hours, ts, w0, end, zones.get(region))
            if got is None:
                continue
            win_ts = got.window_ts
            for key, sc in zip(got.keys, got.scores, strict=True):
                ok = np.flatnonzero(~np.isnan(sc))
                if len(ok):
                    j = int(ok[-1])
                    scores_out.append(
                        (service, region, key.location, key.metric, int(win_ts[j]), float(sc[j]))
                    )
            result["places"] += 1
            result["series"] += len(got.keys)
            result["candidates"] += len(got.candidates)
            for cand in got.candidates:
                if not cand.ongoing:
                    continue  # ended (30 quiet minutes): its incident already knows
                try:
                    adapter[0](candidate_data(cand), datetime.fromtimestamp(t, UTC))
                    result["handed"] += 1
                except Exception:
                    log.exception("incidents adapter failed for %s", cand.key)
        _save_scores(scores_out, datetime.fromtimestamp(t, UTC))
    _cache.last_end = end
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def _save_scores(rows: Iterable[tuple[str, str, str, str, int, float]], at: datetime) -> None:
    objs = [
        DetectorScore(
            service=s,
            region=r,
            location=loc,
            metric=m,
            minute=datetime.fromtimestamp(minute, UTC),
            score=score,
            updated_at=at,
        )
        for s, r, loc, m, minute, score in rows
    ]
    if not objs:
        return
    with transaction.atomic():
        DetectorScore.objects.bulk_create(
            objs,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["service", "region", "location", "metric"],
            update_fields=["minute", "score", "updated_at"],
        )


def _last_batch() -> int:
    from django.db.models import Max

    return int(TelemetryBatch.objects.aggregate(m=Max("pk"))["m"] or 0)


def detection_tick() -> dict[str, Any]:
    """The periodic entry: at most one sweep per ``RELAYDESK_DETECTION_INTERVAL_S`` in this
    process, and none while neither the last judged minute nor the telemetry has changed.
    Telemetry that arrives late, for minutes already judged (a collector that pushes every
    few minutes, a backlog), is judged on the next tick rather than a minute later."""
    now = time.time()
    if now - _cache.last_run < setting("RELAYDESK_DETECTION_INTERVAL_S"):
        return {}
    end = int(math.floor((now - GRACE_S) / 60) * 60)
    batch = _last_batch()
    if _cache.last_end == end and _cache.last_batch == batch:
        return {}
    _cache.last_run = now
    _cache.last_batch = batch
    # The same instant as above, so the sweep judges (and records as judged) this ``end``;
    # a sweep skipped for another worker's records nothing and is retried on the next tick.
    return run_detection(datetime.fromtimestamp(now, UTC))
