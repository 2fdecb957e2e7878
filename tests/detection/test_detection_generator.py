"""The telemetry generator: deterministic, realistic in shape, honest labels."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bench import detection as bench
from relaydesk.detection import METRICS, validate_sample
from relaydesk.detection.generator import (
    METRIC_GROUPS,
    REGION_BY_CODE,
    _minute_strength,
    generate,
    traffic_profile,
)


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = generate(seed=3, days=2, regions=("sg", "ae"))
    b = generate(seed=3, days=2, regions=("sg", "ae"))
    c = generate(seed=4, days=2, regions=("sg", "ae"))
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.traffic, b.traffic)
    assert a.incidents == b.incidents
    assert not np.array_equal(a.values, c.values, equal_nan=True)


@pytest.fixture(scope="module")
def tel():  # type: ignore[no-untyped-def]
    return generate(seed=7, days=14, incidents_per_week=3.0)


@pytest.mark.parametrize("ramp_s", [0.0, 300.0, 1200.0])
@pytest.mark.parametrize("offset_s", [0.0, 15.0, 45.0])
def test_each_minute_carries_its_exact_share_of_the_incident(
    ramp_s: float, offset_s: float
) -> None:
    ts = 60.0 * np.arange(200, dtype=np.float64)
    start, end = 600.0 + offset_s, 600.0 + offset_s + 5000.0
    s = _minute_strength(ts, start, end, ramp_s)
    # the minutes add up to the incident's area: its length less half the ramp
    assert s.sum() * 60 == pytest.approx(end - start - ramp_s / 2)
    assert np.all((s >= 0) & (s <= 1))
    assert s[9] == 0.0 and s[200 - 1] == 0.0  # before and after
    first = (60.0 - offset_s) / 60.0  # the share of the onset minute inside the incident
    if ramp_s == 0:
        assert s[10] == pytest.approx(first) and s[11] == 1.0
    else:  # the ramp's own onset minute carries the part of the ramp inside it
        assert s[10] == pytest.approx(first * (60.0 - offset_s) / 2 / ramp_s)
        assert s[11] == pytest.approx((90.0 - offset_s) / ramp_s)  # the ramp at mid-minute
        assert np.all(np.diff(s[10:60]) >= 0)


def test_incident_labels_are_consistent(tel) -> None:  # type: ignore[no-untyped-def]
    assert len(tel.incidents) >= 20
    t_end = tel.timestamps[-1] + 60
    for inc in tel.incidents:
        reg = REGION_BY_CODE[inc.region]
        assert tel.start + 3 * 86400 <= inc.start < inc.end <= t_end
        assert inc.metrics == METRIC_GROUPS[inc.group]
        assert set(inc.carriers) <= set(reg.carriers)
        assert (inc.ramp_s > 0) == (inc.kind == "gradual")
        if inc.scope == "region":
            assert set(inc.carriers) == set(reg.carriers) and inc.traffic_share > 0.99
        else:
            expected = sum(reg.shares[reg.carriers.index(c)] for c in inc.carriers)
            assert 0.5 * expected < inc.traffic_share < 1.6 * expected
    by_region: dict[str, list[tuple[float, float]]] = {}
    for inc in tel.incidents:
        by_region.setdefault(inc.region, []).append((inc.start, inc.end))
    for spans in by_region.values():
        spans.sort()
        assert all(b[0] >= a[1] for a, b in pairwise(spans))  # no overlap within a region
    assert {i.scope for i in tel.incidents} == {"carrier", "carriers", "region"}
    assert {i.kind for i in tel.incidents} == {"sudden", "gradual"}


def test_labelled_metrics_really_are_worse_than_the_day_before(tel) -> None:  # type: ignore[no-untyped-def]
    worse = total = 0
    for inc in tel.incidents:
        t0 = inc.start + inc.ramp_s + 60
        if inc.end - t0 < 300:
            continue
        now = (tel.timestamps >= t0) & (tel.timestamps < inc.end - 60)
        before = np.roll(now, -1440)  # the same minutes one day earlier
        for car in inc.carriers:
            for met in inc.metrics:
                idx = tel.index(inc.service, inc.region, car, met)
                v = tel.values[idx]
                a, b = np.nanmean(v[now]), np.nanmean(v[before])
                up = a > b
                total += 1
                worse += int(up if METRICS[met].worse == "higher" else not up)
    assert total > 50 and worse / total > 0.97


def test_traffic_follows_local_time_with_an_evening_peak(tel) -> None:  # type: ignore[no-untyped-def]
    for ri, reg in enumerate(tel.regions):
        users = np.nansum(tel.traffic[0, ri], axis=0)
        zone = ZoneInfo(reg.tz)
        local_h = np.array(
            [datetime.fromtimestamp(t, UTC).astimezone(zone).hour for t in tel.timestamps[::60]]
        )
        hourly = users[::60]
        mean_by_h = np.array([hourly[local_h == h].mean() for h in range(24)])
        assert 19 <= int(np.argmax(mean_by_h)) <= 23, reg.code
        assert 1 <= int(np.argmin(mean_by_h)) <= 6, reg.code
        assert mean_by_h.max() > 5 * mean_by_h.min()


def test_holidays_and_ramadan_change_the_shape() -> None:
    us = REGION_BY_CODE["us"]
    ny = ZoneInfo(us.tz)
    thanksgiving = datetime(2026, 11, 26, 13, tzinfo=ny).timestamp()
    week_before = datetime(2026, 11, 19, 13, tzinfo=ny).timestamp()
    p = traffic_profile(np.array([thanksgiving, week_before]), us)
    assert p[0] > 1.3 * p[1]
    ae = REGION_BY_CODE["ae"]
    dubai = ZoneInfo(ae.tz)

    def at(d: date, h: int, m: int) -> float:
        return datetime(d.year, d.month, d.day, h, m, tzinfo=dubai).timestamp()

    ramadan, normal = date(2026, 3, 3), date(2026, 4, 21)
    p = traffic_profile(
        np.array(
            [at(ramadan, 23, 30), at(ramadan, 20, 30), at(normal, 23, 30), at(normal, 20, 30)]
        ),
        ae,
    )
    assert p[0] > p[1] and p[3] > p[2]


def test_gaps_are_missing_not_zero(tel) -> None:  # type: ignore[no-untyped-def]
    v, w = tel.values, tel.weights
    cu = v[..., tel.metrics.index("concurrent_users"), :]
    assert np.isnan(cu).any()
    js = tel.metrics.index("join_success_rate")
    assert np.all(np.isnan(w[..., js, :]) == np.isnan(v[..., js, :]))
    assert np.nanmin(w[..., js, :]) > 0  # a minute without joins has no rate at all
    # every present value is valid telemetry
    for sample in list(tel.samples(tel.start + 3600, tel.start + 3660))[:200]:
        assert validate_sample(sample["metric"], sample["value"], sample.get("weight")) is None  # type: ignore[arg-type]


def test_bench_output_shape() -> None:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        bench.main(["--days", "8", "--seeds", "13", "--stream-seconds", "0.5"])
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    metrics = {x["metric"] for x in lines}
    assert metrics >= {
        "recall",
        "precision",
        "median_delay_s",
        "p95_delay_s",
        "false_incidents_per_region_week",
        "samples_scored_per_s",
        "stream_samples_per_s",
        "stream_equals_batch",
    }
    for x in lines:
        assert list(x)[:4] == ["bench", "metric", "value", "unit"] and x["bench"] == "detection"
        assert x["seed"] == 13 and x["split"] == "held_out"
