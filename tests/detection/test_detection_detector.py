"""The per-series detector: streaming equals batch, strict causality, seasonality in local
time, volume-aware rates, gaps, direction and persistence."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaydesk.detection import (
    NO_DATA,
    NOT_SCORED,
    OK,
    QUALITY_METRICS,
    SKIPPED,
    WARMING_UP,
    DetectorParams,
    SeriesDetector,
    get_metric,
    score_series,
    score_series_detailed,
)
from relaydesk.detection.generator import generate

T0 = datetime(2026, 10, 5, tzinfo=UTC).timestamp()  # a Monday
DAY = 86400


def grid(days: float, start: float = T0, step: int = 60) -> np.ndarray:
    return start + step * np.arange(int(days * DAY / step), dtype=np.float64)


def bump(ts: np.ndarray, centre_h: float, width_h: float) -> np.ndarray:
    h = (ts % DAY) / 3600.0
    d = np.abs(((h - centre_h + 12) % 24) - 12)
    return np.exp(-0.5 * (d / width_h) ** 2)


def stream(
    ts: np.ndarray, vals: np.ndarray, wts: np.ndarray | None, metric: str, **kw: object
) -> tuple[np.ndarray, np.ndarray]:
    out, status, _ = stream_detailed(ts, vals, wts, metric, **kw)
    return out, status


def stream_detailed(
    ts: np.ndarray, vals: np.ndarray, wts: np.ndarray | None, metric: str, **kw: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, status codes and early scores of the streaming detector, sample by sample."""
    det = SeriesDetector(metric, **kw)  # type: ignore[arg-type]
    out = np.empty(len(ts))
    status = np.empty(len(ts), dtype=np.int8)
    early = np.empty(len(ts))
    for i in range(len(ts)):
        out[i] = det.update(ts[i], vals[i], None if wts is None else wts[i])
        status[i] = det.last_status
        early[i] = det.last_early
    return out, status, early


