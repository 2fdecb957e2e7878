"""Who is on shift: hand-checked cases (DST both ways, shifts across midnight, restrictions,
holidays, overrides, time off, bad input) and hypothesis properties of 24×7 rotations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaydesk.domain.shifts import (
    Layer,
    Override,
    Schedule,
    ShiftError,
    TimeOff,
    Window,
    next_change,
    on_shift,
    people_on_shift,
    spans,
)

BERLIN = "Europe/Berlin"
NY = "America/New_York"


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)  # type: ignore[misc]


def daily(name: str = "primary", members: tuple[str, ...] = ("A", "B", "C"), hour: int = 9, start: datetime = datetime(2026, 3, 23, 9), **kw: object) -> Layer:
    return Layer(name, members, f"FREQ=DAILY;BYHOUR={hour};BYMINUTE=0;BYSECOND=0", start, timedelta(hours=24), **kw)  # type: ignore[arg-type]


# -- hand-checked -------------------------------------------------------------------------


def test_daily_rotation_hands_off_at_local_nine_across_spring_forward() -> None:
    s = Schedule(BERLIN, (daily(),))
    # 2026-03-23 09:00 CET is 08:00 UTC: A; the next day B; index 5 (Sat 28th) is C.
    assert on_shift(s, utc(2026, 3, 23, 8)) == {"primary": "A"}
    assert on_shift(s, utc(2026, 3, 23, 7, 59)) == {"primary": None}  # before the first shift
    assert on_shift(s, utc(2026, 3, 24, 8)) == {"primary": "B"}
    # Sat 28th 09:00 CET (08:00 UTC) → Sun 29th 09:00 CEST (07:00 UTC): a 23-hour shift.
    assert on_shift(s, utc(2026, 3, 29, 6, 59, 59)) == {"primary": "C"}
    assert on_shift(s, utc(2026, 3, 29, 7)) == {"primary": "A"}


def test_night_shift_across_midnight_on_both_dst_changes() -> None:
    night = Layer("night", ("N",), "FREQ=DAILY;BYHOUR=22;BYMINUTE=0", datetime(2026, 1, 1, 22), timedelta(hours=8))
    s = Schedule(NY, (night,))
    # Fall back (Nov 1st): 22:00 EDT (02:00 UTC) to 06:00 EST (11:00 UTC): nine real hours.
    assert on_shift(s, utc(2026, 11, 1, 2))["night"] == "N"
    assert on_shift(s, utc(2026, 11, 1, 1, 59))["night"] is None
    assert on_shift(s, utc(2026, 11, 1, 10, 59))["night"] == "N"
    assert on_shift(s, utc(2026, 11, 1, 11))["night"] is None
    # Spring forward (Mar 8th): 22:00 EST (03:00 UTC) to 06:00 EDT (10:00 UTC): seven hours.
    assert on_shift(s, utc(2026, 3, 8, 3))["night"] == "N"
    assert on_shift(s, utc(2026, 3, 8, 9, 59))["night"] == "N"
    assert on_shift(s, utc(2026, 3, 8, 10))["night"] is None
    ss = [x for x in spans(s, utc(2026, 10, 31, 0), utc(2026, 11, 2, 0)) if x.person == "N"]
    assert [(x.start, x.end) for x in ss] == [
        (utc(2026, 10, 31, 2), utc(2026, 10, 31, 10)),
        (utc(2026, 11, 1, 2), utc(2026, 11, 1, 11)),
    ]


def test_shift_starting_in_the_gap_starts_at_the_transition() -> None:
    layer = Layer("early", ("E",), "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", datetime(2026, 3, 1, 2, 30), timedelta(hours=1))
    s = Schedule(BERLIN, (layer,))
    # 02:30 does not exist on 2026-03-29 (02:00 → 03:00 CEST at 01:00 UTC); 03:30 CEST = 01:30 UTC.
    assert on_shift(s, utc(2026, 3, 29, 0, 59))["early"] is None
    assert on_shift(s, utc(2026, 3, 29, 1, 0))["early"] == "E"
    assert on_shift(s, utc(2026, 3, 29, 1, 30))["early"] is None
    # A repeated hour (Oct 25th 02:30 happens twice): it starts at the first occurrence (00:30
    # UTC) and ends at 03:30 CET (02:30 UTC), two real hours of wall-clock 02:30–03:30.
    assert on_shift(s, utc(2026, 10, 25, 0, 29))["early"] is None
    assert on_shift(s, utc(2026, 10, 25, 0, 30))["early"] == "E"
    assert on_shift(s, utc(2026, 10, 25, 2, 29))["early"] == "E"
    assert on_shift(s, utc(2026, 10, 25, 2, 30))["early"] is None


def test_weekly_handoff_and_weekday_restriction_crossing_midnight() -> None:
    # One week each, handing off Monday 09:00; only on weeknights 22:00–06:00.
    layer = Layer(
        "oncall", ("A", "B"), "FREQ=DAILY;BYHOUR=9", datetime(2026, 6, 1, 9), timedelta(days=1),
        handoff_every=7, restrictions=(Window("mon-fri", "22:00", "06:00"),),
    )
    s = Schedule("Asia/Singapore", (layer,))  # UTC+8, no DST
    sg = ZoneInfo("Asia/Singapore")
    at = lambda *a: datetime(*a, tzinfo=sg)  # noqa: E731
    assert on_shift(s, at(2026, 6, 1, 23))["oncall"] == "A"  # Monday night
    assert on_shift(s, at(2026, 6, 1, 12))["oncall"] is None  # Monday noon: outside the window
    assert on_shift(s, at(2026, 6, 6, 5, 59))["oncall"] == "A"  # Friday night runs into Saturday
    assert on_shift(s, at(2026, 6, 6, 6))["oncall"] is None
    assert on_shift(s, at(2026, 6, 6, 23))["oncall"] is None  # Saturday night: not a weekday window
    assert on_shift(s, at(2026, 6, 8, 3))["oncall"] is None  # Sunday night tail: Sunday not listed
    assert on_shift(s, at(2026, 6, 8, 23))["oncall"] == "B"  # the next week is B's
    assert on_shift(s, at(2026, 6, 15, 23))["oncall"] == "A"


def test_holidays_empty_the_layer_but_not_a_24x7_one() -> None:
    day = Layer("day", ("D",), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9", datetime(2026, 12, 1, 9), timedelta(hours=9), exclude_holidays=True)
    s = Schedule(BERLIN, (day, daily("oncall", ("X",), start=datetime(2026, 12, 1, 9))), holidays=frozenset({date(2026, 12, 25)}))
    assert on_shift(s, utc(2026, 12, 24, 10)) == {"day": "D", "oncall": "X"}
    assert on_shift(s, utc(2026, 12, 25, 10)) == {"day": None, "oncall": "X"}
    assert [x.source for x in spans(s, utc(2026, 12, 25, 10), utc(2026, 12, 25, 11)) if x.layer == "day"] == ["holiday"]


def test_override_cover_swap_and_time_off() -> None:
    cover = Override("primary", utc(2026, 3, 25, 12), utc(2026, 3, 25, 15), "D")
    off = TimeOff("B", utc(2026, 3, 24, 8), utc(2026, 3, 25, 8))
    s = Schedule(BERLIN, (daily(),), overrides=(cover,), time_off=(off,))
    assert on_shift(s, utc(2026, 3, 25, 11, 59))["primary"] == "C"
    assert on_shift(s, utc(2026, 3, 25, 12))["primary"] == "D"
    assert on_shift(s, utc(2026, 3, 25, 14, 59))["primary"] == "D"
    assert on_shift(s, utc(2026, 3, 25, 15))["primary"] == "C"
    assert on_shift(s, utc(2026, 3, 24, 12))["primary"] is None  # B's day off: a visible gap
    assert "B" not in people_on_shift(s, utc(2026, 3, 24, 12))
    # An override outside every shift (before dtstart) still puts its person on.
    early = Override("primary", utc(2026, 3, 20), utc(2026, 3, 21), "E")
    assert on_shift(Schedule(BERLIN, (daily(),), overrides=(early,)), utc(2026, 3, 20, 6))["primary"] == "E"


def test_next_change_is_the_shift_end() -> None:
    s = Schedule(BERLIN, (daily(),))
    assert next_change(s, "C", utc(2026, 3, 28, 20)) == utc(2026, 3, 29, 7)
    assert next_change(s, "A", utc(2026, 3, 28, 20)) == utc(2026, 3, 29, 7)  # A comes on


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"rrule": "FREQ=SOMETIMES"}, "layers[0].rrule"),
        ({"rrule": "BYHOUR=9"}, "layers[0].rrule"),
        ({"rrule": "FREQ=MINUTELY"}, "layers[0].rrule"),
        ({"rrule": "DTSTART:20260101T000000\nRRULE:FREQ=DAILY"}, "layers[0].rrule"),
        ({"members": ()}, "layers[0].members"),
        ({"duration": timedelta(0)}, "layers[0].duration"),
        ({"handoff_every": 0}, "layers[0].handoff_every"),
        ({"restrictions": (Window("mon-fry", "09:00", "18:00"),)}, "layers[0].restrictions[0]"),
        ({"restrictions": (Window("mon", "9am", "18:00"),)}, "layers[0].restrictions[0]"),
    ],
)
def test_bad_layers_name_the_field(kw: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"name": "p", "members": ("A",), "rrule": "FREQ=DAILY", "dtstart": datetime(2026, 1, 1, 9), "duration": timedelta(hours=8)}
    with pytest.raises(ShiftError) as err:
        Schedule(BERLIN, (Layer(**(base | kw)),))  # type: ignore[arg-type]
    assert err.value.field == field


def test_unknown_zone_and_overlapping_overrides_are_refused() -> None:
    with pytest.raises(ShiftError) as err:
        Schedule("Mars/Olympus", (daily(),))
    assert err.value.field == "timezone" and "Mars/Olympus" in err.value.message
    a = Override("primary", utc(2026, 3, 25, 12), utc(2026, 3, 25, 15), "D")
    b = Override("primary", utc(2026, 3, 25, 14), utc(2026, 3, 25, 16), "E")
    with pytest.raises(ShiftError) as err:
        Schedule(BERLIN, (daily(),), overrides=(a, b))
    assert err.value.field == "overrides" and "overlap" in err.value.message
    # Back to back is fine; so are overlapping overrides of different layers.
    c = Override("primary", utc(2026, 3, 25, 15), utc(2026, 3, 25, 16), "E")
    Schedule(BERLIN, (daily(),), overrides=(a, c))
    with pytest.raises(ShiftError) as err:
        Schedule(BERLIN, (daily(),), overrides=(Override("nope", a.start, a.end, "D"),))
    assert err.value.field == "overrides[0].layer"


# -- properties -----------------------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo", "Asia/Singapore", "America/St_Johns", "Pacific/Chatham"]
LO = datetime(2020, 1, 1, tzinfo=UTC)
SECONDS = int((datetime(2030, 12, 31, tzinfo=UTC) - LO).total_seconds())


@st.composite
def rotations(draw: st.DrawFn) -> Schedule:
    tz = draw(st.sampled_from(ZONES))
    members = tuple(f"p{i}" for i in range(draw(st.integers(1, 5))))
    hour, minute = draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30]))
    start = datetime(2019, 12, 1, hour, minute)
    kind = draw(st.sampled_from(["daily", "two_shifts", "weekly"]))
    if kind == "daily":
        layers = (Layer("L", members, f"FREQ=DAILY;BYHOUR={hour};BYMINUTE={minute}", start, timedelta(days=1), handoff_every=draw(st.integers(1, 7))),)
    elif kind == "two_shifts":
        other = (hour + 12) % 24
        layers = (Layer("L", members, f"FREQ=DAILY;BYHOUR={hour},{other};BYMINUTE={minute}", start, timedelta(hours=12)),)
    else:
        layers = (Layer("L", members, f"FREQ=WEEKLY;BYHOUR={hour};BYMINUTE={minute}", start, timedelta(days=7)),)
    second = Layer("backup", ("b1", "b2"), "FREQ=DAILY;BYHOUR=0", datetime(2019, 12, 1), timedelta(days=1))
    return Schedule(tz, (*layers, second))


instants = st.integers(0, SECONDS).map(lambda s: LO + timedelta(seconds=s))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rotations(), instants)
def test_24x7_rotation_has_exactly_one_person_per_layer(s: Schedule, t: datetime) -> None:
    who = on_shift(s, t)
    assert set(who) == {"L", "backup"}
    assert who["L"] in s.layers[0].members
    assert who["backup"] in ("b1", "b2")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rotations(), instants, st.integers(60, 3 * 86_400), st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=5), st.integers(-3 * 86_400, 6 * 86_400))
def test_an_override_fully_replaces_its_window(s: Schedule, start: datetime, length: int, where: list[float], probe: int) -> None:
    o = Override("L", start, start + timedelta(seconds=length), "cover")
    with_o = Schedule(s.tz, s.layers, overrides=(o,))
    for f in where:
        t = start + timedelta(microseconds=int(length * 1_000_000 * f))
        assert on_shift(with_o, t) == {"L": "cover", "backup": on_shift(s, t)["backup"]}
    t = start + timedelta(seconds=probe)
    if not o.start <= t < o.end:
        assert on_shift(with_o, t) == on_shift(s, t)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rotations(), instants, st.integers(3600, 4 * 86_400))
def test_spans_tile_the_range_and_agree_with_on_shift(s: Schedule, a: datetime, length: int) -> None:
    b = a + timedelta(seconds=length)
    for layer in s.layers:
        ss = [x for x in spans(s, a, b) if x.layer == layer.name]
        assert ss[0].start == a and ss[-1].end == b
        for x, y in pairwise(ss):
            assert x.end == y.start and x.person != y.person
        for x in ss:
            assert x.person is not None
            assert on_shift(s, x.start)[layer.name] == x.person
            assert on_shift(s, x.end - timedelta(microseconds=1))[layer.name] == x.person
