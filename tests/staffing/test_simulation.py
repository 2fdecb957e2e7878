"""The discrete-event simulation: reproducible, consistent with the queueing formulas where those
are exact (steady load), and right about capacity steps, priorities and abandonment."""

from __future__ import annotations

import math

import pytest

from relaydesk.domain import simulation as sim
from relaydesk.domain import staffing as s


def steady(rate: float, **kw: object) -> sim.SimulationConfig:
    args: dict[str, object] = {
        "arrivals_per_hour": [rate] * 168,
        "aht_s": 300.0,
        "within_s": 60.0,
        "weeks": 4,
        "warmup_weeks": 1,
        "seed": 7,
    }
    args.update(kw)
    return sim.SimulationConfig(**args)  # type: ignore[arg-type]


def test_same_seed_same_result_other_seed_differs() -> None:
    cap = sim.Capacity.from_hourly([3] * 168)
    a = sim.simulate(steady(24, weeks=1), cap)
    b = sim.simulate(steady(24, weeks=1), cap)
    c = sim.simulate(steady(24, weeks=1, seed=8), cap)
    assert [h.offered for h in a.hours] == [h.offered for h in b.hours]
    assert a.overall.total_wait_s == b.overall.total_wait_s
    assert a.overall.offered != c.overall.offered or a.overall.total_wait_s != c.overall.total_wait_s


def test_arrival_counts_follow_the_hourly_rates() -> None:
    rates = [0.0] * 168
    rates[10] = 50.0
    rates[100] = 5.0
    r = sim.simulate(steady(0, arrivals_per_hour=rates, weeks=8), sim.Capacity.from_hourly([50] * 168))
    offered = [h.offered for h in r.hours]
    assert sum(offered) == offered[10] + offered[100]
    # Poisson: mean 400 ± 4·20, and 40 ± 4·6.3
    assert abs(offered[10] - 400) < 80
    assert abs(offered[100] - 40) < 26
    assert r.hours[10].service_level == 1.0 and r.hours[0].service_level is None


@pytest.mark.parametrize(("rate", "agents"), [(48.0, 5), (60.0, 6)])
def test_steady_load_agrees_with_erlang_c(rate: float, agents: int) -> None:
    # A = rate · 300/3600 (4 or 5 Erlangs); 8 simulated weeks ≈ 65–80k tickets.
    r = sim.simulate(steady(rate, weeks=8), sim.Capacity.from_hourly([agents] * 168))
    expected = s.erlang_c_measures(agents, rate, 300, 60)
    assert r.overall.service_level == pytest.approx(expected.service_level, abs=0.02)
    assert r.overall.asa_s == pytest.approx(expected.asa_s, rel=0.15)
    assert r.overall.abandoned == 0


def test_abandonment_agrees_with_erlang_a() -> None:
    r = sim.simulate(steady(72.0, weeks=8, patience_s=240.0), sim.Capacity.from_hourly([6] * 168))
    expected = s.erlang_a(6, 72.0, 300, 240, 60)
    o = r.overall
    assert o.service_level == pytest.approx(expected.service_level, abs=0.02)
    assert o.abandoned / o.offered == pytest.approx(expected.p_abandon, abs=0.015)


def test_nobody_on_shift_answers_nothing() -> None:
    r = sim.simulate(steady(10.0, weeks=1, patience_s=600.0), sim.Capacity.from_hourly([0] * 168))
    assert r.overall.offered > 0
    assert r.overall.answered == 0 and r.overall.answered_within == 0
    assert r.overall.abandoned == r.overall.offered
    r2 = sim.simulate(steady(10.0, weeks=1), sim.Capacity.from_hourly([0] * 168))
    assert r2.overall.answered == 0 and r2.overall.service_level == 0.0


def test_tickets_wait_for_the_next_shift() -> None:
    # Arrivals only on Monday 02:00–03:00, agents only from Monday 05:00: every ticket waits
    # at least two hours and none is answered within the 60 s threshold.
    rates = [0.0] * 168
    rates[2] = 20.0
    counts = [0] * 168
    counts[5] = 30
    r = sim.simulate(steady(0, arrivals_per_hour=rates, weeks=2), sim.Capacity.from_hourly(counts))
    h = r.hours[2]
    assert h.offered > 0 and h.answered == h.offered and h.answered_within == 0
    assert h.asa_s is not None and h.asa_s >= 2 * 3600
    assert 2 * 3600 < h.max_wait_s <= 3 * 3600


