"""Business calendar properties, checked with hypothesis on integer microseconds over a handful
of deliberately awkward calendars (split and overnight shifts, holidays with make-up days,
closures, DST zones including a 30-minute one, 24×7) and instants across 2018–2030.

Instants are drawn uniformly and also snapped near the places where bugs live: span edges,
DST transitions and local new year.  ``is_open`` is additionally compared with an independent
wall-clock oracle written here from the spec (outside the repeated hour of a DST fold, where
"open at the first occurrence, close at the last" cannot be read off the wall clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaydesk.domain.calendar import BusinessCalendar, from_us, to_us

US = 1_000_000
MIN = 60 * US
HOUR = 60 * MIN
DAY = 24 * HOUR
LO = to_us(datetime(2018, 1, 1, tzinfo=UTC))
HI = to_us(datetime(2031, 1, 1, tzinfo=UTC))
WORKWEEK = ("mon", "tue", "wed", "thu", "fri")
EVERY_DAY = (*WORKWEEK, "sat", "sun")

PROPS = settings(
    max_examples=200,
    deadline=None,
    database=None,  # keep the working tree clean
    suppress_health_check=[HealthCheck.too_slow],
)

SPECS: dict[str, dict[str, Any]] = {
    "shanghai-split-cn": {
        "tz": "Asia/Shanghai",
        "hours": {d: ["09:00-12:00", "13:00-18:00"] for d in WORKWEEK},
        "holidays": {"country": "CN"},
        "open_dates": {"2026-03-08": ["10:00-14:00"]},
    },
    "berlin-night-de": {
        "tz": "Europe/Berlin",
        "hours": {d: ["22:00-06:00"] for d in EVERY_DAY},
        "holidays": {"country": "DE"},
        "closures": [{"start": "2027-05-05T03:00:00+02:00", "end": "2027-05-06T23:30:00+02:00"}],
    },
    "new-york-us": {
        "tz": "America/New_York",
        "hours": {d: ["09:00-17:00"] for d in WORKWEEK},
        "holidays": {"country": "US"},
        "closed_dates": ["2026-12-24", "2029-07-05"],
    },
    "sao-paulo-br": {
        "tz": "America/Sao_Paulo",
        "hours": {
            **{d: ["08:00-12:00", "13:00-17:00"] for d in WORKWEEK},
            "sat": ["08:00-12:00", "20:00-02:00"],
            "sun": ["00:00-08:00"],
        },
        "holidays": {"country": "BR"},
    },
    "sydney-weekend-nights": {
        "tz": "Australia/Sydney",
        "hours": {"fri": ["20:00-08:00"], "sat": ["20:00-08:00"], "sun": ["02:30-03:30"]},
        "holidays": {"country": "AU", "subdiv": "NSW"},
    },
    "lord-howe-half-hour-dst": {
        "tz": "Australia/Lord_Howe",
        # no holidays, so the overnight shift of Dec 31 really runs into Jan 1
        "hours": {d: ["01:30-02:15", "09:00-17:00", "23:00-00:30"] for d in EVERY_DAY},
    },
    "utc-24x7": {"tz": "UTC", "always_open": True},
    "berlin-24x7-closed": {
        "tz": "Europe/Berlin",
        "always_open": True,
        "holidays": {"country": "DE"},
        "closed_dates": ["2024-12-24", "2028-02-29"],
        "closures": [{"start": "2026-03-28T23:30:00+01:00", "end": "2026-03-29T04:00:00+02:00"}],
    },
}


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _ranges(items: list[str]) -> list[tuple[int, int]]:
    out = []
    for item in items:
        a, b = (_minutes(x) for x in item.split("-"))
        out.append((a, b + 1440 if b <= a else b))
    return out


@dataclass
class Oracle:
    """Is the calendar open at an instant?  Read straight off the local wall clock."""

    spec: dict[str, Any]

    def __post_init__(self) -> None:
        s = self.spec
        self.zone = ZoneInfo(s["tz"])
        names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        self.weekly = [_ranges(s.get("hours", {}).get(n, [])) for n in names]
        self.open_dates = {
            date.fromisoformat(d): _ranges(r) for d, r in s.get("open_dates", {}).items()
        }
        self.closed = {date.fromisoformat(d) for d in s.get("closed_dates", [])}
        self.closures = [
            (to_us(datetime.fromisoformat(c["start"])), to_us(datetime.fromisoformat(c["end"])))
            for c in s.get("closures", [])
        ]
        hol = s.get("holidays")
        self.hol = (
            holidays.country_holidays(
                hol["country"], subdiv=hol.get("subdiv"), years=range(2016, 2034)
            )
            if hol
            else None
        )
        self.always = bool(s.get("always_open"))

    def _closed_date(self, d: date) -> bool:
        return d in self.closed or (self.hol is not None and d in self.hol)

    def _day(self, d: date) -> list[tuple[int, int]]:
        if d in self.open_dates:
            return self.open_dates[d]
        if self.hol is not None and d in self.hol.weekend_workdays:
            return next(w for w in self.weekly[:5] if w)
        return self.weekly[d.weekday()]

    def ambiguous(self, t: int) -> bool:
        """Inside the repeated hour of a DST fold."""
        naive = from_us(t).astimezone(self.zone).replace(tzinfo=None)
        a = naive.replace(tzinfo=self.zone, fold=0).utcoffset()
        b = naive.replace(tzinfo=self.zone, fold=1).utcoffset()
        return a != b

    def is_open(self, t: int) -> bool:
        if any(a <= t < b for a, b in self.closures):
            return False
        local = from_us(t).astimezone(self.zone)
        d = local.date()
        if self._closed_date(d):
            return False
        if self.always:
            return True
        tod = ((local.hour * 60 + local.minute) * 60 + local.second) * US + local.microsecond
        if any(a * MIN <= tod < min(b, 1440) * MIN for a, b in self._day(d)):
            return True
        return any(b > 1440 and tod < (b - 1440) * MIN for _, b in self._day(d - timedelta(1)))


def _transitions(zone: ZoneInfo) -> list[int]:
    """UTC instants (µs) where the zone's offset changes, 2018–2030."""
    out = []
    step = 6 * HOUR

    def off(t: int) -> timedelta | None:
        return from_us(t).astimezone(zone).utcoffset()

    t = LO
    while t < HI:
        if off(t) != off(t + step):
            lo, hi = t, t + step
            while hi - lo > US:
                mid = (lo + hi) // 2
                if off(mid) == off(lo):
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
        t += step
    return out


