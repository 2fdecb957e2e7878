"""More checks of Erlang B / C / A that can fail: an independent computation over a grid,
closed forms derived by hand for one and two agents, monotonicity (hypothesis) and the two
limits of Erlang A (patience → ∞ gives Erlang C; patience → 0 gives the Erlang B loss system).

Every expected figure here is derived in the comments from the M/M/n formulas; none is copied
from a table."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relaydesk.domain import staffing as s


def forward_erlang_b(n: int, a: float) -> float:
    """Erlang B by the forward recursion B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)) in plain
    floats: a different route from the module's log-space recursion on 1/B."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def c_from_b(n: int, a: float, b: float) -> float:
    """Erlang C from Erlang B: C = n·B / (n − A·(1 − B)) for n > A."""
    return n * b / (n - a * (1 - b))


def exact_erlang_c(n: int, a: Fraction) -> Fraction:
    """The textbook sum in exact rationals, for a rational load A < n:
    C = (Aⁿ/n! · n/(n−A)) / (Σ_{k<n} Aᵏ/k! + Aⁿ/n! · n/(n−A))."""
    below = sum((a**k / math.factorial(k) for k in range(n)), Fraction(0))
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (below + top)


# -- an independent computation over a grid ---------------------------------------------------

GRID = [(n, a) for n in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89) for a in (0.05 * n, 0.5 * n, 0.8 * n, 0.95 * n, n - 0.01)]


@pytest.mark.parametrize(("n", "a"), GRID)
def test_erlang_b_and_c_match_the_forward_recursion(n: int, a: float) -> None:
    b = forward_erlang_b(n, a)
    assert s.erlang_b(n, a) == pytest.approx(b, rel=1e-11)
    assert s.erlang_c(n, a) == pytest.approx(c_from_b(n, a, b), rel=1e-11)


@pytest.mark.parametrize(
    ("n", "a"),
    [(1, Fraction(1, 2)), (2, Fraction(3, 2)), (4, Fraction(7, 3)), (7, Fraction(13, 2)), (10, Fraction(37, 4)), (25, Fraction(201, 10))],
)
def test_erlang_c_matches_exact_rationals_at_fractional_loads(n: int, a: Fraction) -> None:
    assert s.erlang_c(n, float(a)) == pytest.approx(float(exact_erlang_c(n, a)), rel=1e-12)


# -- closed forms derived by hand --------------------------------------------------------------
#
# One agent (M/M/1): the sum has one term below n, Σ_{k<1} = 1, and the top is
# A · 1/(1 − A), so C = [A/(1−A)] / [1 + A/(1−A)] = A: the chance to wait is the occupancy.
# The wait of those who wait is exponential with rate (1 − A)/AHT, so
#   SL(t) = 1 − A·e^{−(1−A)·t/AHT},   ASA = A·AHT/(1 − A).
# Example: 6 tickets an hour, AHT 300 s → A = 6·300/3600 = 0.5; threshold 60 s:
#   SL = 1 − 0.5·e^{−0.5·60/300} = 1 − 0.5·e^{−0.1} = 0.547581…,   ASA = 0.5·300/0.5 = 300 s.
#
# Two agents (M/M/2): Σ_{k<2} = 1 + A and the top is A²/2 · 2/(2 − A) = A²/(2 − A), so
#   C = A² / ((1 + A)(2 − A) + A²) = A² / (2 + A).
# Example: A = 1 → C = 1/3; A = 1.5 → C = 2.25/3.5 = 9/14 = 0.642857…


@pytest.mark.parametrize("a", [0.01, 0.1, 0.37, 0.5, 0.9, 0.999])
def test_one_agent_waits_with_the_occupancy(a: float) -> None:
    assert s.erlang_c(1, a) == pytest.approx(a, rel=1e-12)
    aht, t = 240.0, 45.0
    m = s.erlang_c_measures(1, a * 3600 / aht, aht, t)
    assert m.service_level == pytest.approx(1 - a * math.exp(-(1 - a) * t / aht), rel=1e-12)
    assert m.asa_s == pytest.approx(a * aht / (1 - a), rel=1e-12)


def test_one_agent_worked_figures() -> None:
    m = s.erlang_c_measures(1, arrivals_per_hour=6, aht_s=300, within_s=60)
    assert m.load == pytest.approx(0.5)
    assert m.p_wait == pytest.approx(0.5, abs=1e-12)
    assert m.service_level == pytest.approx(0.547581, abs=1e-6)
    assert m.asa_s == pytest.approx(300.0, abs=1e-9)


@pytest.mark.parametrize("a", [0.02, 0.5, 1.0, 1.5, 1.9, 1.999])
def test_two_agents_closed_form(a: float) -> None:
    assert s.erlang_c(2, a) == pytest.approx(a * a / (2 + a), rel=1e-12)


def test_two_agents_worked_figures() -> None:
    assert s.erlang_c(2, 1.0) == pytest.approx(1 / 3, abs=1e-12)
    assert s.erlang_c(2, 1.5) == pytest.approx(0.642857, abs=1e-6)


def test_light_load_waits_like_the_last_poisson_term() -> None:
    # As A → 0 the sum below n tends to 1 and n/(n − A) to 1, so C ≈ Aⁿ/n!.
    for n in (1, 2, 3, 5):
        a = 1e-3
        assert s.erlang_c(n, a) == pytest.approx(a**n / math.factorial(n), rel=5e-3)


