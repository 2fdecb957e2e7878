"""The rota adapter: routing's shift model → agents on shift per hour of a real local week.

The pure part (``rota_from_schedules``) is tested on ``relaydesk.domain.shifts`` objects; the
stored part (``current_rota``) on rotations, overrides, time off and holidays stored through
routing's models, read back through ``relaydesk.routing.schedules.build_schedules``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from relaydesk.core.models import Team, User
from relaydesk.domain import shifts
from relaydesk.routing import schedules
from relaydesk.routing.models import Rotation, ScheduleOverride, TimeOff
from relaydesk.staffing import rota
from tests.conftest import make_staff

MONDAY = datetime(2026, 11, 2, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_9_TO_17 = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9"


def layer(name: str, members: tuple[str, ...], start: str, hours: float) -> shifts.Layer:
    return shifts.Layer(
        name=name,
        members=members,
        rrule="FREQ=DAILY",
        dtstart=datetime.fromisoformat(f"2026-10-26T{start}"),
        duration=timedelta(hours=hours),
    )


# -- pure: schedules → counts ---------------------------------------------------------------


def test_people_on_shift_per_hour() -> None:
    day = shifts.Schedule(tz="UTC", layers=(layer("day", ("ana",), "09:00", 8), layer("late", ("bo",), "13:00", 8)))
    counts = rota.rota_from_schedules([day], MONDAY)
    assert len(counts) == 168
    monday = counts[:24]
    assert monday[8] == 0 and monday[9] == 1 and monday[12] == 1
    assert monday[13] == 2 and monday[16] == 2 and monday[17] == 1 and monday[20] == 1 and monday[21] == 0
    assert counts[24:48] == monday  # every day alike


def test_a_person_on_two_layers_counts_once_and_half_hours_round_down() -> None:
    s = shifts.Schedule(tz="UTC", layers=(layer("a", ("ana",), "09:30", 4), layer("b", ("ana",), "11:00", 4)))
    monday = rota.rota_from_schedules([s], MONDAY)[:24]
    assert monday[9] == 0  # on shift for half the hour
    assert monday[10:15] == [1, 1, 1, 1, 1]
    assert monday[15] == 0


def test_schedules_in_other_time_zones() -> None:
    sg = shifts.Schedule(tz="Asia/Singapore", layers=(layer("day", ("mei",), "09:00", 9),))
    monday = rota.rota_from_schedules([sg], MONDAY)[:24]
    # 09:00–18:00 in Singapore is 01:00–10:00 UTC.
    assert monday[0] == 0 and monday[1:10] == [1] * 9 and monday[10] == 0


def test_naive_week_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        rota.rota_from_schedules([], datetime(2026, 11, 2))


def test_week_slots_follow_the_wall_clock_across_dst() -> None:
    # Europe/Berlin springs forward on Sunday 29 March 2026 at 02:00 and falls back on
    # Sunday 25 October 2026 at 03:00.
    spring = rota.week_slots(datetime(2026, 3, 23, tzinfo=BERLIN))
    lengths = [(e - s).total_seconds() / 3600 for s, e in spring]
    assert lengths[6 * 24 + 2] == 0  # Sunday 02:00 does not exist
    assert sum(lengths) == 167 and lengths.count(1.0) == 167
    autumn = rota.week_slots(datetime(2026, 10, 19, tzinfo=BERLIN))
    lengths = [(e - s).total_seconds() / 3600 for s, e in autumn]
    assert lengths[6 * 24 + 2] == 2  # Sunday 02:00 happens twice
    assert sum(lengths) == 169
    # the slots tile the week
    assert all(autumn[h][1] == autumn[h + 1][0] for h in range(167))


@pytest.mark.parametrize("monday", [date(2026, 3, 23), date(2026, 10, 19)])
def test_a_night_shift_over_the_dst_change_has_no_gap(monday: date) -> None:
    # Sunday 01:00–04:00 local (wall-clock duration): 2 real hours in March, 4 in October;
    # on the local hour axis it covers the slots 01, 02 and 03 either way.
    night = shifts.Layer(
        name="night",
        members=("ana",),
        rrule="FREQ=WEEKLY;BYDAY=SU;BYHOUR=1",
        dtstart=datetime(2026, 1, 4, 1),
        duration=timedelta(hours=3),
    )
    s = shifts.Schedule(tz="Europe/Berlin", layers=(night,))
    sunday = rota.rota_from_schedules([s], datetime.combine(monday, datetime.min.time(), BERLIN))[144:]
    assert sunday[:6] == [0, 1, 1, 1, 0, 0]
    assert sum(sunday) == 3


# Weeks holding a DST change in one of these zones (and ordinary weeks).
DST_WEEKS = [date(2026, 3, 2), date(2026, 9, 28), date(2026, 3, 9), date(2026, 3, 23), date(2026, 3, 30), date(2026, 10, 19), date(2026, 10, 26), date(2026, 11, 2)]
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "America/Sao_Paulo", "Asia/Singapore", "UTC"]


@settings(max_examples=60, deadline=None)
# Shifts ending at, starting in or lying inside the skipped hour; one over the repeated hour.
@example(zone="Europe/Berlin", monday=date(2026, 3, 23), start=1, hours=2)
@example(zone="Europe/Berlin", monday=date(2026, 3, 23), start=2, hours=1)
@example(zone="Europe/Berlin", monday=date(2026, 3, 23), start=3, hours=1)
@example(zone="America/New_York", monday=date(2026, 3, 2), start=2, hours=2)
@example(zone="Europe/Berlin", monday=date(2026, 10, 19), start=2, hours=1)
@given(zone=st.sampled_from(ZONES), monday=st.sampled_from(DST_WEEKS), start=st.integers(0, 23), hours=st.integers(1, 24))
def test_a_daily_shift_fills_the_same_wall_clock_hours_every_day(zone: str, monday: date, start: int, hours: int) -> None:
    # A shift of whole wall-clock hours in the plan's own zone covers the same local hour
    # slots every day, DST change or not (wrapping past midnight into the next day).
    daily = shifts.Layer(
        name="d", members=("ana",), rrule="FREQ=DAILY", dtstart=datetime(2026, 1, 1, start), duration=timedelta(hours=hours)
    )
    sched = shifts.Schedule(tz=zone, layers=(daily,))
    week_start = datetime.combine(monday, datetime.min.time(), ZoneInfo(zone))
    counts = rota.rota_from_schedules([sched], week_start)
    slots = rota.week_slots(week_start)
    covered = {(start + i) % 24 for i in range(hours)}
    for h in range(168):
        if slots[h][0] == slots[h][1]:
            # The hour a spring-forward change skips is the instant the clock jumps to: it
            # counts whoever is on shift from then, like the hour after it.
            assert counts[h] == counts[h + 1], (h, counts[h])
        else:
            assert counts[h] == (1 if h % 24 in covered else 0), (h, counts[h])


# -- stored rotations -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_schedule_cache() -> Any:
    schedules.invalidate()
    yield
    schedules.invalidate()


def store(team: Team, name: str, members: list[User], rrule: str = WEEKDAYS_9_TO_17, minutes: int = 8 * 60, **kw: Any) -> Rotation:
    return Rotation.objects.create(
        team=team, name=name, member_ids=[m.pk for m in members], rrule=rrule,
        dtstart="2026-01-05T09:00:00", duration_minutes=minutes, **kw,
    )


@pytest.fixture
def emea(world: Any) -> Any:
    """EMEA (Frankfurt, Hesse): Jonas and Petra weekdays 09:00–17:00 Berlin time, holidays off."""
    world.petra = make_staff("petra@relaydesk.test", "agent", world.emea, first_name="Petra", languages=["en", "de"])
    store(world.emea, "DE early", [world.agent_emea], exclude_holidays=True)
    store(world.emea, "DE late", [world.petra], exclude_holidays=True)
    return world


def day(counts: list[int], d: int) -> list[int]:
    return counts[d * 24:(d + 1) * 24]


NINE_TO_FIVE = [0] * 9 + [2] * 8 + [0] * 7


def test_nothing_stored_gives_none(world: Any) -> None:
    assert rota.current_rota("de", None, "Europe/Berlin", date(2026, 11, 2)) is None


def test_weekday_team_over_a_holiday(emea: Any) -> None:
    # The week of Good Friday (3 April 2026, a public holiday in Hesse).
    r = rota.current_rota("de", None, "Europe/Berlin", date(2026, 4, 1))
    assert r is not None
    assert r.week_start == date(2026, 3, 30) and r.week_end == date(2026, 4, 5)
    assert r.teams == ["EMEA"] and r.people == 2
    for d in range(4):  # Monday to Thursday
        assert day(r.counts, d) == NINE_TO_FIVE
    assert day(r.counts, 4) == [0] * 24  # Good Friday
    assert r.counts[120:] == [0] * 48  # the weekend
    # The week after has Easter Monday off and Tuesday–Friday staffed.
    after = rota.current_rota("de", None, "Europe/Berlin", date(2026, 4, 6))
    assert after is not None and day(after.counts, 0) == [0] * 24 and day(after.counts, 4) == NINE_TO_FIVE


def test_a_rotation_that_keeps_holidays_works_them(emea: Any) -> None:
    Rotation.objects.filter(name="DE late").update(exclude_holidays=False)
    r = rota.current_rota("de", None, "Europe/Berlin", date(2026, 4, 3))
    assert r is not None
    assert day(r.counts, 4) == [0] * 9 + [1] * 8 + [0] * 7


def test_hours_of_the_week_in_utc_move_with_the_dst_change(emea: Any) -> None:
    # 09:00–17:00 Berlin is 07:00–15:00 UTC in summer time and 08:00–16:00 UTC after
    # Sunday 25 October 2026.
    before = rota.current_rota("de", None, "UTC", date(2026, 10, 21))
    after = rota.current_rota("de", None, "UTC", date(2026, 10, 28))
    assert before is not None and after is not None
    assert day(before.counts, 0) == [0] * 7 + [2] * 8 + [0] * 9
    assert day(after.counts, 0) == [0] * 8 + [2] * 8 + [0] * 8
    # In Berlin time both weeks look alike.
    local = rota.current_rota("de", None, "Europe/Berlin", date(2026, 10, 28))
    assert local is not None and day(local.counts, 0) == NINE_TO_FIVE


def test_a_daily_team_across_the_dst_weekend_in_utc(emea: Any) -> None:
    Rotation.objects.all().update(rrule="FREQ=DAILY;BYHOUR=9", exclude_holidays=False)
    # The UTC week from Monday 19 October: Saturday 24 still summer time, Sunday 25 winter.
    r = rota.current_rota("de", None, "UTC", date(2026, 10, 19))
    assert r is not None
    assert day(r.counts, 5) == [0] * 7 + [2] * 8 + [0] * 9
    assert day(r.counts, 6) == [0] * 8 + [2] * 8 + [0] * 8


def test_overrides_and_time_off(emea: Any) -> None:
    late = Rotation.objects.get(name="DE late")
    cover = make_staff("kai@relaydesk.test", "agent", emea.emea, first_name="Kai")
    # Kai covers Petra's seat on Tuesday 3 November 12:00–14:00 Berlin (11:00–13:00 UTC) …
    ScheduleOverride.objects.create(
        rotation=late, user=cover,
        start=datetime(2026, 11, 3, 11, tzinfo=UTC), end=datetime(2026, 11, 3, 13, tzinfo=UTC),
    )
    # … and Jonas is off on Wednesday.
    TimeOff.objects.create(
        user=emea.agent_emea,
        start=datetime(2026, 11, 4, 0, tzinfo=BERLIN), end=datetime(2026, 11, 5, 0, tzinfo=BERLIN),
    )
    r = rota.current_rota("de", None, "Europe/Berlin", date(2026, 11, 2))
    assert r is not None
    assert day(r.counts, 1) == NINE_TO_FIVE  # the cover keeps the head count
    assert day(r.counts, 2) == [0] * 9 + [1] * 8 + [0] * 7
    assert r.people == 3
    # Kai speaks English only, Petra also German: during the cover nobody German is on.
    de = rota.current_rota("de", "de", "Europe/Berlin", date(2026, 11, 2))
    assert de is not None
    assert day(de.counts, 1) == [0] * 9 + [1] * 3 + [0] * 2 + [1] * 3 + [0] * 7


def test_region_and_language_choose_teams_and_people(emea: Any) -> None:
    store(emea.apac, "SG day", [emea.agent])  # Mei: en and zh-Hans, 09:00–17:00 Singapore
    everyone = rota.current_rota(None, None, "UTC", date(2026, 11, 2))
    zh = rota.current_rota(None, "zh-Hans", "UTC", date(2026, 11, 2))
    sg = rota.current_rota("sg", None, "UTC", date(2026, 11, 2))
    assert everyone is not None and zh is not None and sg is not None
    assert everyone.teams == ["APAC", "EMEA"] and sg.teams == ["APAC"]
    # Singapore 09:00–17:00 is 01:00–09:00 UTC; Berlin 09:00–17:00 is 08:00–16:00 UTC.
    assert day(zh.counts, 0) == [0] + [1] * 8 + [0] * 15
    assert day(sg.counts, 0) == day(zh.counts, 0)
    assert day(everyone.counts, 0) == [0] + [1] * 7 + [3] + [2] * 7 + [0] * 8
    # EMEA has a rota but nobody on it speaks Chinese: a rota of zeros (every hour short),
    # not "no rota".
    de_zh = rota.current_rota("de", "zh-Hans", "UTC", date(2026, 11, 2))
    assert de_zh is not None and de_zh.counts == [0] * 168 and de_zh.people == 0
    # An agent who left no longer counts.
    User.objects.filter(pk=emea.petra.pk).update(is_active=False)
    schedules.invalidate()
    left = rota.current_rota("de", None, "UTC", date(2026, 11, 2))
    assert left is not None and day(left.counts, 0) == [0] * 8 + [1] * 8 + [0] * 8
    # On-call rotations page people; they do not staff the queue.
    Rotation.objects.filter(name="SG day").update(kind=Rotation.KIND_ONCALL)
    assert rota.current_rota("sg", None, "UTC", date(2026, 11, 2)) is None


def test_default_week_is_next_week(emea: Any) -> None:
    r = rota.current_rota("de", None, "Europe/Berlin", today=date(2026, 11, 26))
    assert r is not None and r.week_start == date(2026, 11, 30)


def test_half_hours_reach_the_simulation_axis(emea: Any) -> None:
    Rotation.objects.filter(name="DE late").update(duration_minutes=8 * 60 + 30)  # to 17:30
    r = rota.current_rota("de", None, "Europe/Berlin", date(2026, 11, 2))
    assert r is not None
    assert day(r.counts, 0)[17] == 0 and r.mean[17] == pytest.approx(0.5)
    monday = [(t, n) for t, n in r.changes if t < 24 * 3600]
    assert monday == [(0.0, 0), (9 * 3600.0, 2), (17 * 3600.0, 1), (17.5 * 3600, 0)]


def test_layer_by_layer_spans_match_the_whole_schedule() -> None:
    # rota evaluates each layer on its own (fast); the people on shift must be exactly those
    # of routing's spans over the whole schedule, overrides and time off included.
    berlin = [
        shifts.Layer(name=f"l{i}", members=(f"p{i}", f"p{i + 1}"), rrule=f"FREQ=DAILY;BYHOUR={6 + i}",
                     dtstart=datetime(2026, 1, 1, 6 + i), duration=timedelta(hours=7), exclude_holidays=i % 2 == 0)
        for i in range(6)
    ]
    sched = shifts.Schedule(
        tz="Europe/Berlin", layers=tuple(berlin), holidays=frozenset({date(2026, 10, 26)}),
        overrides=(shifts.Override("l1", datetime(2026, 10, 27, 8, tzinfo=UTC), datetime(2026, 10, 27, 10, tzinfo=UTC), "p9"),),
        time_off=(shifts.TimeOff("p3", datetime(2026, 10, 28, tzinfo=UTC), datetime(2026, 10, 29, tzinfo=UTC)),),
    )
    a, b = datetime(2026, 10, 19, tzinfo=BERLIN), datetime(2026, 11, 2, tzinfo=BERLIN)
    fast = sorted((s.person, s.start, s.end, s.layer) for s in rota._layer_spans(sched, a, b) if s.person)
    whole = sorted((s.person, s.start, s.end, s.layer) for s in shifts.spans(sched, a, b) if s.person)
    assert fast == whole and any(p == "p9" for p, *_ in fast)