@dataclass
class Case:
    name: str
    cal: BusinessCalendar
    oracle: Oracle
    edges: list[int]  # DST transitions and local new years

    def __repr__(self) -> str:
        return self.name


def _case(name: str, spec: dict[str, Any]) -> Case:
    cal = BusinessCalendar.from_spec(spec)
    cal.business_us_between(LO - 40 * DAY, HI + 400 * DAY)  # build the year tables once
    zone = ZoneInfo(spec["tz"])
    new_years = [to_us(datetime(y, 1, 1, tzinfo=zone)) for y in range(2018, 2031)]
    return Case(name, cal, Oracle(spec), _transitions(zone) + new_years)


CASES = [_case(n, s) for n, s in SPECS.items()]


@st.composite
def instants(draw: st.DrawFn, case: Case) -> int:
    base = draw(st.integers(LO, HI))
    how = draw(st.sampled_from(["uniform", "span-edge", "dst-or-new-year"]))
    jitter = draw(st.one_of(st.just(0), st.integers(-US, US), st.integers(-3 * HOUR, 3 * HOUR)))
    if how == "span-edge":
        spans = case.cal.open_spans_us(base, base + 60 * DAY)
        if spans:
            s, e = spans[0] if draw(st.booleans()) else spans[-1]
            base = draw(st.sampled_from([s, e]))
    elif how == "dst-or-new-year":
        base = draw(st.sampled_from(case.edges))
    return min(max(base + jitter, LO), HI)


durations = st.one_of(
    st.just(0),
    st.integers(1, US),
    st.integers(1, 4 * HOUR),
    st.integers(1, 30 * DAY),
    # whole quarter hours, so that a due time lands exactly on the end of a span now and then
    st.integers(1, 4 * 24 * 10).map(lambda k: k * 15 * MIN),
)
cases = st.sampled_from(CASES)


@PROPS
@given(st.data(), cases, durations, durations)
def test_due_is_monotonic_in_duration(data: st.DataObject, case: Case, d1: int, d2: int) -> None:
    t = data.draw(instants(case))
    d1, d2 = sorted((d1, d2))
    assert case.cal.add_business_seconds(t, d1) <= case.cal.add_business_seconds(t, d2)


@PROPS
@given(st.data(), cases, durations)
def test_due_is_monotonic_in_start(data: st.DataObject, case: Case, d: int) -> None:
    t1, t2 = sorted((data.draw(instants(case)), data.draw(instants(case))))
    assert case.cal.add_business_seconds(t1, d) <= case.cal.add_business_seconds(t2, d)


@PROPS
@given(st.data(), cases, durations, durations)
def test_adding_twice_is_adding_the_sum(data: st.DataObject, case: Case, a: int, b: int) -> None:
    t = data.draw(instants(case))
    add = case.cal.add_business_seconds
    assert add(add(t, a), b) == add(t, a + b)