# -- monotonicity -------------------------------------------------------------------------------

ahts = st.floats(min_value=10.0, max_value=3_600.0, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 300), a=st.floats(min_value=0.0, max_value=300.0), da=st.floats(min_value=1e-6, max_value=20.0))
def test_more_load_never_waits_less(n: int, a: float, da: float) -> None:
    assert s.erlang_c(n, a + da) >= s.erlang_c(n, a) - 1e-12
    assert s.erlang_b(n, a + da) >= s.erlang_b(n, a) - 1e-12


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 300), a=st.floats(min_value=1e-6, max_value=300.0))
def test_waiting_is_at_least_blocking(n: int, a: float) -> None:
    # With a queue, the arrivals that would have been blocked wait, and more: C ≥ B.
    assert s.erlang_c(n, a) >= s.erlang_b(n, a) - 1e-12


@settings(max_examples=120, deadline=None)
@given(
    arrivals=st.floats(min_value=0.0, max_value=800.0),
    aht=ahts,
    n=st.integers(0, 200),
    t=st.floats(min_value=0.0, max_value=1_800.0),
    dt=st.floats(min_value=0.0, max_value=1_800.0),
)
def test_a_longer_threshold_never_lowers_the_service_level(arrivals: float, aht: float, n: int, t: float, dt: float) -> None:
    a = s.erlang_c_measures(n, arrivals, aht, t)
    b = s.erlang_c_measures(n, arrivals, aht, t + dt)
    assert b.service_level >= a.service_level - 1e-12


@settings(max_examples=80, deadline=None)
@given(
    arrivals=st.floats(min_value=0.0, max_value=400.0),
    more=st.floats(min_value=0.0, max_value=100.0),
    aht=ahts,
    within=st.floats(min_value=0.0, max_value=1_800.0),
    target=st.floats(min_value=0.05, max_value=0.95),
    higher=st.floats(min_value=0.0, max_value=0.04),
)
def test_needed_agents_grow_with_load_and_target(
    arrivals: float, more: float, aht: float, within: float, target: float, higher: float
) -> None:
    base = s.agents_needed_erlang_c(arrivals, aht, target, within).agents
    assert s.agents_needed_erlang_c(arrivals + more, aht, target, within).agents >= base
    assert s.agents_needed_erlang_c(arrivals, aht, target + higher, within).agents >= base
    # and never fewer than the load itself (n > A is needed for a queue that drains); a load
    # that underflows to 0 (subnormal arrivals) needs nobody
    load = arrivals * aht / 3600
    assert base > load or load == 0


# -- Erlang A limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "arrivals", "aht", "within"), [(3, 20, 300, 60), (12, 200, 180, 20), (30, 150, 600, 120)])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(n: int, arrivals: float, aht: float, within: float) -> None:
    c = s.erlang_c_measures(n, arrivals, aht, within)
    errors = []
    for patience in (1e2, 1e4, 1e6, 1e8):
        a = s.erlang_a(n, arrivals, aht, patience, within)
        errors.append(abs(a.p_wait - c.p_wait) + abs(a.service_level - c.service_level))
    assert errors == sorted(errors, reverse=True) and errors[0] > errors[-1]
    assert errors[-1] < 1e-4


@pytest.mark.parametrize(("n", "arrivals", "aht", "within"), [(3, 20, 300, 60), (12, 200, 180, 20), (5, 120, 300, 30)])
def test_erlang_a_tends_to_the_loss_system_as_patience_vanishes(n: int, arrivals: float, aht: float, within: float) -> None:
    # With an abandonment rate θ → ∞ a ticket that finds every agent busy leaves at once: the
    # system becomes Erlang B's loss system M/M/n/n.  The waiting probability falls to
    # B(n, A) (below C(n, A)), every waiting ticket abandons, and those answered are the
    # ones that found an agent free: SL → 1 − B.
    load = arrivals * aht / 3600
    b, c = s.erlang_b(n, load), s.erlang_c(n, load)
    waits = [s.erlang_a(n, arrivals, aht, patience, within).p_wait for patience in (1e4, 1e2, 1.0, 1e-2, 1e-4)]
    assert all(x > y for x, y in itertools.pairwise(waits))  # falls as patience shrinks
    assert waits[0] <= c + 1e-12
    assert waits[-1] == pytest.approx(b, rel=1e-3)
    m = s.erlang_a(n, arrivals, aht, 1e-4, within)
    assert m.p_abandon == pytest.approx(b, rel=1e-3)
    assert m.service_level == pytest.approx(1 - b, rel=1e-3)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 30),
    arrivals=st.floats(min_value=1.0, max_value=200.0),
    aht=st.floats(min_value=30.0, max_value=1_200.0),
    patience=st.floats(min_value=5.0, max_value=3_600.0),
    factor=st.floats(min_value=1.5, max_value=10.0),
)
def test_erlang_a_more_patience_means_more_waiting_and_fewer_abandons(
    n: int, arrivals: float, aht: float, patience: float, factor: float
) -> None:
    short = s.erlang_a(n, arrivals, aht, patience, 60.0)
    long = s.erlang_a(n, arrivals, aht, patience * factor, 60.0)
    assert long.p_wait >= short.p_wait - 1e-9
    assert long.p_abandon <= short.p_abandon + 1e-9
    load = arrivals * aht / 3600
    assert s.erlang_b(n, load) - 1e-9 <= short.p_wait  # never below the loss system
