"""The pure report arithmetic: quantisation, percentiles from histograms, outcomes, and the
viewer's calendar across time zones and DST."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relaydesk.reports import stats


def test_quantise_keeps_small_values_and_three_digits() -> None:
    assert stats.quantise(None) is None
    assert stats.quantise(0) == 0
    assert stats.quantise(999) == 999
    assert stats.quantise(1000) == 1000
    assert stats.quantise(1234) == 1230
    assert stats.quantise(1235) == 1240
    assert stats.quantise(86_400) == 86_400
    assert stats.quantise(123_456_789) == 123_000_000


@given(st.integers(min_value=0, max_value=10**9))
def test_quantise_error_is_at_most_half_a_percent(x: int) -> None:
    q = stats.quantise(x)
    assert q is not None
    assert abs(q - x) <= max(0.005 * x, 0)


def test_hist_percentiles_known_values() -> None:
    # FRTs of 2, 4, 6, 8, 10 minutes: median 6 min, p90 at rank 3.6 -> 8 + 0.6 * 2 = 9.2 min.
    values = [120, 240, 360, 480, 600]
    med, p90, p95 = stats.hist_percentiles(values, [1] * 5)
    assert med == 360
    assert p90 == pytest.approx(552)
    assert p95 == pytest.approx(576)
    # Counts stand for repeated values, in any order.
    assert stats.hist_percentiles([600, 60], [1, 3], [50, 100]) == [60, 600]
    assert stats.hist_percentiles([], []) == [None, None, None]
    with pytest.raises(ValueError):
        stats.hist_percentiles([1], [1], [101])


@settings(max_examples=60)
@given(st.lists(st.integers(min_value=0, max_value=50_000), min_size=1, max_size=300))
def test_hist_percentiles_equal_numpy_on_the_raw_values(raw: list[int]) -> None:
    h = stats.Histogram.empty()
    for v in raw:
        h.add(v, 1)
    got = h.percentiles((0, 25, 50, 90, 95, 100))
    want = np.percentile(np.array(raw, dtype=float), [0, 25, 50, 90, 95, 100])
    assert got == pytest.approx(list(want))


def test_outcomes() -> None:
    assert stats.outcome("met", 900_000_000, False) == stats.MET
    assert stats.outcome("met", 900_000_000, True) == stats.LATE
    assert stats.outcome("running", 900_000_000, True) == stats.BREACHED
    assert stats.outcome("stopped", 900_000_000, True) == stats.BREACHED
    assert stats.outcome("running", 900_000_000, False) == stats.PENDING
    assert stats.outcome("paused", 900_000_000, False) == stats.PENDING
    assert stats.outcome("stopped", 900_000_000, False) == stats.NO_TARGET
    assert stats.outcome("met", None, False) == stats.NO_TARGET
    assert stats.compliance_pct(3, 1, 0) == 75.0
    assert stats.compliance_pct(0, 0, 0) is None


def test_measure_wall_and_business() -> None:
    created = 1_000_000_000_000_000
    clock = stats.ClockColumns("met", 900_000_000, 300_000_000, created + 3_600_000_000, False)
    m = stats.measure(clock, created, created + 3_600_000_000)
    assert (m.wall_s, m.business_s, m.target_s, m.outcome) == (3600, 300, 900, stats.MET)
    running = stats.ClockColumns("running", 900_000_000, 0, None, False)
    assert stats.measure(running, created, None).wall_s is None


def test_hour_of_week_counts_from_monday() -> None:
    # 2026-03-02 is a Monday.
    monday = int(datetime(2026, 3, 2, 0, 0, tzinfo=UTC).timestamp())
    assert stats.hour_of_week(monday, 0) == 0
    assert stats.hour_of_week(monday + 3600 * 167, 0) == 167
    assert stats.hour_of_week(monday + 3600 * 168, 0) == 0
    assert stats.hour_of_week(monday, -3600) == 167  # Sunday 23:00 one hour west


@settings(max_examples=200)
@given(
    st.integers(min_value=0, max_value=3 * 365 * 86400),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/Sao_Paulo", "UTC"]),
)
def test_hour_of_week_in_a_zone_matches_the_local_clock(offset: int, name: str) -> None:
    tz = ZoneInfo(name)
    t = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) + offset
    local = datetime.fromtimestamp(t, UTC).astimezone(tz)
    assert stats.hour_of_week_in(t, tz) == local.weekday() * 24 + local.hour


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Singapore"])
def test_offset_segments_cover_the_range_and_match_the_zone(name: str) -> None:
    tz = ZoneInfo(name)
    lo, hi = stats.range_bounds(date(2026, 1, 1), date(2026, 12, 31), tz)
    segs = stats.offset_segments(tz, lo, hi)
    assert segs[0][0] == lo and segs[-1][1] == hi
    for (a, b, off), nxt in zip(segs, [*segs[1:], None], strict=True):
        assert a < b
        if nxt is not None:
            assert nxt[0] == b and nxt[2] != off
        for t in (a, b - 1, (a + b) // 2):
            assert datetime.fromtimestamp(t, UTC).astimezone(tz).utcoffset() == timedelta(seconds=off)
    expected = {"Europe/Berlin": 3, "America/New_York": 3, "Australia/Lord_Howe": 3, "Asia/Singapore": 1}
    assert len(segs) == expected[name]


def test_day_starts_have_23_and_25_hour_days_across_dst() -> None:
    tz = ZoneInfo("Europe/Berlin")
    days = stats.day_starts(date(2026, 3, 28), date(2026, 3, 30), tz)
    lengths = [b[1] - a[1] for a, b in itertools.pairwise(days)]
    assert lengths == [86400, 23 * 3600]
    oct_days = stats.day_starts(date(2026, 10, 24), date(2026, 10, 26), tz)
    assert oct_days[2][1] - oct_days[1][1] == 25 * 3600


def test_backlog_series() -> None:
    ends = [10, 20, 30]
    assert stats.backlog_series(ends, 5, 2, [(0, 2), (2, 1)], [(1, 3)]) == [5, 2, 3]


def test_unknown_zone() -> None:
    with pytest.raises(stats.TimeZoneError, match="Mars/Base"):
        stats.zone("Mars/Base")
