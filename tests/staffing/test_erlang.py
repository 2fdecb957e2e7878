"""Erlang B / C / A against worked examples, exact small cases, an independent big-load
computation and properties (hypothesis)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relaydesk.domain import staffing as s


def exact_erlang_c(n: int, a: int) -> Fraction:
    """Textbook formula in exact rationals (integer load):
    C = (Aⁿ/n! · n/(n−A)) / (Σ_{k<n} Aᵏ/k! + Aⁿ/n! · n/(n−A))."""
    below = sum(Fraction(a**k, math.factorial(k)) for k in range(n))
    top = Fraction(a**n, math.factorial(n)) * Fraction(n, n - a)
    return top / (below + top)


# -- published worked example -------------------------------------------------------------
#
# The classic call-centre example: 100 calls per half hour (200 per hour) with an average
# handling time of 3 minutes (180 s), so A = 200 · 180 / 3600 = 10 Erlangs, and a service-level
# threshold of 20 s.  Worked by hand from the formula above:
#
#   n   Σ_{k<n} 10ᵏ/k!   10ⁿ/n!·n/(n−10)   P(wait) = C         SL = 1 − C·e^{−(n−10)·20/180}   ASA = C·180/(n−10)
#   11  12 842.305      27 557.319        0.68212             1 − 0.68212·e^{−0.1111} = 0.3896   122.78 s
#   12  15 347.516      12 526.054        0.44939             1 − 0.44939·e^{−0.2222} = 0.6402    40.44 s
#   13  17 435.192       6 958.919        0.28527             1 − 0.28527·e^{−0.3333} = 0.7956    17.12 s
#   14  19 041.096       4 014.761        0.17413             1 − 0.17413·e^{−0.4444} = 0.8884     7.84 s
#
# (The published tables round these to 68.2 %, 44.9 %, 28.5 %, 17.4 % waiting.)
WORKED = [
    (11, 0.68212, 0.3896, 122.78),
    (12, 0.44939, 0.6402, 40.44),
    (13, 0.28527, 0.7956, 17.12),
    (14, 0.17413, 0.8884, 7.84),
]


@pytest.mark.parametrize(("n", "p_wait", "sl", "asa"), WORKED)
def test_worked_example_a10(n: int, p_wait: float, sl: float, asa: float) -> None:
    m = s.erlang_c_measures(n, arrivals_per_hour=200, aht_s=180, within_s=20)
    assert m.load == pytest.approx(10.0)
    assert m.p_wait == pytest.approx(p_wait, abs=5e-5)
    assert m.service_level == pytest.approx(sl, abs=5e-4)
    assert m.asa_s == pytest.approx(asa, abs=5e-3)
    assert m.occupancy == pytest.approx(10 / n)
    assert m.p_wait == pytest.approx(float(exact_erlang_c(n, 10)), rel=1e-12)


def test_agents_needed_for_the_worked_example() -> None:
    # 80 % within 20 s: 13 agents give 79.56 %, 14 give 88.84 % → 14.
    assert s.agents_needed_erlang_c(200, 180, 0.8, 20).agents == 14
    # 75 %: 13 suffice.
    assert s.agents_needed_erlang_c(200, 180, 0.75, 20).agents == 13
    # An occupancy cap of 75 % forces n ≥ 10/0.75 → 14.
    assert s.agents_needed_erlang_c(200, 180, 0.5, 20, max_occupancy=0.75).agents == 14


@pytest.mark.parametrize(
    ("n", "a", "expected"),
    [
        (2, 1, Fraction(1, 3)),  # Σ = 1 + 1 = 2; top = 1/2 · 2/1 = 1; C = 1/3
        (3, 2, Fraction(4, 9)),  # Σ = 1 + 2 + 2 = 5; top = 8/6 · 3/1 = 4; C = 4/9
        (1, 0, Fraction(0)),
    ],
)
def test_small_exact_cases(n: int, a: int, expected: Fraction) -> None:
    assert s.erlang_c(n, float(a)) == pytest.approx(float(expected), rel=1e-12)


def test_erlang_b_small_cases() -> None:
    assert s.erlang_b(1, 3.0) == pytest.approx(3 / 4)  # A/(1 + A)
    assert s.erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2)/(1 + 1 + 1/2)
    assert s.erlang_b(0, 5.0) == 1.0


def test_not_enough_agents_means_everyone_waits() -> None:
    m = s.erlang_c_measures(10, 200, 180, 20)  # n = A
    assert (m.p_wait, m.service_level, m.asa_s) == (1.0, 0.0, math.inf)
    assert s.erlang_c(3, 7.5) == 1.0


@pytest.mark.parametrize(("n", "a"), [(5_100, 5_000.0), (20_050, 20_000.0), (400, 1.0)])
def test_large_loads_match_an_independent_log_space_sum(n: int, a: float) -> None:
    # log Σ Aᵏ/k! by log-sum-exp over lgamma, independent of the recursion under test.
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(n + 1)]
    peak = max(logs)
    log_sum = peak + math.log(sum(math.exp(x - peak) for x in logs))
    log_b = logs[-1] - log_sum
    assert s.log_erlang_b(n, a) == pytest.approx(log_b, rel=1e-9, abs=1e-9)
    b = math.exp(log_b)
    c = b / (1 - (a / n) * (1 - b))
    assert s.erlang_c(n, a) == pytest.approx(c, rel=1e-9, abs=1e-300)
    assert 0.0 <= s.erlang_c(n, a) <= 1.0


def test_zero_load_needs_nobody() -> None:
    m = s.agents_needed_erlang_c(0, 600, 0.9, 300)
    assert (m.agents, m.p_wait, m.service_level) == (0, 0.0, 1.0)
    assert s.agents_needed(0, 600, 0.9, 300, patience_s=120) == 0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: s.erlang_c_measures(3, -1, 600, 300), "arrivals_per_hour"),
        (lambda: s.erlang_c_measures(3, 10, 0, 300), "aht_s"),
        (lambda: s.erlang_c_measures(-1, 10, 600, 300), "agents"),
        (lambda: s.agents_needed_erlang_c(10, 600, 1.0, 300), "target"),
        (lambda: s.agents_needed_erlang_c(10, 600, 0.9, -5), "within_s"),
        (lambda: s.erlang_a(3, 10, 600, 0, 300), "patience_s"),
        (lambda: s.erlang_a(3, 10, 600, math.nan, 300), "patience_s"),
    ],
)
def test_bad_arguments_name_the_field(call: object, field: str) -> None:
    with pytest.raises(s.StaffingError, match=field):
        call()  # type: ignore[operator]


# -- Erlang A -------------------------------------------------------------------------------


def test_erlang_a_approaches_erlang_c_as_patience_grows() -> None:
    c = s.erlang_c_measures(12, 200, 180, 20)
    gaps = []
    for patience in (1e3, 1e5, 1e7, 1e9):
        a = s.erlang_a(12, 200, 180, patience, 20)
        gaps.append(abs(a.service_level - c.service_level) + abs(a.p_wait - c.p_wait))
    assert gaps[0] > gaps[1] > gaps[2] > gaps[3]
    a = s.erlang_a(12, 200, 180, 1e9, 20)
    assert a.p_wait == pytest.approx(c.p_wait, abs=1e-5)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-5)
    assert a.asa_s == pytest.approx(c.asa_s, rel=1e-4)
    assert a.p_abandon < 1e-5


def test_erlang_a_with_patience_equal_to_handling_is_poisson() -> None:
    # With θ = μ every ticket in the system leaves at rate μ, so the number in system is
    # Poisson(A) (as in M/M/∞): P(wait) = P(N ≥ n), and E[queue] = Σ_{k>n} (k−n)·P(N=k).
    a_load, n = 10.0, 12
    pk = [math.exp(k * math.log(a_load) - a_load - math.lgamma(k + 1)) for k in range(200)]
    p_wait = sum(pk[n:])
    mean_queue = sum((k - n) * pk[k] for k in range(n + 1, 200))
    m = s.erlang_a(n, 200, 180, 180, 20)
    assert m.p_wait == pytest.approx(p_wait, rel=1e-9)
    # P(abandon) = θ·E[queue]/λ with θ = 1/180, λ = 200/3600.
    assert m.p_abandon == pytest.approx((mean_queue / 180) / (200 / 3600), rel=1e-9)


def test_erlang_a_threshold_zero_counts_only_immediate_answers() -> None:
    m = s.erlang_a(11, 200, 180, 300, 0)
    assert m.service_level == pytest.approx(1 - m.p_wait)


def test_erlang_a_without_agents_loses_everyone() -> None:
    m = s.erlang_a(0, 30, 600, 120, 300)
    assert (m.p_wait, m.service_level, m.p_abandon) == (1.0, 0.0, 1.0)


def test_erlang_a_staffs_at_least_the_minimum_and_no_more() -> None:
    # The last two: patience far shorter than the threshold, where Erlang C's answer is
    # not enough (abandoned tickets are misses) and the search has to widen upwards.
    for lam, aht, patience, within in [(200, 180, 100, 20), (30, 600, 300, 300), (5, 900, 60, 60), (30, 600, 10, 300), (200, 180, 5, 600)]:
        m = s.agents_needed_erlang_a(lam, aht, 0.85, within, patience)
        assert m.service_level >= 0.85
        below = s.erlang_a(m.agents - 1, lam, aht, patience, within)
        assert below.service_level < 0.85


def test_erlang_a_refuses_work_it_cannot_finish() -> None:
    # 10,000 tickets an hour with a day of patience and a week's threshold: millions of
    # uniformisation steps over ~17,000 queue states; refused with a reason, not a hang.
    with pytest.raises(s.StaffingError, match="shorter patience") as exc:
        s.agents_needed_erlang_a(10_000, 600, 0.9, 604_800, 86_400)
    assert exc.value.field == "patience_s"


def test_erlang_a_big_load_is_stable() -> None:
    m = s.agents_needed_erlang_a(100_000, 600, 0.9, 20, 300)
    assert 0.9 <= m.service_level <= 1.0
    assert 0 < m.p_abandon < 1
    assert m.agents <= s.agents_needed_erlang_c(100_000, 600, 0.9, 20).agents


# -- properties ------------------------------------------------------------------------------

loads = st.floats(min_value=0.0, max_value=2_000.0, allow_nan=False)
ahts = st.floats(min_value=10.0, max_value=3_600.0, allow_nan=False)
withins = st.floats(min_value=0.0, max_value=3_600.0, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(arrivals=loads, aht=ahts, within=withins, n=st.integers(0, 400))
def test_erlang_c_more_agents_never_worse(arrivals: float, aht: float, within: float, n: int) -> None:
    a = s.erlang_c_measures(n, arrivals, aht, within)
    b = s.erlang_c_measures(n + 1, arrivals, aht, within)
    assert 0.0 <= a.service_level <= 1.0 and 0.0 <= a.p_wait <= 1.0
    assert b.service_level >= a.service_level - 1e-12
    assert b.p_wait <= a.p_wait + 1e-12
    assert b.asa_s <= a.asa_s or math.isinf(a.asa_s)


@settings(max_examples=60, deadline=None)
@given(
    arrivals=st.floats(min_value=0.0, max_value=300.0),
    aht=ahts,
    within=withins,
    patience=st.floats(min_value=10.0, max_value=7_200.0),
    n=st.integers(0, 60),
)
def test_erlang_a_more_agents_never_worse(
    arrivals: float, aht: float, within: float, patience: float, n: int
) -> None:
    a = s.erlang_a(n, arrivals, aht, patience, within)
    b = s.erlang_a(n + 1, arrivals, aht, patience, within)
    for m in (a, b):
        assert 0.0 <= m.service_level <= 1.0
        assert 0.0 <= m.p_wait <= 1.0 and 0.0 <= m.p_abandon <= 1.0
        assert m.service_level <= 1.0 - m.p_abandon + 1e-9  # an abandoned ticket is a miss
    assert b.service_level >= a.service_level - 1e-9
    assert b.p_abandon <= a.p_abandon + 1e-9


@settings(max_examples=80, deadline=None)
@given(
    arrivals=st.floats(min_value=0.0, max_value=500.0),
    aht=ahts,
    within=withins,
    target=st.floats(min_value=0.05, max_value=0.99),
)
def test_agents_needed_is_minimal(arrivals: float, aht: float, within: float, target: float) -> None:
    m = s.agents_needed_erlang_c(arrivals, aht, target, within)
    assert m.service_level >= target
    if m.agents > 0:
        assert s.erlang_c_measures(m.agents - 1, arrivals, aht, within).service_level < target


def test_hour_labels() -> None:
    assert s.hour_label(0) == "Mon 00:00"
    assert s.hour_label(167) == "Sun 23:00"
    assert s.hour_label(24 + 9) == "Tue 09:00"
