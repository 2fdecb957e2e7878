"""Corroboration across series and grouping into incident candidates: one per problem."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from relaydesk.detection import (
    GroupingParams,
    SeriesKey,
    corroborate,
    detect_incidents,
    group_incidents,
    score_series,
    score_series_detailed,
    severity_from_impact,
)
from relaydesk.detection.generator import generate

T0 = datetime(2026, 10, 5, tzinfo=UTC).timestamp()
T = 240
TS = T0 + 60 * np.arange(T, dtype=np.float64)
CARRIERS = ("Telkomsel", "Indosat", "XL")
METRICS = ("rtt_ms", "packet_loss_pct", "join_success_rate")


def keys(region: str = "id", service: str = "rtc") -> list[SeriesKey]:
    return [SeriesKey(service, region, c, m) for c in CARRIERS for m in METRICS]


def quiet(n: int) -> np.ndarray:
    return np.zeros((n, T))


def row(carrier: str, metric: str) -> int:
    return CARRIERS.index(carrier) * len(METRICS) + METRICS.index(metric)


TRAFFIC = {
    ("rtc", "id", "Telkomsel"): np.full(T, 550.0),
    ("rtc", "id", "Indosat"): np.full(T, 300.0),
    ("rtc", "id", "XL"): np.full(T, 150.0),
}


# -- corroboration ---------------------------------------------------------------------------------


def test_corroboration_is_a_noisy_or_of_the_carriers() -> None:
    s = np.array(
        [[0.5, 0.35, 0.3, 0.1, np.nan], [0.0, 0.35, 0.3, 0.1, np.nan], [0.0, 0.0, 0.3, 0.1, np.nan]]
    )
    ev = corroborate(s, traffic=np.array([50.0, 30.0, 20.0]))
    assert ev.evidence[0] == pytest.approx(0.5)
    assert ev.evidence[1] == pytest.approx(1 - 0.65**2)  # two agreeing carriers > one
    assert ev.evidence[2] == pytest.approx(1 - 0.7**3)
    assert ev.evidence[3] == 0.0  # below the floor: noise does not add up
    assert math.isnan(ev.evidence[4])  # no data at all is not "fine"
    assert list(ev.alarming[:4]) == [1, 0, 0, 0]
    assert list(ev.supporting[:4]) == [1, 2, 3, 0]
    assert ev.affected_share[0] == pytest.approx(0.5)
    assert ev.coverage[4] == 0.0 and ev.coverage[0] == 1.0


def test_corroboration_with_partial_data_and_no_traffic() -> None:
    s = np.array([[0.9, np.nan], [np.nan, np.nan]])
    ev = corroborate(s)
    assert ev.evidence[0] == pytest.approx(0.9)
    assert ev.affected_share[0] == pytest.approx(0.5)
    assert ev.coverage[0] == 0.5


# -- grouping --------------------------------------------------------------------------------------------


def test_a_region_wide_problem_on_many_series_is_one_incident() -> None:
    s = quiet(9)
    s[:, 60:120] = 1.0  # every carrier, every metric
    cands = group_incidents(TS, keys(), s, TRAFFIC)
    assert len(cands) == 1
    c = cands[0]
    assert (c.start, c.last_bad) == (TS[60], TS[119])
    assert c.detected_at == TS[60] + 60
    assert set(c.locations) == set(CARRIERS) and set(c.metrics) == set(METRICS)
    assert c.traffic_share == pytest.approx(1.0)
    assert (c.severity, c.component_status) == ("critical", "major_outage")
    assert c.recovered_at == TS[119] + 60
    assert c.propose_resolve_at == TS[119] + 60 * 16
    assert not c.ongoing


def test_one_carrier_is_one_incident_with_its_traffic_share() -> None:
    s = quiet(9)
    s[row("Indosat", "rtt_ms"), 50:80] = 1.0
    s[row("Indosat", "packet_loss_pct"), 52:90] = 0.95
    s[row("Telkomsel", "rtt_ms"), 60:62] = 0.3  # a weak flicker elsewhere: not affected
    cands = group_incidents(TS, keys(), s, TRAFFIC)
    assert len(cands) == 1
    c = cands[0]
    assert c.locations == ("Indosat",)
    assert c.metrics == ("packet_loss_pct", "rtt_ms")
    assert c.traffic_share == pytest.approx(0.3)
    assert c.severity == "major"
    assert c.last_bad == TS[89]


def test_flapping_within_the_merge_window_stays_one_incident() -> None:
    s = quiet(9)
    for a in (20, 45, 70):  # bad 10 min, fine 15 min, bad again...
        s[row("XL", "join_success_rate"), a : a + 10] = 1.0
    cands = group_incidents(TS, keys(), s, TRAFFIC)
    assert len(cands) == 1
    assert cands[0].start == TS[20] and cands[0].last_bad == TS[79]
    assert cands[0].traffic_share == pytest.approx(0.15)
    assert cands[0].severity == "minor"


def test_problems_far_apart_are_separate_incidents() -> None:
    s = quiet(9)
    s[row("XL", "rtt_ms"), 20:30] = 1.0
    s[row("XL", "rtt_ms"), 100:110] = 1.0  # 70 quiet minutes later
    cands = group_incidents(TS, keys(), s, TRAFFIC, GroupingParams(merge_minutes=30))
    assert [c.start for c in cands] == [TS[20], TS[100]]
    assert len({c.key for c in cands}) == 2


def test_regions_and_services_never_share_an_incident() -> None:
    ks = keys("id") + keys("sg") + keys("id", service="live-delivery")
    s = np.zeros((len(ks), T))
    s[:, 30:60] = 1.0
    cands = group_incidents(TS, ks, s)
    assert sorted((c.service, c.region) for c in cands) == [
        ("live-delivery", "id"),
        ("rtc", "id"),
        ("rtc", "sg"),
    ]


def test_weak_scores_alone_do_not_open_an_incident() -> None:
    s = quiet(9)
    s[row("XL", "rtt_ms"), 10:200] = 0.6  # one carrier, moderately unusual
    assert group_incidents(TS, keys(), s, TRAFFIC) == []
    # ...but several carriers at once corroborate each other
    s[row("Indosat", "rtt_ms"), 10:200] = 0.6
    s[row("Telkomsel", "rtt_ms"), 10:200] = 0.6
    cands = group_incidents(TS, keys(), s, TRAFFIC)
    assert len(cands) == 1 and set(cands[0].locations) == set(CARRIERS)


def test_recovery_and_the_proposal_to_resolve() -> None:
    s = quiet(9)
    s[row("XL", "rtt_ms"), 200:230] = 1.0  # recovered 10 minutes before the window ends
    c = group_incidents(TS, keys(), s, TRAFFIC)[0]
    assert c.recovered_at == TS[229] + 60
    assert c.propose_resolve_at is None and c.ongoing
    s2 = quiet(9)
    s2[row("XL", "rtt_ms"), 220:] = 1.0  # still bad at the end
    c2 = group_incidents(TS, keys(), s2, TRAFFIC)[0]
    assert c2.recovered_at is None and c2.ongoing


def test_minutes_without_data_are_not_quiet() -> None:
    s = quiet(9)
    s[row("XL", "rtt_ms"), 20:40] = 1.0
    s[:, 40:225] = np.nan  # the collector went dark, then came back to normal
    c = group_incidents(TS, keys(), s, TRAFFIC)[0]
    assert c.recovered_at == TS[225]  # recovery is seen when data shows it, not before
    assert c.propose_resolve_at == TS[239] + 60 and c.ongoing
    s[:, 225:] = np.nan
    c = group_incidents(TS, keys(), s, TRAFFIC)[0]
    assert c.recovered_at is None and c.ongoing  # no data is no proof of recovery


def test_severity_from_impact() -> None:
    assert severity_from_impact(1.0, 1.0) == "critical"
    assert severity_from_impact(0.6, 0.6) == "major"
    assert severity_from_impact(0.3, 0.9) == "major"
    assert severity_from_impact(0.3, 0.5) == "minor"
    assert severity_from_impact(0.05, 1.0) == "minor"


def test_bad_shapes_and_params_are_refused() -> None:
    with pytest.raises(ValueError, match="series, T"):
        group_incidents(TS, keys(), quiet(3))
    with pytest.raises(ValueError):
        GroupingParams(open_threshold=0.2, close_threshold=0.5)
    assert group_incidents(np.array([]), [], np.zeros((0, 0))) == []


# -- end to end on generated data ----------------------------------------------------------------------


def test_generated_region_incident_becomes_one_candidate() -> None:
    tel = generate(seed=11, days=8, regions=("de",), incidents_per_week=3.0)
    keys_: list[SeriesKey] = []
    rows = []
    for (svc, reg, car, met), vals, wts in tel.series():
        if met == "concurrent_users":
            continue
        keys_.append(SeriesKey(svc, reg, car, met))
        rows.append(score_series(tel.timestamps, vals, wts, met, tz="Europe/Berlin"))
    traffic = {
        ("rtc", "de", c): tel.traffic[0, 0, i] for i, c in enumerate(tel.regions[0].carriers)
    }
    cands = group_incidents(tel.timestamps, keys_, np.vstack(rows), traffic)
    assert tel.incidents, "the seed must inject incidents"
    for inc in tel.incidents:
        hits = [c for c in cands if c.start <= inc.end + 900 and c.last_bad + 60 >= inc.start]
        assert len(hits) == 1, inc  # one candidate per problem, whatever its series count
        assert set(inc.carriers) >= set(hits[0].locations)
        assert hits[0].detected_at - inc.start < 20 * 60


def test_detect_incidents_is_scoring_then_grouping() -> None:
    tel = generate(seed=12, days=8, regions=("sg", "us"), incidents_per_week=3.0)
    tz = {r.code: r.tz for r in tel.regions}
    series = {
        SeriesKey(svc, reg, car, met): (vals, wts)
        for (svc, reg, car, met), vals, wts in tel.series()
        if met != "concurrent_users"
    }
    traffic = {
        ("rtc", reg.code, car): tel.traffic[0, ri, ci]
        for ri, reg in enumerate(tel.regions)
        for ci, car in enumerate(reg.carriers)
    }
    got = detect_incidents(tel.timestamps, series, traffic=traffic, tz_by_region=tz)
    keys_ = list(series)
    each = [
        score_series_detailed(tel.timestamps, *series[k], k.metric, tz=tz[k.region]) for k in keys_
    ]
    scores = np.vstack([r.scores for r in each])
    instant = np.vstack([r.instant for r in each])
    early = np.vstack([r.early for r in each])
    assert got == group_incidents(
        tel.timestamps, keys_, scores, traffic, instant=instant, early=early
    )
    assert {c.region for c in got} == {"sg", "us"}
    # only the last day scored: candidates from that day only, the same as in a full run
    last_day = tel.timestamps[-1] - 86400
    tail = detect_incidents(
        tel.timestamps, series, traffic=traffic, tz_by_region=tz, score_from=last_day
    )
    assert tail and all(c.start >= last_day for c in tail)
    # a problem that began well inside the scored day is found exactly as in the full run
    full_late = [c for c in got if c.start >= last_day + 3600]
    assert full_late, "the seed must have a candidate in the last day"
    tail_by_key = {c.key: c for c in tail}
    for c in full_late:
        assert tail_by_key[c.key] == c


# -- corroborated minutes (instantaneous scores of several carriers) ------------------------------


def test_several_carriers_bad_in_the_same_minute_open_at_once() -> None:
    s = quiet(9)  # persistence has not confirmed anything yet
    inst = quiet(9)
    inst[row("Telkomsel", "rtt_ms"), 100] = 0.8
    inst[row("Indosat", "packet_loss_pct"), 100] = 0.75
    cands = group_incidents(TS, keys(), s, TRAFFIC, instant=inst)
    assert len(cands) == 1
    assert cands[0].detected_at == TS[100] + 60  # the first bad minute, no waiting
    assert cands[0].locations == ("Indosat", "Telkomsel")
    assert group_incidents(TS, keys(), s, TRAFFIC) == []  # without instant: nothing yet


def test_one_carrier_alone_still_waits_for_persistence() -> None:
    s = quiet(9)
    inst = quiet(9)
    inst[row("Telkomsel", "rtt_ms"), 100] = 0.9  # a blip on one route
    inst[row("Telkomsel", "packet_loss_pct"), 100] = 0.9  # ...moves its metrics together
    inst[row("Indosat", "rtt_ms"), 100] = 0.3  # another carrier, below fast_threshold
    assert group_incidents(TS, keys(), s, TRAFFIC, instant=inst) == []
    strict = GroupingParams(fast_locations=3)
    inst[row("Indosat", "rtt_ms"), 100] = 0.9
    assert group_incidents(TS, keys(), s, TRAFFIC, strict, instant=inst) == []
    assert len(group_incidents(TS, keys(), s, TRAFFIC, instant=inst)) == 1


def test_instant_scores_never_fill_minutes_without_a_score() -> None:
    s = quiet(9)
    s[:, 100] = np.nan  # warming up / no data: nothing to judge
    inst = quiet(9)
    inst[:, 100] = 1.0
    assert group_incidents(TS, keys(), s, TRAFFIC, instant=inst) == []
    with pytest.raises(ValueError, match="instant"):
        group_incidents(TS, keys(), s, TRAFFIC, instant=inst[:, :10])
    with pytest.raises(ValueError, match="fast"):
        GroupingParams(fast_locations=1)


def test_a_severe_minute_on_several_metrics_of_one_carrier_opens_at_once() -> None:
    s = quiet(9)
    inst = quiet(9)
    inst[row("XL", "rtt_ms"), 100] = 1.0  # twice the user-visible tolerance...
    assert group_incidents(TS, keys(), s, TRAFFIC, instant=inst) == []  # one metric: a blip
    inst[row("XL", "packet_loss_pct"), 100] = 1.0  # ...on two metrics of the same route
    cands = group_incidents(TS, keys(), s, TRAFFIC, instant=inst)
    assert len(cands) == 1
    assert cands[0].detected_at == TS[100] + 60
    assert cands[0].locations == ("XL",)
    assert set(cands[0].metrics) == {"rtt_ms", "packet_loss_pct"}
    off = GroupingParams(severe_metrics=0)
    assert group_incidents(TS, keys(), s, TRAFFIC, off, instant=inst) == []
    split = inst.copy()  # the same two metrics, but on two carriers below fast_threshold...
    split[row("XL", "packet_loss_pct"), 100] = 0.0
    split[row("Indosat", "packet_loss_pct"), 100] = 0.4
    assert group_incidents(TS, keys(), s, TRAFFIC, instant=split) == []
    with pytest.raises(ValueError, match="severe"):
        GroupingParams(severe_threshold=0.0)


def test_every_carrier_slightly_worse_on_one_metric_opens_early() -> None:
    s = quiet(9)  # nothing is bad enough for users yet: no scores, no instants
    early = quiet(9)
    for c in CARRIERS:  # ...but each carrier's RTT is plainly up, in the same minute
        early[row(c, "rtt_ms"), 100] = 0.4
    cands = group_incidents(TS, keys(), s, TRAFFIC, early=early)
    assert len(cands) == 1
    assert cands[0].detected_at == TS[100] + 60
    assert cands[0].series_peaks == {(c, "rtt_ms"): 0.4 for c in CARRIERS}
    assert group_incidents(TS, keys(), s, TRAFFIC) == []  # without early: nothing yet

    two = early.copy()
    two[row("XL", "rtt_ms"), 100] = 0.0  # two carriers only: could be two blips at once
    assert group_incidents(TS, keys(), s, TRAFFIC, early=two) == []
    mixed = early.copy()  # three carriers, but not the same metric
    mixed[row("XL", "rtt_ms"), 100] = 0.0
    mixed[row("XL", "packet_loss_pct"), 100] = 0.4
    assert group_incidents(TS, keys(), s, TRAFFIC, early=mixed) == []
    weak = np.where(early > 0, 0.25, 0.0)  # below early_threshold
    assert group_incidents(TS, keys(), s, TRAFFIC, early=weak) == []
    unscored = s.copy()  # minutes without a score (history before score_from) never vote
    unscored[:, 100] = np.nan
    assert group_incidents(TS, keys(), unscored, TRAFFIC, early=early) == []
    with pytest.raises(ValueError, match="early"):
        group_incidents(TS, keys(), s, TRAFFIC, early=early[:, :10])
    with pytest.raises(ValueError, match="early"):
        GroupingParams(early_locations=1)