@PROPS
@given(st.data(), cases, durations)
def test_between_inverts_add(data: st.DataObject, case: Case, d: int) -> None:
    t = data.draw(instants(case))
    due = case.cal.add_business_seconds(t, d)
    assert due >= t
    assert case.cal.business_us_between(t, due) == d


@PROPS
@given(st.data(), cases, durations.filter(lambda d: d > 0))
def test_due_is_never_inside_closed_time(data: st.DataObject, case: Case, d: int) -> None:
    t = data.draw(instants(case))
    due = case.cal.add_business_seconds(t, d)
    # the last microsecond before the due instant was open time, so the due instant is either
    # open or exactly the end of an open span, never somewhere inside a closed stretch
    assert case.cal.is_open_us(due - 1)
    assert case.cal.business_us_between(t, due - 1) == d - 1


@PROPS
@given(st.data(), cases)
def test_between_is_antisymmetric_and_additive(data: st.DataObject, case: Case) -> None:
    a, b, c = sorted(data.draw(instants(case)) for _ in range(3))
    between = case.cal.business_us_between
    assert between(a, b) == -between(b, a)
    assert between(a, c) == between(a, b) + between(b, c)
    assert 0 <= between(a, b) <= b - a


@PROPS
@given(st.data(), cases)
def test_due_on_a_span_end_is_that_end(data: st.DataObject, case: Case) -> None:
    t = data.draw(instants(case))
    cal = case.cal
    spans = cal.open_spans_us(t, t + 20 * DAY)[:6]
    ends = [e for _, e in spans]
    for s, e in spans:
        d = cal.business_us_between(t, e)
        assert cal.add_business_seconds(t, d) == e
        # open time up to the start of a later span is due at the end of the span before it
        d = cal.business_us_between(t, s)
        if d > 0:
            assert cal.add_business_seconds(t, d) == max(x for x in ends if x < s)


def _check_wall_clock(case: Case, t: int) -> None:
    if case.oracle.ambiguous(t):
        return  # the repeated hour of a fold: covered by the hand-checked tests
    assert case.cal.is_open_us(t) == case.oracle.is_open(t), (
        f"{case.name} at {from_us(t).astimezone(case.oracle.zone).isoformat()}"
    )


def _check_window(case: Case, a: int, b: int, grid: int) -> None:
    for s, e in case.cal.open_spans_us(a, b):
        for x in (s - 1, s, e - 1, e):
            if a <= x < b:
                _check_wall_clock(case, x)
    for x in range(a, b, grid):
        _check_wall_clock(case, x)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_is_open_matches_the_wall_clock_around_every_edge(case: Case) -> None:
    # not random: a day either side of every DST change and local new year 2018–2031
    for edge in case.edges:
        _check_window(case, edge - DAY, edge + DAY, 15 * MIN)


@PROPS
@given(st.data(), cases, st.integers(0, 20 * MIN - 1))
def test_is_open_matches_the_wall_clock(data: st.DataObject, case: Case, phase: int) -> None:
    # a three-day window: every span edge (and the microsecond either side) plus a 20-minute grid
    t = data.draw(instants(case))
    _check_window(case, t, t + 3 * DAY, 20 * MIN)
    _check_wall_clock(case, t + phase)


@PROPS
@given(st.data(), cases, st.integers(0, 20 * DAY))
def test_next_open_and_open_intervals_agree(data: st.DataObject, case: Case, width: int) -> None:
    cal = case.cal
    t = data.draw(instants(case))
    nxt = cal.next_open_us(t)
    assert nxt >= t and cal.is_open_us(nxt)
    assert cal.business_us_between(t, nxt) == 0
    spans = cal.open_spans_us(t, t + width)
    assert sum(e - s for s, e in spans) == cal.business_us_between(t, t + width)
    for s, e in spans:
        assert t <= s < e <= t + width
        assert cal.is_open_us(s) and cal.is_open_us(e - 1)
    for (_, e), (s, _) in pairwise(spans):
        assert e < s and not cal.is_open_us(e)  # disjoint and merged


@PROPS
@given(st.data(), cases, durations)
def test_datetime_api_matches_the_integer_core(data: st.DataObject, case: Case, d: int) -> None:
    t = data.draw(instants(case))
    start = from_us(t).astimezone(case.oracle.zone)
    due = case.cal.add_business_time(start, timedelta(microseconds=d))
    assert to_us(due) == case.cal.add_business_seconds(t, d)
    assert case.cal.business_time_between(start, due) == timedelta(microseconds=d)