def flat_rtt(days: float, seed: int = 0, level: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = grid(days)
    return ts, level * np.exp(rng.normal(0, 0.03, len(ts)))


# -- streaming == batch, causality ---------------------------------------------------------------


def test_streaming_equals_batch_bit_for_bit_on_generated_telemetry() -> None:
    tel = generate(seed=5, days=8, regions=("id",))
    picked = {"rtt_ms", "join_success_rate", "video_freeze_rate", "concurrent_users"}
    checked = 0
    nonzero = 0
    for (_, _, car, met), vals, wts in tel.series():
        if car != "XL" or met not in picked:
            continue
        batch = score_series_detailed(tel.timestamps, vals, wts, met, tz="Asia/Jakarta")
        s, status, early = stream_detailed(tel.timestamps, vals, wts, met, tz="Asia/Jakarta")
        np.testing.assert_array_equal(s, batch.scores)  # NaN == NaN here, bit-exact otherwise
        np.testing.assert_array_equal(status, batch.status)
        np.testing.assert_array_equal(early, batch.early)
        checked += 1
        nonzero += int(np.nansum(batch.scores > 0) > 0)
    assert checked == 4 and nonzero >= 2  # incidents and noise really produced scores


COARSE = DetectorParams(step_s=600, min_hour_samples=2, daily_refs=3, weekly_refs=1)


@st.composite
def coarse_series(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    metric = draw(st.sampled_from(QUALITY_METRICS))
    spec = get_metric(metric)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(200, 700))
    ts = T0 + 600 * np.arange(n, dtype=np.float64)
    keep = rng.random(n) > draw(st.sampled_from([0.0, 0.05, 0.3]))
    ts = ts[keep]
    base = spec.hi * 0.02 if spec.is_rate else 100.0
    if spec.worse == "lower" and spec.is_rate:
        base = spec.scale * 0.97
    vals = base * (1 + 0.3 * bump(ts, 21, 2)) * np.exp(rng.normal(0, 0.05, len(ts)))
    spikes = rng.random(len(ts)) < 0.05
    vals = np.where(spikes, vals * rng.uniform(0.2, 4.0, len(ts)), vals)
    vals = np.clip(vals, spec.lo, spec.hi)
    vals[rng.random(len(ts)) < 0.03] = np.nan
    weights = None
    if draw(st.booleans()):
        weights = rng.integers(0, 500, len(ts)).astype(np.float64)
    return ts, vals, weights, metric


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(coarse_series())
def test_streaming_equals_batch_property(
    case: tuple[np.ndarray, np.ndarray, np.ndarray | None, str],
) -> None:
    ts, vals, wts, metric = case
    batch = score_series_detailed(ts, vals, wts, metric, params=COARSE)
    s, _, early = stream_detailed(ts, vals, wts, metric, params=COARSE)
    np.testing.assert_array_equal(s, batch.scores)
    np.testing.assert_array_equal(early, batch.early)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(coarse_series(), st.floats(0.1, 0.95), st.integers(0, 2**32 - 1))
def test_changing_the_future_never_changes_past_scores(
    case: tuple[np.ndarray, np.ndarray, np.ndarray | None, str], cut_frac: float, seed: int
) -> None:
    ts, vals, wts, metric = case
    before_all = score_series_detailed(ts, vals, wts, metric, params=COARSE)
    before = before_all.scores
    cut = int(len(ts) * cut_frac)
    rng = np.random.default_rng(seed)
    spec = get_metric(metric)
    future = vals.copy()
    future[cut + 1 :] = rng.uniform(spec.lo, min(spec.hi, 10_000.0), len(ts) - cut - 1)
    w2 = None if wts is None else wts.copy()
    if w2 is not None:
        w2[cut + 1 :] = rng.integers(0, 5, len(ts) - cut - 1)
    after_all = score_series_detailed(ts, future, w2, metric, params=COARSE)
    after = after_all.scores
    np.testing.assert_array_equal(after[: cut + 1], before[: cut + 1])
    np.testing.assert_array_equal(after_all.early[: cut + 1], before_all.early[: cut + 1])
    # ...and dropping the future altogether gives the same past too
    truncated = score_series(
        ts[: cut + 1],
        vals[: cut + 1],
        None if wts is None else wts[: cut + 1],
        metric,
        params=COARSE,
    )
    np.testing.assert_array_equal(truncated, before[: cut + 1])


# -- seasonality -------------------------------------------------------------------------------------


def test_a_normal_evening_peak_does_not_alarm_but_a_worse_evening_does() -> None:
    rng = np.random.default_rng(1)
    ts = grid(10)
    vals = (40 + 220 * bump(ts, 21, 2)) * np.exp(rng.normal(0, 0.03, len(ts)))
    tol = get_metric("rtt_ms").min_abs
    # A flat baseline would flag every evening: the peak is far above the usual level.
    assert np.percentile(vals, 99) - np.median(vals) > 2 * tol
    r = score_series_detailed(ts, vals, None, "rtt_ms")
    scored = ts >= T0 + 2 * DAY
    assert np.all(np.isfinite(r.scores[scored]))
    assert np.nanmax(r.scores[scored]) < 0.5

    worse = vals.copy()
    evening = (ts >= T0 + 9 * DAY + 20.5 * 3600) & (ts < T0 + 9 * DAY + 21 * 3600)
    worse[evening] += 250
    r2 = score_series_detailed(ts, worse, None, "rtt_ms")
    assert np.nanmax(r2.scores[evening]) >= 0.5
    np.testing.assert_array_equal(
        r2.scores[~evening & (ts < T0 + 9 * DAY + 20.5 * 3600)],
        r.scores[~evening & (ts < T0 + 9 * DAY + 20.5 * 3600)],
    )


def test_weekly_profile_learns_the_saturday_evening() -> None:
    rng = np.random.default_rng(2)
    ts = grid(21)
    weekday = ((np.floor(ts / DAY).astype(int)) + 3) % 7
    peak = np.where(weekday == 5, 400.0, 60.0)
    vals = (40 + peak * bump(ts, 21, 1.5)) * np.exp(rng.normal(0, 0.03, len(ts)))
    r = score_series(ts, vals, None, "rtt_ms")

    def saturday_evening(week: int) -> np.ndarray:
        day0 = T0 + (5 + 7 * week) * DAY
        return (ts >= day0 + 19 * 3600) & (ts < day0 + 23 * 3600)

    # The first Saturday has no same-weekday history: it looks odd against the week days.
    assert np.nanmax(r[saturday_evening(0)]) >= 0.5
    # From the second one on, the weekly profile knows Saturday evenings.
    assert np.nanmax(r[saturday_evening(1)]) < 0.5
    assert np.nanmax(r[saturday_evening(2)]) < 0.5


def test_daily_cycle_follows_local_time_across_a_dst_change() -> None:
    start = datetime(2026, 10, 15, tzinfo=UTC).timestamp()
    ts = grid(16, start=start)
    rng = np.random.default_rng(3)
    berlin = ZoneInfo("Europe/Berlin")
    hours = np.floor((ts - start) / 3600).astype(int)
    offsets = [
        datetime.fromtimestamp(start + 3600 * h, UTC).astimezone(berlin).utcoffset()
        for h in range(hours.max() + 1)
    ]
    off = np.array([o.total_seconds() if o else 0.0 for o in offsets])[hours]
    local_ts = ts + off
    vals = (40 + 400 * bump(local_ts, 21, 1.5)) * np.exp(rng.normal(0, 0.03, len(ts)))
    after = ts >= datetime(2026, 10, 26, tzinfo=UTC).timestamp()  # CEST -> CET on Oct 25
    local = score_series(ts, vals, None, "rtt_ms", tz="Europe/Berlin")
    utc = score_series(ts, vals, None, "rtt_ms")
    assert np.nanmax(local[after]) < 0.5
    assert np.nanmax(utc[after]) >= 0.5  # a UTC-only profile is an hour off after the change


# -- volume ----------------------------------------------------------------------------------------


def _joins(days: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = grid(days)
    h = (ts % DAY) / 3600
    n = np.where((h >= 2) & (h < 6), 12, 2000).astype(np.float64)
    ok = rng.binomial(n.astype(int), 0.985)
    return ts, ok / n, n


def test_three_failures_out_of_twelve_at_night_do_not_alarm() -> None:
    ts, vals, n = _joins(4, seed=4)
    night = (ts >= T0 + 3 * DAY + 3 * 3600) & (ts < T0 + 3 * DAY + 3 * 3600 + 300)
    vals[night] = 9 / 12
    r = score_series(ts, vals, n, "join_success_rate")
    assert np.all(np.isfinite(r[night])) and np.max(r[night]) < 0.5
    # the same rate with 2,000 joins behind it is an incident
    day = (ts >= T0 + 3 * DAY + 12 * 3600) & (ts < T0 + 3 * DAY + 12 * 3600 + 300)
    vals[day] = 0.75
    r = score_series(ts, vals, n, "join_success_rate")
    assert np.max(r[day]) >= 0.5


def test_rtt_from_a_handful_of_sessions_needs_a_bigger_deviation() -> None:
    ts, vals = flat_rtt(4, seed=5)
    rng = np.random.default_rng(5)
    w = np.full(len(ts), 1000.0)
    vals = vals + rng.normal(0, 8, len(ts))  # sampling noise at the usual volume
    idx = np.flatnonzero(ts >= T0 + 3 * DAY + 10 * 3600)[:3]
    vals[idx] = 150.0
    busy = score_series(ts, vals, w, "rtt_ms")
    w_quiet = w.copy()
    w_quiet[idx] = 3.0
    quiet = score_series(ts, vals, w_quiet, "rtt_ms")
    assert busy[idx[-1]] >= 0.5
    assert quiet[idx[-1]] < busy[idx[-1]]


# -- gaps and no data ----------------------------------------------------------------------------


def test_no_data_is_nan_with_a_status_never_zero() -> None:
    ts, vals = flat_rtt(4, seed=6)
    w = np.full(len(ts), 100.0)
    vals[5000] = np.nan
    w[5001] = 0.0
    r = score_series_detailed(ts, vals, w, "rtt_ms")
    assert math.isnan(r.scores[5000]) and r.status[5000] == NO_DATA
    assert math.isnan(r.scores[5001]) and r.status[5001] == NO_DATA
    # the first day has no history: warming up, also NaN
    assert np.all(np.isnan(r.scores[:1440])) and np.all(r.status[:1440] == WARMING_UP)
    later = np.ones(len(ts), bool)
    later[: 2 * 1440] = False
    later[[5000, 5001]] = False
    assert np.all(np.isfinite(r.scores[later])) and np.all(r.status[later] == OK)


def test_missing_minutes_and_a_missing_day_are_tolerated() -> None:
    ts, vals = flat_rtt(6, seed=7)
    keep = ~((ts >= T0 + 2 * DAY) & (ts < T0 + 3 * DAY))  # a whole day missing
    keep &= ~((ts >= T0 + 4 * DAY + 3600) & (ts < T0 + 4 * DAY + 4 * 3600))  # 3 hours
    ts, vals = ts[keep], vals[keep]
    r = score_series_detailed(ts, vals, None, "rtt_ms")
    after = ts >= T0 + 4 * DAY
    assert np.all(np.isfinite(r.scores[after])) and np.nanmax(r.scores[after]) < 0.5
    s, _ = stream(ts[after.argmax() - 3000 :], vals[after.argmax() - 3000 :], None, "rtt_ms")
    assert s.shape == (3000 + int(after.sum()),)


# -- direction -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "usual", "better", "worse"),
    [
        ("rtt_ms", 50.0, 5.0, 400.0),
        ("jitter_ms", 8.0, 0.5, 60.0),
        ("bitrate_kbps", 1500.0, 4000.0, 500.0),
        ("packet_loss_pct", 0.5, 0.0, 12.0),
        ("join_success_rate", 0.985, 1.0, 0.80),
        ("video_freeze_rate", 0.012, 0.0, 0.15),
    ],
)
def test_only_the_worse_direction_counts(
    metric: str, usual: float, better: float, worse: float
) -> None:
    rng = np.random.default_rng(8)
    ts = grid(4)
    vals = usual * np.exp(rng.normal(0, 0.02, len(ts)))
    if get_metric(metric).is_rate:
        vals = np.clip(vals, 0, get_metric(metric).scale)
    w = np.full(len(ts), 3000.0)
    window = (ts >= T0 + 3 * DAY + 12 * 3600) & (ts < T0 + 3 * DAY + 12 * 3600 + 600)
    good = vals.copy()
    good[window] = better
    bad = vals.copy()
    bad[window] = worse
    assert np.nanmax(score_series(ts, good, w, metric)[window]) == 0.0
    assert np.nanmax(score_series(ts, bad, w, metric)[window]) >= 0.9


# -- persistence -------------------------------------------------------------------------------------


def test_persistence_n_of_m() -> None:
    ts, vals = flat_rtt(4, seed=9)
    i = int(np.flatnonzero(ts >= T0 + 3 * DAY + 12 * 3600)[0])

    def scores_with(bad_offsets: list[int]) -> np.ndarray:
        v = vals.copy()
        for k in bad_offsets:
            v[i + k] = 400.0
        return score_series(ts, v, None, "rtt_ms")[i : i + 6]

    one = scores_with([0])
    assert one.max() < 0.5  # one odd minute never scores
    two = scores_with([0, 1])
    assert two[0] < 0.5 and two[1] >= 0.9  # 2 of 3
    gap = scores_with([0, 2])
    assert gap[1] < 0.5 and gap[2] >= 0.9  # bad, fine, bad: still 2 of the last 3
    apart = scores_with([0, 3])
    assert apart.max() < 0.5  # too far apart


def test_a_partly_bad_onset_minute_counts_toward_persistence() -> None:
    ts, vals = flat_rtt(4, seed=10)
    i = int(np.flatnonzero(ts >= T0 + 3 * DAY + 12 * 3600)[0])
    v = vals.copy()
    v[i] = 50.0 + 60.0  # the incident began late in this minute: a bit worse
    v[i + 1] = 400.0
    r = score_series_detailed(ts, v, None, "rtt_ms")
    assert 0.1 < r.instant[i] < 0.5
    assert r.scores[i + 1] >= 0.9
    strict = score_series(
        ts, v, None, "rtt_ms", params=DetectorParams(onset_relax=1.0, drift_window=0)
    )
    assert strict[i + 1] < 0.5


def test_a_real_but_small_shift_shows_in_the_early_score_only() -> None:
    ts, vals = flat_rtt(4, seed=11)  # ~50 ms, 3 % minute noise: sigma ~1.5 ms
    i = int(np.flatnonzero(ts >= T0 + 3 * DAY + 12 * 3600)[0])
    v = vals.copy()
    v[i : i + 30] += 20.0  # many sigmas, but a quarter of the user-visible 80 ms
    r = score_series_detailed(ts, v, None, "rtt_ms")
    assert np.all(r.early[i : i + 30] >= 0.9)
    assert np.all(r.instant[i : i + 30] < 0.2)
    assert np.nanmax(r.scores[i : i + 30]) < 0.5  # the early score never raises the score
    np.testing.assert_array_equal(r.scores, score_series(ts, v, None, "rtt_ms"))
    normal = score_series_detailed(ts, vals, None, "rtt_ms").early[2 * 1440 :]
    assert np.mean(normal >= 0.3) < 0.01  # ordinary minutes rarely reach it
    # its floor: a share of the user-visible minimum (an exactly flat series is not
    # infinitely sensitive)
    flat = np.full(len(ts), 50.0)
    flat[i] = 50.0 + 4.0
    e = score_series_detailed(ts, flat, None, "rtt_ms").early[i]
    assert e == pytest.approx(4.0 / (0.1 * 80.0) / 2)
    with pytest.raises(ValueError, match="early_fraction"):
        DetectorParams(early_fraction=0.0)


# -- load, errors ------------------------------------------------------------------------------------


def test_concurrent_users_is_never_an_anomaly_but_gaps_still_show() -> None:
    ts = grid(3)
    vals = 1000 + 900 * bump(ts, 21, 2)
    vals[100] = np.nan
    r = score_series_detailed(ts, vals, None, "concurrent_users")
    assert math.isnan(r.scores[100]) and r.status[100] == NO_DATA
    rest = np.delete(r.scores, 100)
    assert np.all(rest == 0.0) and np.all(np.delete(r.status, 100) == NOT_SCORED)


def test_bad_input_is_refused() -> None:
    ts, vals = flat_rtt(1)
    with pytest.raises(ValueError, match="increasing"):
        score_series(ts[::-1], vals)
    with pytest.raises(ValueError, match="increasing"):
        score_series(np.array([T0, T0 + 30.0]), np.array([1.0, 2.0]))  # same minute twice
    with pytest.raises(ValueError, match="equal length"):
        score_series(ts, vals[:-1])
    with pytest.raises(KeyError):
        score_series(ts, vals, metric="latency")
    det = SeriesDetector("rtt_ms")
    det.update(T0 + 120, 50.0)
    with pytest.raises(ValueError, match="increasing"):
        det.update(T0 + 60, 50.0)
    assert score_series(np.array([]), np.array([])).shape == (0,)
    with pytest.raises(ValueError):
        DetectorParams(persist_n=4, persist_m=3)


def test_datetime64_timestamps_are_accepted() -> None:
    ts, vals = flat_rtt(3)
    as_dt = (ts * 1000).astype("int64").astype("datetime64[ms]")
    np.testing.assert_array_equal(score_series(as_dt, vals), score_series(ts, vals))


def test_score_from_scores_only_the_tail_and_agrees_with_a_full_run() -> None:
    tel = generate(seed=6, days=9, regions=("br",))
    cut = tel.timestamps[-1] - 3 * 3600 + 17
    for (_, _, car, met), vals, wts in tel.series():
        if car != "Vivo":
            continue
        full = score_series_detailed(tel.timestamps, vals, wts, met, tz="America/Sao_Paulo")
        tail = score_series_detailed(
            tel.timestamps, vals, wts, met, tz="America/Sao_Paulo", score_from=cut
        )
        after = tel.timestamps >= np.floor(cut / 60) * 60
        np.testing.assert_array_equal(tail.scores[after], full.scores[after])
        np.testing.assert_array_equal(tail.status[after], full.status[after])
        assert np.all(np.isnan(tail.scores[~after])) and np.all(tail.status[~after] == SKIPPED)


# -- drift (slow ramps) ------------------------------------------------------------------------------


def _ramp(vals: np.ndarray, start: int, minutes: int, rise: float) -> np.ndarray:
    """``vals`` plus a linear rise of ``rise`` reached ``minutes`` after index ``start``."""
    k = np.arange(len(vals)) - start
    return vals + np.where(k >= 0, np.clip((k + 1) / minutes, 0.0, 1.0) * rise, 0.0)


def test_a_gradual_ramp_is_flagged_within_minutes_and_sooner_than_by_level_alone() -> None:
    ts, vals = flat_rtt(4, seed=11)
    i = int(np.flatnonzero(ts >= T0 + 3 * DAY + 12 * 3600)[0])
    v = _ramp(vals, i, 20, 300.0)  # +300 ms over 20 minutes, from 50 ms
    with_drift = score_series(ts, v, None, "rtt_ms")
    level_only = score_series(ts, v, None, "rtt_ms", params=DetectorParams(drift_window=0))
    assert np.max(with_drift[i - 60 : i]) < 0.5  # quiet before it
    first = int(np.argmax(with_drift[i:] >= 0.9))
    first_level = int(np.argmax(level_only[i:] >= 0.9))
    assert with_drift[i + first] >= 0.9 and first <= 7  # within 8 minutes of the ramp start
    assert first_level >= first + 3  # the level test alone waits until it is much worse
    # the drift ends with the problem: back to normal -> back to a low score at once
    back = v.copy()
    back[i + first + 1 :] = vals[i + first + 1 :]
    after = score_series(ts, back, None, "rtt_ms")
    assert np.max(after[i + first + 2 : i + first + 30]) < 0.5


def test_scattered_odd_minutes_do_not_add_up_to_a_drift() -> None:
    ts, vals = flat_rtt(4, seed=12)
    i = int(np.flatnonzero(ts >= T0 + 3 * DAY + 12 * 3600)[0])
    v = vals.copy()
    v[i : i + 60 : 4] = 400.0  # one very bad minute in every four, for an hour
    assert np.max(score_series(ts, v, None, "rtt_ms")[i : i + 70]) < 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quiet_night_hours_of_a_dozen_joins_do_not_alarm(seed: int) -> None:
    ts, vals, n = _joins(6, seed=seed)  # 12 joins a minute from 02:00 to 06:00
    r = score_series(ts, vals, n, "join_success_rate")
    scored = ts >= T0 + 3 * DAY
    assert np.all(np.isfinite(r[scored])) and np.max(r[scored]) < 0.5


def test_drift_scores_are_the_same_streaming_batch_and_from_a_cut() -> None:
    ts, vals = flat_rtt(9, seed=13)
    i = int(np.flatnonzero(ts >= T0 + 8 * DAY + 9 * 3600)[0])
    v = _ramp(vals, i, 25, 200.0)
    v[i + 40 : i + 45] = np.nan  # a gap inside the drift window
    batch = score_series(ts, v, None, "rtt_ms")
    assert np.nanmax(batch[i : i + 30]) >= 0.9
    s, _ = stream(ts, v, None, "rtt_ms")
    np.testing.assert_array_equal(s, batch)
    cut = ts[i + 10] + 7  # inside the ramp: the drift needs the minutes before the cut
    tail = score_series(ts, v, None, "rtt_ms", score_from=cut)
    after = ts >= ts[i + 10]
    np.testing.assert_array_equal(tail[after], batch[after])
    assert np.all(np.isnan(tail[~after]))


def test_drift_params_are_checked() -> None:
    assert DetectorParams().lookback_minutes == 20
    assert DetectorParams(drift_window=0).lookback_minutes == 3
    with pytest.raises(ValueError, match="drift"):
        DetectorParams(drift_span=0.0)
    with pytest.raises(ValueError, match="drift"):
        DetectorParams(drift_ref=0.6, drift_cap=0.5)