def test_priorities_are_served_first() -> None:
    r = sim.simulate(
        steady(66.0, weeks=4, priorities=[0.3, 0.7]), sim.Capacity.from_hourly([6] * 168)
    )
    high, low = r.by_priority[0], r.by_priority[1]
    assert high.offered + low.offered == r.overall.offered
    assert high.service_level is not None and low.service_level is not None
    assert high.service_level > low.service_level + 0.05
    assert (high.asa_s or 0) < (low.asa_s or 0)


def test_lognormal_handling_keeps_the_mean() -> None:
    # Load offered over a week equals arrivals × mean handling; with ample agents the busy
    # time is not observable directly, so compare against a single-agent queue's Erlang C
    # sensitivity instead: a lower variability (cv 0.3) must wait less than exponential (cv 1).
    cap = sim.Capacity.from_hourly([1] * 168)
    expo = sim.simulate(steady(8.0, weeks=6), cap)
    calm = sim.simulate(steady(8.0, weeks=6, handling="lognormal", handling_cv=0.3), cap)
    assert calm.overall.asa_s is not None and expo.overall.asa_s is not None
    assert calm.overall.asa_s < expo.overall.asa_s
    # M/G/1 (Pollaczek–Khinchine): Wq = ρ·E[S]·(1 + cv²)/(2(1 − ρ)); ρ = 8·300/3600 = 2/3.
    rho = 8 * 300 / 3600
    pk = rho * 300 * (1 + 0.3**2) / (2 * (1 - rho))
    assert calm.overall.asa_s == pytest.approx(pk, rel=0.2)


def test_capacity_from_shifts() -> None:
    cap = sim.Capacity.from_shifts([(8.5, 17.0), (9.0, 18.0), (166.0, 2.0)])
    hourly = cap.hourly()
    assert hourly[8] == pytest.approx(0.5)
    assert hourly[9] == 2 and hourly[16] == 2 and hourly[17] == 1 and hourly[18] == 0
    assert hourly[166] == 1 and hourly[167] == 1 and hourly[0] == 1 and hourly[1] == 1
    assert hourly[2] == 0
    assert cap.changes[0][0] == 0.0
    assert sim.Capacity.from_hourly([2] * 168).hourly() == [2.0] * 168


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: sim.Capacity.from_hourly([1] * 167), "168"),
        (lambda: sim.Capacity.from_hourly([1.5] * 168), "integer"),
        (lambda: sim.Capacity.from_shifts([(10.0, 10.0)]), "shift 0"),
        (lambda: sim.simulate(steady(1, arrivals_per_hour=[1] * 10), sim.Capacity.from_hourly([1] * 168)), "arrivals_per_hour"),
        (lambda: sim.simulate(steady(math.nan), sim.Capacity.from_hourly([1] * 168)), "arrivals_per_hour"),
        (lambda: sim.simulate(steady(1, aht_s=0.0), sim.Capacity.from_hourly([1] * 168)), "aht_s"),
        (lambda: sim.simulate(steady(1, patience_s=-1.0), sim.Capacity.from_hourly([1] * 168)), "patience_s"),
        (lambda: sim.simulate(steady(1, handling="gamma"), sim.Capacity.from_hourly([1] * 168)), "handling"),
        (lambda: sim.simulate(steady(1e5, weeks=52), sim.Capacity.from_hourly([1] * 168)), "limit"),
    ],
)
def test_bad_input(make: object, match: str) -> None:
    with pytest.raises(sim.SimulationError, match=match):
        make()  # type: ignore[operator]


def test_capacity_from_changes_keeps_steps_inside_hours() -> None:
    cap = sim.Capacity.from_changes([(0.0, 0), (9 * 3600.0, 2), (17 * 3600.0, 1), (17.5 * 3600, 0)])
    hourly = cap.hourly()
    assert hourly[8] == 0 and hourly[9] == 2 and hourly[16] == 2
    assert hourly[17] == pytest.approx(0.5) and hourly[18] == 0
    # repeated levels collapse
    assert sim.Capacity.from_changes([(0.0, 1), (3600.0, 1)]).changes == ((0.0, 1),)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ([], "must not be empty"),
        ([(10.0, 1)], "first capacity change must be at 0"),
        ([(0.0, 1), (0.0, 2)], "not after the one before"),
        ([(0.0, 1), (sim.WEEK_S, 2)], "outside the week"),
        ([(0.0, -1)], "integer ≥ 0"),
        ([(0.0, 1.5)], "integer ≥ 0"),
    ],
)
def test_capacity_from_changes_refuses_bad_steps(changes: list[tuple[float, float]], message: str) -> None:
    with pytest.raises(sim.SimulationError, match=message):
        sim.Capacity.from_changes(changes)  # type: ignore[arg-type]
