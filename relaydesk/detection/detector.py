"""Per-series anomaly scores for network-quality telemetry, streaming and batch.

A series is one metric of one service × region × carrier/node, one value per minute (the
monitoring rollup's weighted mean) with an optional weight (the sessions behind it).  Each
minute gets a score in ``[0, 1]`` — 0 "as usual", 0.5 "worse than usual by the tolerance",
1 "worse by twice the tolerance or more" — or NaN when there is nothing to judge (no data
that minute, or not yet enough history).  A companion status code says which.

How a minute is judged (``docs/decisions/0007-detection.md`` has the reasoning):

1. **Seasonal, robust baseline.**  Every complete hour is summarised by the median of its
   minutes (for a rate with weights: the pooled, sessions-weighted rate), their MAD and the
   median weight.  The usual level at local time *h* is the
   median of those hour medians at the same local wall-clock hour on the previous 7 days
   (daily profile) and, separately, on the same weekday of the previous 4 weeks (weekly
   profile); hour-centre values are interpolated linearly inside the hour.  Spread = MAD of
   the day-to-day medians plus the usual within-hour MAD.  Medians everywhere: an incident
   in the history does not move the baseline.
2. **Direction.**  Only the worse direction counts (a lower RTT is never an anomaly).
3. **Volume.**  Rates are judged by a Beta (Jeffreys) bound of the minute's proportion with
   the minute's weight, so 3 failures out of 12 joins at 04:00 are not evidence; other metrics
   widen their tolerance when the minute's volume is below the usual volume.
4. **Tolerance.**  The deviation must exceed the metric's smallest meaningful change
   (``MetricSpec.min_abs``/``min_rel``) and a multiple of the usual spread.  A minute must be
   unusual against *both* the daily and the weekly profile (a normal Saturday evening does
   not look odd next to last Saturday).
5. **Persistence.**  The score is the N-th largest instantaneous score of the last M
   minutes (N of M; a missing minute counts as "not bad"): one odd minute never scores.
   Because an incident rarely starts on a minute boundary, its first minute is only partly
   bad: the current minute also counts when an earlier minute reaches a sixth of its score.
6. **Drift.**  A slow ramp is only moderately worse than usual for several minutes before
   a single minute is bad enough for the level test; a windowed one-sided CUSUM of the
   instantaneous scores (``drift_*`` parameters) scores it earlier.  The score is the
   larger of the persistence and the drift score.  Corroboration across carriers (a
   shorter rule when several carriers are bad in the same minute) is the grouping's job
   (``relaydesk.detection.incidents``).
7. **Early score.**  Beside the score, each minute gets an *early* score: the same test
   against the statistical tolerance alone (robust sigmas, floored at ``early_fraction`` of
   the user-visible minimum), so a change that is plainly real but still too small for
   users scores high here.  It never raises a series' own score; the grouping uses it
   when several carriers agree on one metric in the same minute (the start of a ramp).

Both paths are strictly causal (a score uses samples up to its own minute only) and give
bit-identical results: the streaming detector shares the hour-level array code and runs
scalar twins of the per-minute kernels (same operations, same order).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaincinv

from relaydesk.detection.metrics import MetricSpec, get_metric

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

HOUR_S = 3600
DAY_H = 24
WEEK_H = 168
MAD_TO_SIGMA = 1.4826

# Status codes (int8) returned beside the scores.
OK = 0
NO_DATA = 1  # no value this minute (NaN value, or weight 0)
WARMING_UP = 2  # not enough history yet for a baseline at this hour
NOT_SCORED = 3  # a metric that is never an anomaly by itself (load); score 0
SKIPPED = 4  # before ``score_from``: used as history only, not scored
STATUS_NAMES = {
    OK: "ok",
    NO_DATA: "no_data",
    WARMING_UP: "warming_up",
    NOT_SCORED: "not_scored",
    SKIPPED: "skipped",
}


@dataclass(frozen=True)
class DetectorParams:
    """Tuning knobs; the defaults are the ones ``bench/detection.py`` reports on."""

    step_s: int = 60
    daily_refs: int = 7  # previous days at the same local hour
    weekly_refs: int = 4  # previous weeks at the same local hour of the same weekday
    min_daily_refs: int = 2  # fewer usable days -> WARMING_UP
    min_hour_samples: int = 10  # an hour with fewer minutes gives no summary
    rate_alpha: float = 0.001  # one-sided error of the Beta bounds of a rate
    k_sigma: float = 4.0  # non-rate tolerance in robust sigmas
    k_rate: float = 3.0  # rate tolerance in robust sigmas of the systematic spread
    persist_n: int = 2
    persist_m: int = 3
    onset_relax: float = 6.0  # earlier minutes count at this multiple (partial onset minute)
    # Drift (a CUSUM over the last ``drift_window`` instantaneous scores): a slow ramp that
    # stays moderately worse than usual for several minutes counts before it is bad enough
    # for the level test.  ``drift_window`` 0 turns it off.
    drift_window: int = 20
    drift_ref: float = 0.15  # per-minute allowance subtracted from each instantaneous score
    drift_span: float = 1.0  # accumulated excess that scores 1
    drift_cap: float = 0.5  # a minute adds at most this (so one odd minute never scores)
    drift_gate: float = 0.25  # below this, the current minute caps the drift score
    # Early score: the same test against the statistical tolerance alone (k_sigma /
    # k_rate robust sigmas), floored at this share of the user-visible minimum
    # (``MetricSpec.min_abs``/``min_rel``) so a near-constant series is not infinitely
    # sensitive.  It does not enter ``scores``; the grouping lets it open an incident when
    # several locations agree on one metric in the same minute.
    early_fraction: float = 0.1

    def __post_init__(self) -> None:
        if self.step_s <= 0 or HOUR_S % self.step_s:
            raise ValueError("step_s must divide an hour")
        if not 1 <= self.persist_n <= self.persist_m:
            raise ValueError("persistence needs 1 <= persist_n <= persist_m")
        if self.daily_refs < 1 or self.weekly_refs < 0 or self.min_daily_refs < 1:
            raise ValueError("need at least one daily reference")
        if self.min_daily_refs > self.daily_refs:
            raise ValueError("min_daily_refs cannot exceed daily_refs")
        if self.drift_window < 0 or self.drift_span <= 0 or not 0 <= self.drift_ref < 1:
            raise ValueError("drift needs drift_window >= 0, drift_span > 0, 0 <= drift_ref < 1")
        if not 0 < self.early_fraction <= 1:
            raise ValueError("early_fraction must be in (0, 1]")
        if not self.drift_ref < self.drift_cap <= 1:
            raise ValueError("drift needs drift_ref < drift_cap <= 1")

    @property
    def per_hour(self) -> int:
        return HOUR_S // self.step_s

    @property
    def lookback_minutes(self) -> int:
        """Minutes of instantaneous scores a score depends on (the current one included):
        a caller that scores from some minute on passes this many minutes before it."""
        return max(self.persist_m, self.drift_window)


DEFAULT_PARAMS = DetectorParams()


# -- time zones ------------------------------------------------------------------------------


class _Offsets:
    """UTC offset (whole seconds) of a time zone at the start of each UTC hour, cached."""

    def __init__(self, tz: str | None) -> None:
        self.zone = ZoneInfo(tz) if tz else None
        self.cache: dict[int, int] = {}
        self.span_lo = 0  # offsets of hours span_lo, span_lo + 1, ... (for many())
        self.span: I64 = np.zeros(0, dtype=np.int64)

    def of(self, hour: int) -> int:
        if self.zone is None:
            return 0
        off = self.cache.get(hour)
        if off is None:
            delta = datetime.fromtimestamp(hour * HOUR_S, UTC).astimezone(self.zone).utcoffset()
            off = int(delta.total_seconds()) if delta is not None else 0
            if len(self.cache) > 20_000:  # a long-lived streaming detector: stay bounded
                self.cache.clear()
            self.cache[hour] = off
        return off

    def _range(self, lo: int, hi: int) -> I64:
        return np.fromiter((self.of(h) for h in range(lo, hi)), dtype=np.int64, count=hi - lo)

    def many(self, hours: I64) -> I64:
        if self.zone is None or len(hours) == 0:
            return np.zeros(len(hours), dtype=np.int64)
        if len(hours) < 32:  # the streaming path: a few hours at a time
            return np.fromiter((self.of(int(h)) for h in hours), dtype=np.int64, count=len(hours))
        # The batch path asks for long runs of hours, shifted by each reference lag: keep
        # one contiguous table, extended at either end as needed, and index it.
        lo, hi = int(hours.min()), int(hours.max()) + 1
        if not len(self.span):
            self.span_lo, self.span = lo, self._range(lo, hi)
        if lo < self.span_lo:
            self.span = np.concatenate([self._range(lo, self.span_lo), self.span])
            self.span_lo = lo
        top = self.span_lo + len(self.span)
        if hi > top:
            self.span = np.concatenate([self.span, self._range(top, hi)])
        return self.span[hours - self.span_lo]


def _ref_hours(hours: I64, offsets: _Offsets, lag_h: int) -> I64:
    """The UTC hour with the same local wall-clock time ``lag_h`` hours earlier."""
    back = hours - lag_h
    shift = (offsets.many(hours) - offsets.many(back)) // HOUR_S
    return back + shift


# -- array kernels (shared by both paths, so results are bit-identical) ----------------------


def _nanmedian_rows(a: F64) -> tuple[F64, I64]:
    """Median of each row ignoring NaN, and the number of values used (NaN if none)."""
    s = np.sort(a, axis=1)  # NaN sort last
    cnt = np.sum(~np.isnan(a), axis=1).astype(np.int64)
    rows = np.arange(a.shape[0])
    lo = np.maximum((cnt - 1) // 2, 0)
    hi = np.maximum(cnt // 2, 0)
    med = (s[rows, lo] + s[rows, hi]) * 0.5 if a.shape[1] else np.full(a.shape[0], np.nan)
    med = np.where(cnt > 0, med, np.nan)
    return med, cnt


def _hour_summaries(x: F64, w: F64, min_samples: int, pooled: bool) -> tuple[F64, F64, F64]:
    """Per row (an hour of minutes): level, MAD around it, median weight (NaN if too few
    minutes).  The level is the median minute, or for a rate with weights the pooled rate
    (sessions-weighted: a median of per-minute rates of 3 joins each says little)."""
    med, cnt = _nanmedian_rows(x)
    if pooled:
        has_w = ~np.isnan(w) & ~np.isnan(x)
        tot = np.sum(np.where(has_w, w, 0.0), axis=1)
        num = np.sum(np.where(has_w, w * x, 0.0), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            med = np.where(tot > 0, num / tot, med)
    mad, _ = _nanmedian_rows(np.abs(x - med[:, None]))
    nmed, _ = _nanmedian_rows(w)
    few = cnt < min_samples
    med[few] = np.nan
    mad[few] = np.nan
    nmed[few] = np.nan
    return med, mad, nmed


def _baseline(ref_med: F64, ref_mad: F64, ref_n: F64, min_refs: int) -> F64:
    """Rows of reference hour summaries -> columns (level, between-day sigma, within-hour
    sigma, usual weight); NaN rows when fewer than ``min_refs`` references exist."""
    level, cnt = _nanmedian_rows(ref_med)
    between, _ = _nanmedian_rows(np.abs(ref_med - level[:, None]))
    within, _ = _nanmedian_rows(ref_mad)
    nref, _ = _nanmedian_rows(ref_n)
    out = np.stack([level, between * MAD_TO_SIGMA, within * MAD_TO_SIGMA, nref], axis=1).astype(
        np.float64
    )
    out[cnt < min_refs] = np.nan
    return out


def _interp(b0: F64, b1: F64, f: F64) -> F64:
    """Linear interpolation between hour centres; falls back to whichever side exists."""
    both = b0 * (1.0 - f[:, None]) + b1 * f[:, None]
    return np.where(np.isnan(b0), b1, np.where(np.isnan(b1), b0, both))


def _rate_bounds(p: F64, n: F64, alpha: float, need: NDArray[np.bool_]) -> tuple[F64, F64]:
    """One-sided Jeffreys (Beta(k + 1/2, n - k + 1/2)) bounds of a proportion observed as
    ``p`` over ``n`` sessions: the true rate is above ``lo`` and below ``hi``, each with
    probability ``1 - alpha``.  Without a weight the bounds are the point itself.  Only the
    entries in ``need`` are computed (the inverse Beta is the costly part); the others get
    the point."""
    lo = p.copy()
    hi = p.copy()
    sel = need & ~np.isnan(n) & ~np.isnan(p)
    if np.any(sel):
        ps, ns = p[sel], n[sel]
        k = ps * ns
        with np.errstate(invalid="ignore"):
            lo[sel] = np.where(k > 0, betaincinv(k + 0.5, ns - k + 0.5, alpha), 0.0)
            hi[sel] = np.where(k < ns, betaincinv(k + 0.5, ns - k + 0.5, 1.0 - alpha), 1.0)
    return lo, hi


def _severity(
    x: F64, n: F64, base: F64, spec: MetricSpec, params: DetectorParams
) -> tuple[F64, F64]:
    """How far beyond tolerance each minute is (q >= 1: worse than usual by the tolerance),
    and the same against the *early* tolerance (the statistical part alone, floored at
    ``early_fraction`` of the user-visible minimum); NaN without a baseline.  ``base``
    columns: level, between sigma, within sigma, weight."""
    level, s_between, s_within, nref = base[:, 0], base[:, 1], base[:, 2], base[:, 3]
    frac = params.early_fraction
    with np.errstate(invalid="ignore", divide="ignore"):
        if spec.is_rate:
            usual_bad = level if spec.worse == "higher" else 1.0 - level
            binom = level * (1.0 - level) / nref
            sys2 = np.where(np.isnan(binom), s_within * s_within, s_within * s_within - binom)
            sys_sigma = np.sqrt(s_between * s_between + np.maximum(sys2, 0.0))
            user = np.maximum(spec.min_abs / spec.scale, spec.min_rel * usual_bad)
            stat = params.k_rate * sys_sigma
            tol = np.maximum(user, stat)
            tol_early = np.maximum(user * frac, stat)
            # The bound is never more extreme than the point: compute it only where the
            # point is worse than usual by a quarter of the (early) tolerance (elsewhere
            # the score stays below 0.125 either way; the inverse Beta is the costly part).
            if spec.worse == "higher":
                point = x - level
                lo, _ = _rate_bounds(x, n, params.rate_alpha, point > 0.25 * tol_early)
                dev_early = lo - level
            else:
                point = level - x
                _, hi = _rate_bounds(x, n, params.rate_alpha, point > 0.25 * tol_early)
                dev_early = level - hi
            dev = np.where(point > 0.25 * tol, dev_early, point)
            dev_early = np.where(point > 0.25 * tol_early, dev_early, point)
        else:
            sign = 1.0 if spec.worse == "higher" else -1.0
            dev = sign * (x - level)
            dev_early = dev
            sigma = np.sqrt(s_between * s_between + s_within * s_within)
            quiet = np.where(np.isnan(n) | np.isnan(nref) | (n >= nref), 1.0, nref / n)
            sigma = sigma * np.sqrt(quiet)
            user = np.maximum(spec.min_abs, spec.min_rel * np.abs(level))
            stat = params.k_sigma * sigma
            tol = np.maximum(user, stat)
            tol_early = np.maximum(user * frac, stat)
        q = dev / tol
        q_early = dev_early / tol_early
    none = np.isnan(level)
    return np.where(none, np.nan, q), np.where(none, np.nan, q_early)


def _instant(
    x: F64, n: F64, daily: F64, weekly: F64, spec: MetricSpec, params: DetectorParams
) -> tuple[F64, F64]:
    """Instantaneous score in [0, 1] (NaN without a baseline): unusual against both the daily
    and the weekly profile; and the early score, the same against the early tolerance."""
    qd, ed = _severity(x, n, daily, spec, params)
    qw, ew = _severity(x, n, weekly, spec, params)
    q = np.fmin(qd, qw)
    e = np.fmin(ed, ew)
    return (
        np.where(np.isnan(q), np.nan, np.clip(q * 0.5, 0.0, 1.0)),
        np.where(np.isnan(e), np.nan, np.clip(e * 0.5, 0.0, 1.0)),
    )


def _persist(windows: F64, n_big: int, relax: float) -> F64:
    """Persistence over rows of the last M instantaneous scores (oldest first, missing = 0):
    the N-th largest (N of M), or — because an incident rarely starts on a minute
    boundary, so its first minute is only partly bad — the current minute's score when the
    N-1 strongest earlier minutes reach ``1/relax`` of it."""
    m_win = windows.shape[1]
    n_of_m = np.sort(windows, axis=1)[:, m_win - n_big]
    if n_big == 1 or relax <= 1.0:
        return np.asarray(n_of_m, dtype=np.float64)
    older = np.sort(windows[:, :-1], axis=1)[:, (m_win - 1) - (n_big - 1)]
    onset = np.minimum(windows[:, -1], np.minimum(older * relax, 1.0))
    return np.asarray(np.maximum(n_of_m, onset), dtype=np.float64)


def _drift(windows: F64, params: DetectorParams) -> F64:
    """Drift score over rows of the last ``drift_window`` instantaneous scores (oldest
    first, missing = 0): a one-sided CUSUM restarted at every minute of the window, i.e.
    the largest sum of ``score - drift_ref`` over the trailing stretches, divided by
    ``drift_span`` and clipped to [0, 1].  A steady ramp accumulates here well before a
    single minute is bad enough; one odd minute adds at most ``drift_cap - drift_ref``
    (each minute's score is capped at ``drift_cap`` first), so it never scores.  While
    the current minute is below ``drift_gate`` the drift score is capped at the current
    minute's own score, so it ends with the problem instead of decaying slowly.

    Both paths call this same array code (the streaming one with a single row), and the
    running sums are sequential (``cumsum``), so they agree bit for bit."""
    capped = np.minimum(windows[:, ::-1], params.drift_cap)
    excess = np.cumsum(capped - params.drift_ref, axis=1)
    total = np.maximum(np.max(excess, axis=1), 0.0)
    score = np.minimum(total / params.drift_span, 1.0)
    now = windows[:, -1]
    return np.asarray(np.where(now >= params.drift_gate, score, np.minimum(score, now)), np.float64)


# -- scalar twins of the kernels, for the streaming path ------------------------------------------
# The same IEEE operations in the same order as the array kernels above (+, -, *, /, sqrt
# are correctly rounded, and the inverse Beta is the same SciPy routine), so streaming
# and batch agree bit for bit; the tests compare them on generated telemetry and by
# hypothesis.  NaN handling mirrors NumPy's: ``_nmax`` is ``np.maximum``.

Row = tuple[float, float, float, float]


def _nmax(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return a if a >= b else b


def _interp1(b0: Row, b1: Row, f: float) -> Row:
    out = []
    for u, v in zip(b0, b1, strict=True):
        if math.isnan(u):
            out.append(v)
        elif math.isnan(v):
            out.append(u)
        else:
            out.append(u * (1.0 - f) + v * f)
    return (out[0], out[1], out[2], out[3])


def _severity1(
    x: float, n: float, base: Row, spec: MetricSpec, params: DetectorParams
) -> tuple[float, float]:
    level, s_between, s_within, nref = base
    if math.isnan(level):
        return math.nan, math.nan
    frac = params.early_fraction
    if spec.is_rate:
        usual_bad = level if spec.worse == "higher" else 1.0 - level
        binom = level * (1.0 - level) / nref if nref == nref and nref != 0 else math.nan
        sys2 = s_within * s_within if math.isnan(binom) else s_within * s_within - binom
        sys_sigma = math.sqrt(s_between * s_between + _nmax(sys2, 0.0))
        user = _nmax(spec.min_abs / spec.scale, spec.min_rel * usual_bad)
        stat = params.k_rate * sys_sigma
        tol = _nmax(user, stat)
        tol_early = _nmax(user * frac, stat)
        usable = not math.isnan(n) and not math.isnan(x)
        if spec.worse == "higher":
            point = x - level
            bound = x
            if usable and point > 0.25 * tol_early:
                k = x * n
                bound = float(betaincinv(k + 0.5, n - k + 0.5, params.rate_alpha)) if k > 0 else 0.0
            dev_early = bound - level
        else:
            point = level - x
            bound = x
            if usable and point > 0.25 * tol_early:
                k = x * n
                bound = (
                    float(betaincinv(k + 0.5, n - k + 0.5, 1.0 - params.rate_alpha))
                    if k < n
                    else 1.0
                )
            dev_early = level - bound
        dev = dev_early if point > 0.25 * tol else point
        if not point > 0.25 * tol_early:
            dev_early = point
    else:
        sign = 1.0 if spec.worse == "higher" else -1.0
        dev = sign * (x - level)
        dev_early = dev
        sigma = math.sqrt(s_between * s_between + s_within * s_within)
        quiet = 1.0 if (math.isnan(n) or math.isnan(nref) or n >= nref) else nref / n
        sigma = sigma * math.sqrt(quiet)
        user = _nmax(spec.min_abs, spec.min_rel * abs(level))
        stat = params.k_sigma * sigma
        tol = _nmax(user, stat)
        tol_early = _nmax(user * frac, stat)
    return _ratio1(dev, tol), _ratio1(dev_early, tol_early)


def _ratio1(dev: float, tol: float) -> float:
    if tol == 0 or math.isnan(tol) or math.isnan(dev):
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(np.float64(dev) / np.float64(tol))
    return dev / tol


def _instant1(
    x: float, n: float, daily: Row, weekly: Row, spec: MetricSpec, params: DetectorParams
) -> tuple[float, float]:
    qd, ed = _severity1(x, n, daily, spec, params)
    qw, ew = _severity1(x, n, weekly, spec, params)
    return _clip_score(_fmin1(qd, qw)), _clip_score(_fmin1(ed, ew))


def _fmin1(a: float, b: float) -> float:
    """``np.fmin`` of two floats (NaN only when both are)."""
    return b if math.isnan(a) else (a if math.isnan(b) else (a if a <= b else b))


def _clip_score(q: float) -> float:
    if math.isnan(q):
        return math.nan
    return min(max(q * 0.5, 0.0), 1.0)


def _persist1(window: list[float], n_big: int, relax: float) -> float:
    m_win = len(window)
    n_of_m = sorted(window)[m_win - n_big]
    if n_big == 1 or relax <= 1.0:
        return n_of_m
    older = sorted(window[:-1])[(m_win - 1) - (n_big - 1)]
    onset = min(window[-1], min(older * relax, 1.0))
    return max(n_of_m, onset)


def _prepare(values: F64, weights: F64, spec: MetricSpec) -> tuple[F64, F64, NDArray[np.bool_]]:
    """Values on the detector's scale (rates as proportions), weights (NaN = unknown) and
    the no-data mask (NaN value or zero weight)."""
    x = values / spec.scale if spec.is_rate else values.copy()
    if spec.is_rate:
        x = np.clip(x, 0.0, 1.0)
    w = weights.copy()
    nodata = np.isnan(x) | (w <= 0)
    x[nodata] = np.nan
    w[nodata] = np.nan
    return x, w, nodata


# -- batch ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesScores:
    """Batch output, aligned with the input samples."""

    scores: F64  # persistence-filtered score in [0, 1], NaN = nothing to judge
    instant: F64  # the minute's own score before persistence
    status: NDArray[np.int8]
    baseline: F64  # usual level at that minute (daily profile), in the metric's unit
    early: F64  # the minute's own score against the statistical tolerance alone


def _as_seconds(timestamps: ArrayLike) -> F64:
    arr = np.asarray(timestamps)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype("datetime64[ms]").astype(np.int64).astype(np.float64) / 1000.0
    return arr.astype(np.float64)


def score_series_detailed(
    timestamps: ArrayLike,
    values: ArrayLike,
    weights: ArrayLike | None = None,
    metric: str | MetricSpec = "rtt_ms",
    *,
    params: DetectorParams = DEFAULT_PARAMS,
    tz: str | None = None,
    score_from: float | None = None,
) -> SeriesScores:
    """Scores, instantaneous scores, status codes, baseline and early scores for one series.

    ``timestamps``: epoch seconds (or ``datetime64``), strictly increasing minutes.
    ``weights``: sessions behind each value (None: unknown).  ``tz``: the region's time
    zone, so daily/weekly cycles follow local time across DST changes.  ``score_from``
    (epoch seconds): samples before it only serve as history (NaN, status ``SKIPPED``), so
    a job can pass the last weeks of rollups and pay only for the newest minutes; the
    scores it returns are the same as a full run's.
    """
    spec = metric if isinstance(metric, MetricSpec) else get_metric(metric)
    ts = _as_seconds(timestamps)
    vals = np.asarray(values, dtype=np.float64)
    wts = (
        np.full(len(vals), np.nan)
        if weights is None
        else np.asarray(weights, dtype=np.float64).copy()
    )
    if ts.ndim != 1 or vals.shape != ts.shape or wts.shape != ts.shape:
        raise ValueError("timestamps, values and weights must be 1-D and of equal length")
    size = len(ts)
    if size == 0:
        empty = np.zeros(0)
        return SeriesScores(empty, empty.copy(), np.zeros(0, np.int8), empty.copy(), empty.copy())
    if not np.all(np.isfinite(ts)):
        raise ValueError("timestamps must be finite")
    step = params.step_s
    minute = np.floor(ts / step).astype(np.int64)
    if np.any(np.diff(minute) <= 0):
        raise ValueError("timestamps must be strictly increasing, at most one per step")
    x_s, w_s, nodata = _prepare(vals, wts, spec)

    if spec.worse == "none":
        scores = np.where(nodata, np.nan, 0.0)
        status = np.where(nodata, NO_DATA, NOT_SCORED).astype(np.int8)
        if score_from is not None:
            skip = ts < math.floor(float(score_from) / step) * step
            scores[skip] = np.nan
            status[skip] = SKIPPED
        return SeriesScores(scores, scores.copy(), status, np.full(size, np.nan), scores.copy())

    per_hour = params.per_hour
    first_hour = int(minute[0] // per_hour)
    last_hour = int(minute[-1] // per_hour)
    n_hours = last_hour - first_hour + 1
    grid_x = np.full(n_hours * per_hour, np.nan)
    grid_w = np.full(n_hours * per_hour, np.nan)
    pos = minute - first_hour * per_hour
    grid_x[pos] = x_s
    grid_w[pos] = w_s
    med, mad, nmed = _hour_summaries(
        grid_x.reshape(n_hours, per_hour),
        grid_w.reshape(n_hours, per_hour),
        params.min_hour_samples,
        spec.is_rate,
    )

    offsets = _Offsets(tz)
    # Baselines are needed for the hour-centre before and after each minute.
    hours = np.arange(first_hour - 1, last_hour + 2, dtype=np.int64)

    def gather(lags: Sequence[int]) -> tuple[F64, F64, F64]:
        cols = [_ref_hours(hours, offsets, lag) - first_hour for lag in lags]
        idx = np.stack(cols, axis=1) if cols else np.zeros((len(hours), 0), np.int64)
        inside = (idx >= 0) & (idx < n_hours)
        safe = np.clip(idx, 0, max(n_hours - 1, 0))
        return (
            np.where(inside, med[safe], np.nan),
            np.where(inside, mad[safe], np.nan),
            np.where(inside, nmed[safe], np.nan),
        )

    daily_lags = [DAY_H * d for d in range(1, params.daily_refs + 1)]
    weekly_lags = [WEEK_H * k for k in range(1, params.weekly_refs + 1)]
    daily_h = _baseline(*gather(daily_lags), params.min_daily_refs)
    weekly_h = _baseline(*gather(weekly_lags), 1)

    m_win, n_big = params.persist_m, params.persist_n
    look = params.lookback_minutes
    lo_out = lo_inst = 0
    if score_from is not None:
        from_minute = math.floor(float(score_from) / step)
        lo_out = int(np.searchsorted(minute, from_minute))
        lo_inst = int(np.searchsorted(minute, from_minute - (look - 1)))
    part = slice(lo_inst, size)

    t = minute[part].astype(np.float64) * step
    centre = np.floor((t - HOUR_S / 2) / HOUR_S).astype(np.int64)
    frac = (t - HOUR_S / 2 - centre.astype(np.float64) * HOUR_S) / HOUR_S
    i0 = centre - (first_hour - 1)
    daily = _interp(daily_h[i0], daily_h[i0 + 1], frac)
    weekly = _interp(weekly_h[i0], weekly_h[i0 + 1], frac)

    inst = np.full(size, np.nan)
    early = np.full(size, np.nan)
    inst[part], early[part] = _instant(x_s[part], w_s[part], daily, weekly, spec, params)
    inst[nodata] = np.nan
    early[nodata] = np.nan

    # Persistence (N-th largest of the last M minutes) and drift (the last drift_window
    # minutes) on the dense minute grid.
    dense = np.zeros(n_hours * per_hour + look - 1)
    dense[pos + look - 1] = np.nan_to_num(inst, nan=0.0)
    windows = np.lib.stride_tricks.sliding_window_view(dense, look)[pos[lo_out:]]
    combined = _persist(windows[:, look - m_win :], n_big, params.onset_relax)
    if params.drift_window > 0:
        combined = np.maximum(combined, _drift(windows[:, look - params.drift_window :], params))
    scores = np.full(size, np.nan)
    scores[lo_out:] = np.where(np.isnan(inst[lo_out:]), np.nan, combined)

    status = np.full(size, OK, dtype=np.int8)
    status[np.isnan(inst)] = WARMING_UP
    status[nodata] = NO_DATA
    status[:lo_out] = SKIPPED
    level = np.full(size, np.nan)
    level[part] = daily[:, 0] * spec.scale if spec.is_rate else daily[:, 0]
    return SeriesScores(scores, inst, status, level, early)


def score_series(
    timestamps: ArrayLike,
    values: ArrayLike,
    weights: ArrayLike | None = None,
    metric: str | MetricSpec = "rtt_ms",
    *,
    params: DetectorParams = DEFAULT_PARAMS,
    tz: str | None = None,
    score_from: float | None = None,
) -> F64:
    """Scores in [0, 1] (NaN: no data or warming up) for one series; the same numbers
    :class:`SeriesDetector` gives sample by sample.  See :func:`score_series_detailed`."""
    return score_series_detailed(
        timestamps, values, weights, metric, params=params, tz=tz, score_from=score_from
    ).scores


# -- streaming -------------------------------------------------------------------------------------


class SeriesDetector:
    """The streaming form: feed samples in time order with :meth:`update`.

    Keeps ``(weekly_refs weeks + 1 day)`` of hour summaries and the current hour's minutes:
    a few kilobytes per series.  ``last_status`` / ``last_instant`` / ``last_baseline`` /
    ``last_early`` describe the latest call.
    """

    def __init__(
        self,
        metric: str | MetricSpec = "rtt_ms",
        params: DetectorParams = DEFAULT_PARAMS,
        tz: str | None = None,
    ) -> None:
        self.spec = metric if isinstance(metric, MetricSpec) else get_metric(metric)
        self.params = params
        self.offsets = _Offsets(tz)
        self._hours: dict[int, tuple[float, float, float]] = {}
        self._cur_hour: int | None = None
        self._cur_x = np.full(params.per_hour, np.nan)
        self._cur_w = np.full(params.per_hour, np.nan)
        self._last_minute: int | None = None
        self._recent: deque[tuple[int, float]] = deque()
        self._base_cache: dict[int, tuple[Row, Row]] = {}
        self._keep_h = WEEK_H * max(params.weekly_refs, 1) + DAY_H * (params.daily_refs + 2)
        self.last_status = NO_DATA
        self.last_instant = math.nan
        self.last_early = math.nan
        self.last_baseline = math.nan

    # hour bookkeeping
    def _close_hour(self) -> None:
        if self._cur_hour is None:
            return
        med, mad, nmed = _hour_summaries(
            self._cur_x[None, :],
            self._cur_w[None, :],
            self.params.min_hour_samples,
            self.spec.is_rate,
        )
        self._hours[self._cur_hour] = (float(med[0]), float(mad[0]), float(nmed[0]))
        self._cur_x[:] = np.nan
        self._cur_w[:] = np.nan
        horizon = self._cur_hour - self._keep_h
        for old in [h for h in self._hours if h < horizon]:
            del self._hours[old]

    def _baselines(self, hour: int) -> tuple[Row, Row]:
        cached = self._base_cache.get(hour)
        if cached is not None:
            return cached
        p = self.params
        hours = np.array([hour], dtype=np.int64)

        def gather(lags: Sequence[int]) -> tuple[F64, F64, F64]:
            refs = [int(_ref_hours(hours, self.offsets, lag)[0]) for lag in lags]
            rows = [self._hours.get(h, (math.nan, math.nan, math.nan)) for h in refs]
            arr = np.array(rows, dtype=np.float64).reshape(len(refs), 3)
            return arr[None, :, 0], arr[None, :, 1], arr[None, :, 2]

        daily = _baseline(
            *gather([DAY_H * d for d in range(1, p.daily_refs + 1)]), p.min_daily_refs
        )
        weekly = _baseline(*gather([WEEK_H * k for k in range(1, p.weekly_refs + 1)]), 1)
        d = [float(v) for v in daily[0]]
        w = [float(v) for v in weekly[0]]
        rows = ((d[0], d[1], d[2], d[3]), (w[0], w[1], w[2], w[3]))
        self._base_cache[hour] = rows
        if len(self._base_cache) > 8:
            for old in sorted(self._base_cache)[:-4]:
                del self._base_cache[old]
        return rows

    def update(self, ts: float, value: float, weight: float | None = None) -> float:
        """Score the sample of minute ``ts`` (epoch seconds); NaN when there is nothing to
        judge (see ``last_status``).  Samples must come in strictly increasing minutes."""
        p = self.params
        minute = math.floor(float(ts) / p.step_s)
        if self._last_minute is not None and minute <= self._last_minute:
            raise ValueError("samples must arrive in strictly increasing minutes")
        self._last_minute = minute
        hour = minute // p.per_hour
        if hour != self._cur_hour:
            self._close_hour()
            self._cur_hour = hour
        x = float(value)
        w = math.nan if weight is None else float(weight)
        if self.spec.is_rate and not math.isnan(x):
            x = min(max(x / self.spec.scale, 0.0), 1.0)
        nodata = math.isnan(x) or w <= 0
        if nodata:
            x = w = math.nan
        self._cur_x[minute - hour * p.per_hour] = x
        self._cur_w[minute - hour * p.per_hour] = w

        if self.spec.worse == "none":
            self.last_status = NO_DATA if nodata else NOT_SCORED
            self.last_instant = math.nan if nodata else 0.0
            self.last_early = self.last_instant
            self.last_baseline = math.nan
            return self.last_instant

        t = float(minute) * p.step_s
        c = math.floor((t - HOUR_S / 2) / HOUR_S)
        frac = (t - HOUR_S / 2 - float(c) * HOUR_S) / HOUR_S
        d0, w0 = self._baselines(c)
        d1, w1 = self._baselines(c + 1)
        daily = _interp1(d0, d1, frac)
        weekly = _interp1(w0, w1, frac)
        inst_v, early_v = (
            (math.nan, math.nan) if nodata else _instant1(x, w, daily, weekly, self.spec, p)
        )

        look = p.lookback_minutes
        self._recent.append((minute, 0.0 if math.isnan(inst_v) else inst_v))
        while self._recent and self._recent[0][0] <= minute - look:
            self._recent.popleft()
        window = [0.0] * look
        for m, v in self._recent:
            window[look - 1 - (minute - m)] = v
        persisted = _persist1(window[look - p.persist_m :], p.persist_n, p.onset_relax)
        if p.drift_window > 0:
            row = np.array([window[look - p.drift_window :]], dtype=np.float64)
            persisted = max(persisted, float(_drift(row, p)[0]))

        level = daily[0]
        self.last_baseline = level * self.spec.scale if self.spec.is_rate else level
        self.last_instant = inst_v
        self.last_early = early_v
        if nodata:
            self.last_status = NO_DATA
            return math.nan
        if math.isnan(inst_v):
            self.last_status = WARMING_UP
            return math.nan
        self.last_status = OK
        return persisted


def describe_status(code: int) -> str:
    return STATUS_NAMES.get(int(code), "unknown")
