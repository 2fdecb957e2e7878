"""Business calendar, hand-checked: every expected value below was worked out by hand from the
local opening hours, the holiday list and the zone's offsets (the arithmetic is in the comment
next to it), then written as a literal instant.

Offsets used: Asia/Shanghai +08 all year; Europe/Berlin CET +01 / CEST +02 (2026: summer time
from Sun 03-29 01:00Z, 02:00→03:00 local; back on Sun 10-25 01:00Z, 03:00→02:00 local, so
02:00–02:59 happens twice); America/New_York EST −05 / EDT −04 (2026: Mar 8 and Nov 1);
America/Sao_Paulo BRT −03 / BRST −02 (2018: summer time from Sun 11-04 03:00Z, local
00:00→01:00, so that midnight never happened).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from relaydesk.domain.calendar import BusinessCalendar, CalendarError, from_us, to_us

SH = ZoneInfo("Asia/Shanghai")
BER = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")
SP = ZoneInfo("America/Sao_Paulo")
WORKWEEK = ("mon", "tue", "wed", "thu", "fri")
EVERY_DAY = (*WORKWEEK, "sat", "sun")


def H(hours: float) -> timedelta:
    return timedelta(hours=hours)


def Z(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A literal UTC instant."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def hours_on(days: tuple[str, ...], *ranges: str) -> dict[str, list[str]]:
    return {d: list(ranges) for d in days}


@pytest.fixture(scope="module")
def shanghai() -> BusinessCalendar:
    return BusinessCalendar(
        tz="Asia/Shanghai",
        hours=hours_on(WORKWEEK, "09:00-12:00", "13:00-18:00"),
        holiday_country="CN",
        name="Shanghai split",
    )


@pytest.fixture(scope="module")
def berlin() -> BusinessCalendar:
    return BusinessCalendar(
        tz="Europe/Berlin", hours=hours_on(WORKWEEK, "09:00-18:00"), holiday_country="DE"
    )


@pytest.fixture(scope="module")
def night() -> BusinessCalendar:
    """A Berlin night desk, every night 22:00–06:00, closed on German public holidays."""
    return BusinessCalendar(
        tz="Europe/Berlin", hours=hours_on(EVERY_DAY, "22:00-06:00"), holiday_country="DE"
    )


@pytest.fixture(scope="module")
def new_york() -> BusinessCalendar:
    return BusinessCalendar(
        tz="America/New_York", hours=hours_on(WORKWEEK, "09:00-17:00"), holiday_country="US"
    )


@pytest.fixture(scope="module")
def sao_paulo() -> BusinessCalendar:
    return BusinessCalendar(
        tz="America/Sao_Paulo", hours=hours_on(WORKWEEK, "09:00-18:00"), holiday_country="BR"
    )


# -- Asia/Shanghai: split shift, Chinese holidays, 调休 make-up working days -----------------


def test_split_shift_skips_lunch(shanghai: BusinessCalendar) -> None:
    # Tue 2026-03-10 11:00 + 2h: 11:00–12:00 (1h), lunch, 13:00–14:00 (1h) → 14:00 +08 = 06:00Z
    assert shanghai.add_business_time(datetime(2026, 3, 10, 11, tzinfo=SH), H(2)) == Z(
        2026, 3, 10, 6
    )
    # starting in the lunch break: 12:30 + 30 min → 13:30 +08 = 05:30Z
    assert shanghai.add_business_time(datetime(2026, 3, 10, 12, 30, tzinfo=SH), H(0.5)) == Z(
        2026, 3, 10, 5, 30
    )
    # before opening: 07:00 + 1h → 10:00 +08 = 02:00Z
    assert shanghai.add_business_time(datetime(2026, 3, 10, 7, tzinfo=SH), H(1)) == Z(
        2026, 3, 10, 2
    )


def test_due_at_end_of_span_is_the_end_not_the_next_start(shanghai: BusinessCalendar) -> None:
    start = datetime(2026, 3, 10, 11, tzinfo=SH)  # Tue
    # 11:00 + 1h ends exactly at 12:00 (the lunch break): due 12:00 +08 = 04:00Z, not 13:00
    assert shanghai.add_business_time(start, H(1)) == Z(2026, 3, 10, 4)
    # 1h (11–12) + 5h (13–18) = 6h → exactly 18:00 Tue = 10:00Z, not Wed 09:00
    assert shanghai.add_business_time(start, H(6)) == Z(2026, 3, 10, 10)
    # 7h: 6h on Tue, 1h on Wed 09:00–10:00 → Wed 10:00 +08 = Wed 02:00Z
    assert shanghai.add_business_time(start, H(7)) == Z(2026, 3, 11, 2)
    # the result is a UTC datetime
    assert shanghai.add_business_time(start, H(1)).tzinfo == UTC


def test_chinese_new_year_and_make_up_saturdays(shanghai: BusinessCalendar) -> None:
    # 2026 Spring Festival: holidays lists Mon 02-16 … Fri 02-20 and Mon 02-23 (Sun 02-15 and
    # the weekend 02-21/22 are weekends anyway); Sat 02-14 and Sat 02-28 are make-up workdays.
    # Fri 02-13 17:00 + 2h: 1h Fri (17–18), then Sat 02-14 opens with Monday's hours:
    # 09:00 + 1h = 10:00 +08 = 02:00Z.
    assert shanghai.add_business_time(datetime(2026, 2, 13, 17, tzinfo=SH), H(2)) == Z(
        2026, 2, 14, 2
    )
    # Sat 02-14 17:00 + 2h: 1h Sat, then closed Sun 15 … Mon 23 → Tue 02-24 09:00 + 1h
    # = 10:00 +08 = 02:00Z.
    assert shanghai.add_business_time(datetime(2026, 2, 14, 17, tzinfo=SH), H(2)) == Z(
        2026, 2, 24, 2
    )
    # Fri 02-13 18:00 → Tue 02-24 09:00: only the make-up Saturday is open, 3h + 5h = 8h
    assert shanghai.business_time_between(
        datetime(2026, 2, 13, 18, tzinfo=SH), datetime(2026, 2, 24, 9, tzinfo=SH)
    ) == H(8)
    assert shanghai.is_open(datetime(2026, 2, 14, 10, tzinfo=SH))
    assert not shanghai.is_open(datetime(2026, 2, 14, 12, 30, tzinfo=SH))  # lunch applies too
    assert not shanghai.is_open(datetime(2026, 2, 17, 10, tzinfo=SH))  # New Year's Day
    # Sat 02-28 is a make-up day, Sat 03-07 an ordinary Saturday
    assert shanghai.is_open(datetime(2026, 2, 28, 10, tzinfo=SH))
    assert not shanghai.is_open(datetime(2026, 3, 7, 10, tzinfo=SH))
    # Fri 02-27 18:00 → Mon 03-02 09:00: the whole of Sat 02-28 = 8h
    assert shanghai.business_time_between(
        datetime(2026, 2, 27, 18, tzinfo=SH), datetime(2026, 3, 2, 9, tzinfo=SH)
    ) == H(8)


def test_national_day_golden_week(shanghai: BusinessCalendar) -> None:
    # Oct 1–7 2026 closed (Thu 1 … Wed 7; Sun 4 is a weekend); Thu 10-08 is a working day.
    # Wed 09-30 17:00 + 3h: 1h Wed, then Thu 10-08 09:00 + 2h = 11:00 +08 = 03:00Z.
    assert shanghai.add_business_time(datetime(2026, 9, 30, 17, tzinfo=SH), H(3)) == Z(
        2026, 10, 8, 3
    )
    # Make-up days around it: Sun 09-20 and Sat 10-10 open 09–12, 13–18 (8h each)
    assert shanghai.business_time_between(
        datetime(2026, 9, 19, tzinfo=SH), datetime(2026, 9, 21, tzinfo=SH)
    ) == H(8)
    assert shanghai.business_time_between(
        datetime(2026, 10, 10, tzinfo=SH), datetime(2026, 10, 11, tzinfo=SH)
    ) == H(8)


def test_negative_between(shanghai: BusinessCalendar) -> None:
    a = datetime(2026, 3, 10, 11, tzinfo=SH)
    b = datetime(2026, 3, 10, 14, tzinfo=SH)
    # 11–12 and 13–14 are open: 2h forwards, −2h backwards
    assert shanghai.business_time_between(a, b) == H(2)
    assert shanghai.business_time_between(b, a) == -H(2)
    assert shanghai.business_time_between(a, a) == timedelta(0)


def test_zero_duration_is_the_start_even_when_closed(shanghai: BusinessCalendar) -> None:
    sunday = datetime(2026, 3, 8, 3, 17, 5, 123456, tzinfo=SH)
    assert shanghai.add_business_time(sunday, timedelta(0)) == sunday
    assert shanghai.add_business_seconds(to_us(sunday), 0) == to_us(sunday)


def test_open_is_half_open_and_next_open(shanghai: BusinessCalendar) -> None:
    assert shanghai.is_open(datetime(2026, 3, 10, 9, tzinfo=SH))  # the start is open
    assert not shanghai.is_open(datetime(2026, 3, 10, 12, tzinfo=SH))  # the end is not
    # Fri 03-13 18:00 → next open Mon 03-16 09:00 +08 = 01:00Z
    assert shanghai.next_open(datetime(2026, 3, 13, 18, tzinfo=SH)) == Z(2026, 3, 16, 1)
    inside = datetime(2026, 3, 10, 10, tzinfo=SH)
    assert shanghai.next_open(inside) == inside
    # Tue 03-10 10:00–14:00 → [10–12), [13–14) as UTC
    assert shanghai.open_intervals(inside, datetime(2026, 3, 10, 14, tzinfo=SH)) == [
        (Z(2026, 3, 10, 2), Z(2026, 3, 10, 4)),
        (Z(2026, 3, 10, 5), Z(2026, 3, 10, 6)),
    ]


# -- Europe/Berlin across both DST changes ---------------------------------------------------


def test_berlin_office_over_the_spring_weekend(berlin: BusinessCalendar) -> None:
    # Fri 03-27 17:00 CET (16:00Z) + 2h: 1h Fri, weekend (clocks go forward Sunday),
    # Mon 03-30 09:00 CEST + 1h = 10:00 CEST = 08:00Z
    start = datetime(2026, 3, 27, 17, tzinfo=BER)
    assert berlin.add_business_time(start, H(2)) == Z(2026, 3, 30, 8)
    assert berlin.business_time_between(start, Z(2026, 3, 30, 8)) == H(2)


def test_berlin_office_over_the_autumn_weekend(berlin: BusinessCalendar) -> None:
    # Fri 10-23 17:00 CEST + 2h: 1h Fri, Mon 10-26 09:00 CET + 1h = 10:00 CET = 09:00Z
    assert berlin.add_business_time(datetime(2026, 10, 23, 17, tzinfo=BER), H(2)) == Z(
        2026, 10, 26, 9
    )


def test_overnight_shift_when_clocks_go_forward(night: BusinessCalendar) -> None:
    # Sat 03-28 22:00 CET = 21:00Z until Sun 03-29 06:00 CEST = 04:00Z: 7 real hours
    assert night.open_intervals(Z(2026, 3, 28, 12), Z(2026, 3, 29, 12)) == [
        (Z(2026, 3, 28, 21), Z(2026, 3, 29, 4))
    ]
    assert night.business_time_between(Z(2026, 3, 28, 12), Z(2026, 3, 29, 12)) == H(7)
    # 7h from the start ends exactly at 06:00 CEST = 04:00Z
    assert night.add_business_time(Z(2026, 3, 28, 21), H(7)) == Z(2026, 3, 29, 4)
    # one more minute: Sun 22:00 CEST = 20:00Z + 1 min
    assert night.add_business_time(Z(2026, 3, 28, 21), H(7) + timedelta(minutes=1)) == Z(
        2026, 3, 29, 20, 1
    )


def test_overnight_shift_when_clocks_go_back(night: BusinessCalendar) -> None:
    # Sat 10-24 22:00 CEST = 20:00Z until Sun 10-25 06:00 CET = 05:00Z: 9 real hours
    assert night.business_time_between(Z(2026, 10, 24, 12), Z(2026, 10, 25, 12)) == H(9)
    # 8h from 20:00Z → 04:00Z (= 05:00 CET, the second pass through the night is counted)
    assert night.add_business_time(Z(2026, 10, 24, 20), H(8)) == Z(2026, 10, 25, 4)


def test_shift_starting_inside_the_gap_and_the_fold() -> None:
    cal = BusinessCalendar(tz="Europe/Berlin", hours={"sun": ["02:30-10:00"]})
    # 03-29: 02:30 does not exist → opens at the transition 01:00Z (03:00 CEST);
    # closes 10:00 CEST = 08:00Z: 7h
    assert cal.next_open(Z(2026, 3, 28, 12)) == Z(2026, 3, 29, 1)
    assert cal.open_intervals(Z(2026, 3, 28, 12), Z(2026, 3, 30)) == [
        (Z(2026, 3, 29, 1), Z(2026, 3, 29, 8))
    ]
    assert cal.add_business_time(Z(2026, 3, 29), H(1)) == Z(2026, 3, 29, 2)
    # 10-25: 02:30 happens twice → opens at the first (CEST, 00:30Z); 10:00 CET = 09:00Z: 8.5h
    assert cal.open_intervals(Z(2026, 10, 24, 12), Z(2026, 10, 26)) == [
        (Z(2026, 10, 25, 0, 30), Z(2026, 10, 25, 9))
    ]
    assert cal.business_time_between(Z(2026, 10, 25), Z(2026, 10, 26)) == H(8.5)
    # a start in the second 02:15 (CET, 01:15Z) is inside the shift: + 1h = 02:15Z
    second_0215 = datetime(2026, 10, 25, 2, 15, tzinfo=BER, fold=1)
    assert to_us(second_0215) == to_us(Z(2026, 10, 25, 1, 15))
    assert cal.is_open(second_0215)
    assert cal.add_business_time(second_0215, H(1)) == Z(2026, 10, 25, 2, 15)


def test_shift_ending_inside_the_gap_and_the_fold() -> None:
    cal = BusinessCalendar(tz="Europe/Berlin", hours={"sun": ["00:00-02:30"]})
    # 03-29: 00:00 CET = 03-28 23:00Z until the transition 01:00Z (02:30 does not exist): 2h
    assert cal.open_intervals(Z(2026, 3, 28, 12), Z(2026, 3, 30)) == [
        (Z(2026, 3, 28, 23), Z(2026, 3, 29, 1))
    ]
    # 10-25: 00:00 CEST = 10-24 22:00Z until the *last* 02:30 (CET) = 01:30Z: 3.5h
    assert cal.business_time_between(Z(2026, 10, 24, 12), Z(2026, 10, 26)) == H(3.5)
    assert cal.add_business_time(Z(2026, 10, 24, 22), H(3.5)) == Z(2026, 10, 25, 1, 30)


# -- America/Sao_Paulo: 2018-11-04 had no midnight ---------------------------------------------


def test_sao_paulo_holiday_then_dst_weekend(sao_paulo: BusinessCalendar) -> None:
    # Thu 11-01 17:00 BRT (20:00Z) + 2h: 1h Thu, Fri 11-02 Finados, weekend (DST starts),
    # Mon 11-05 09:00 BRST + 1h = 10:00 −02 = 12:00Z
    start = datetime(2018, 11, 1, 17, tzinfo=SP)
    assert to_us(start) == to_us(Z(2018, 11, 1, 20))
    assert sao_paulo.add_business_time(start, H(2)) == Z(2018, 11, 5, 12)
    assert sao_paulo.business_time_between(start, Z(2018, 11, 5, 12)) == H(2)


def test_sao_paulo_shift_starting_at_a_missing_midnight() -> None:
    cal = BusinessCalendar(tz="America/Sao_Paulo", hours={"sun": ["00:00-08:00"]})
    # Sun 10-28 (no DST yet): 00:00 BRT = 03:00Z to 08:00 BRT = 11:00Z, 8h
    assert cal.open_intervals(Z(2018, 10, 27, 12), Z(2018, 10, 29)) == [
        (Z(2018, 10, 28, 3), Z(2018, 10, 28, 11))
    ]
    # Sun 11-04: 00:00 never happened → opens at the transition 03:00Z (01:00 BRST);
    # 08:00 BRST = 10:00Z: 7h
    assert cal.next_open(Z(2018, 11, 3, 12)) == Z(2018, 11, 4, 3)
    assert cal.business_time_between(Z(2018, 11, 3, 12), Z(2018, 11, 5)) == H(7)


def test_sao_paulo_overnight_shift_into_the_missing_midnight() -> None:
    cal = BusinessCalendar(tz="America/Sao_Paulo", hours={"sat": ["20:00-02:00"]})
    # Sat 11-03 20:00 BRT = 23:00Z until Sun 02:00 BRST = 04:00Z: 5 real hours
    assert cal.open_intervals(Z(2018, 11, 3), Z(2018, 11, 5)) == [
        (Z(2018, 11, 3, 23), Z(2018, 11, 4, 4))
    ]
    assert cal.add_business_time(Z(2018, 11, 3, 23), H(5)) == Z(2018, 11, 4, 4)


def test_closed_date_that_is_23_hours_long() -> None:
    cal = BusinessCalendar(tz="America/Sao_Paulo", always_open=True, closed_dates=["2018-11-04"])
    # local 11-04 runs from the transition 03:00Z to 11-05 00:00 BRST = 02:00Z (23h)
    # 11-04 02:00Z (Sat 23:00 BRT) + 2h: 1h until 03:00Z, then 11-05 02:00Z + 1h = 03:00Z
    assert cal.add_business_time(Z(2018, 11, 4, 2), H(2)) == Z(2018, 11, 5, 3)
    # 48 real hours minus the 23-hour local date
    assert cal.business_time_between(Z(2018, 11, 4), Z(2018, 11, 6)) == H(25)


# -- America/New_York ---------------------------------------------------------------------------


def test_new_york_dst_both_ways(new_york: BusinessCalendar) -> None:
    # Fri 03-06 16:00 EST (21:00Z) + 2h: 1h Fri, Mon 03-09 09:00 EDT + 1h = 10:00 −04 = 14:00Z
    assert new_york.add_business_time(datetime(2026, 3, 6, 16, tzinfo=NY), H(2)) == Z(
        2026, 3, 9, 14
    )
    # Fri 10-30 16:00 EDT (20:00Z) + 2h: 1h Fri, Mon 11-02 09:00 EST + 1h = 10:00 −05 = 15:00Z
    assert new_york.add_business_time(datetime(2026, 10, 30, 16, tzinfo=NY), H(2)) == Z(
        2026, 11, 2, 15
    )


def test_new_york_thanksgiving(new_york: BusinessCalendar) -> None:
    # Wed 11-25 16:00 EST + 2h: 1h Wed, Thu 11-26 Thanksgiving closed,
    # Fri 11-27 09:00 + 1h = 10:00 −05 = 15:00Z
    assert new_york.add_business_time(datetime(2026, 11, 25, 16, tzinfo=NY), H(2)) == Z(
        2026, 11, 27, 15
    )
    # Wed, Thu, Fri: 8h + 0h + 8h
    assert new_york.business_time_between(
        datetime(2026, 11, 25, tzinfo=NY), datetime(2026, 11, 28, tzinfo=NY)
    ) == H(16)


def test_new_york_year_end_observed_holiday(new_york: BusinessCalendar) -> None:
    # Thu 2027-12-30 16:00 EST + 2h: 1h Thu, Fri 12-31 is New Year's Day (observed),
    # Sat/Sun 2028-01-01/02, Mon 01-03 09:00 + 1h = 10:00 −05 = 15:00Z
    assert new_york.add_business_time(datetime(2027, 12, 30, 16, tzinfo=NY), H(2)) == Z(
        2028, 1, 3, 15
    )


# -- year end and leap day --------------------------------------------------------------------


def test_berlin_year_end_with_new_years_day(berlin: BusinessCalendar) -> None:
    # Thu 2026-12-31 17:00 CET + 2h: 1h Thu, Fri 2027-01-01 Neujahr, weekend,
    # Mon 01-04 09:00 + 1h = 10:00 CET = 09:00Z
    start = datetime(2026, 12, 31, 17, tzinfo=BER)
    assert berlin.add_business_time(start, H(2)) == Z(2027, 1, 4, 9)
    assert berlin.business_time_between(start, Z(2027, 1, 4, 9)) == H(2)
    assert berlin.business_time_between(Z(2027, 1, 4, 9), start) == -H(2)


def test_overnight_shift_into_a_holiday_at_year_end(night: BusinessCalendar) -> None:
    # Thu 12-31 22:00 CET (21:00Z): open until midnight only, because Jan 1 is a holiday and a
    # holiday closes the whole local date (also the part of Dec 31's shift that spills into it
    # and Jan 1's own 22:00–24:00). Jan 1's shift spills into Jan 2 00:00–06:00, which is open.
    start = Z(2026, 12, 31, 21)
    assert night.add_business_time(start, H(2)) == Z(2026, 12, 31, 23)  # 2027-01-01 00:00 CET
    # 3h: 2h on Dec 31, then Jan 2 00:00 CET + 1h = 01:00 CET = 2027-01-02 00:00Z
    assert night.add_business_time(start, H(3)) == Z(2027, 1, 2, 0)
    assert not night.is_open(datetime(2027, 1, 1, 3, tzinfo=BER))
    assert not night.is_open(datetime(2027, 1, 1, 23, tzinfo=BER))
    assert night.is_open(datetime(2027, 1, 2, 3, tzinfo=BER))


def test_overnight_shift_across_new_year_without_holidays() -> None:
    cal = BusinessCalendar(tz="Asia/Shanghai", hours=hours_on(EVERY_DAY, "22:00-02:00"))
    # Thu 2026-12-31 22:00 +08 (14:00Z) runs on into 2027-01-01 until 02:00 +08 = 18:00Z
    assert cal.open_intervals(Z(2026, 12, 31, 12), Z(2026, 12, 31, 20)) == [
        (Z(2026, 12, 31, 14), Z(2026, 12, 31, 18))
    ]
    # 3h from 23:00 +08: 23:00 → 02:00 +08 is exactly 3h, due at the end of the span = 18:00Z
    assert cal.add_business_time(datetime(2026, 12, 31, 23, tzinfo=SH), H(3)) == Z(2026, 12, 31, 18)
    # 4h: then Fri 01-01 22:00 +08 (14:00Z) + 1h = 15:00Z
    assert cal.add_business_time(datetime(2026, 12, 31, 23, tzinfo=SH), H(4)) == Z(2027, 1, 1, 15)


def test_leap_day(berlin: BusinessCalendar) -> None:
    start = datetime(2028, 2, 28, 17, tzinfo=BER)  # Mon
    # 9h: 1h Mon, 8h Tue 02-29 09:00–17:00 → 17:00 CET = 16:00Z
    assert berlin.add_business_time(start, H(9)) == Z(2028, 2, 29, 16)
    # 10h ends exactly at the close of the leap day, 18:00 CET = 17:00Z
    assert berlin.add_business_time(start, H(10)) == Z(2028, 2, 29, 17)
    # 11h: Wed 03-01 09:00 + 1h = 10:00 CET = 09:00Z
    assert berlin.add_business_time(start, H(11)) == Z(2028, 3, 1, 9)
    # Mon + Tue 29th = 2 × 9h
    assert berlin.business_time_between(
        datetime(2028, 2, 28, tzinfo=BER), datetime(2028, 3, 1, tzinfo=BER)
    ) == H(18)
    always = BusinessCalendar.twenty_four_seven("UTC")
    assert always.business_time_between(Z(2028, 2, 28), Z(2028, 3, 1)) == H(48)


# -- closures, closed dates, 24×7 ---------------------------------------------------------------


def test_closure_span() -> None:
    cal = BusinessCalendar(
        tz="Europe/Berlin",
        hours=hours_on(WORKWEEK, "09:00-18:00"),
        closures=[("2026-06-10T12:00:00+02:00", "2026-06-11T12:00:00+02:00")],
    )
    # Wed 06-10 11:00 CEST + 2h: 1h until the closure at 12:00, closed until Thu 12:00,
    # + 1h = Thu 13:00 CEST = 11:00Z
    assert cal.add_business_time(datetime(2026, 6, 10, 11, tzinfo=BER), H(2)) == Z(2026, 6, 11, 11)
    # Wed 09–12 (3h) + Thu 12–18 (6h)
    assert cal.business_time_between(
        datetime(2026, 6, 10, 9, tzinfo=BER), datetime(2026, 6, 12, 9, tzinfo=BER)
    ) == H(9)
    # a naive closure is local wall time: the same calendar
    naive = BusinessCalendar(
        tz="Europe/Berlin",
        hours=hours_on(WORKWEEK, "09:00-18:00"),
        closures=[(datetime(2026, 6, 10, 12), datetime(2026, 6, 11, 12))],
    )
    assert naive.open_intervals(Z(2026, 6, 8), Z(2026, 6, 13)) == cal.open_intervals(
        Z(2026, 6, 8), Z(2026, 6, 13)
    )


def test_closed_date_before_christmas() -> None:
    cal = BusinessCalendar(
        tz="Europe/Berlin",
        hours=hours_on(WORKWEEK, "09:00-18:00"),
        holiday_country="DE",
        closed_dates=["2026-12-24"],
    )
    # Wed 12-23 17:00 + 2h: 1h Wed, Thu 24 closed date, Fri 25 / Sat 26 holidays, Sun,
    # Mon 12-28 09:00 + 1h = 10:00 CET = 09:00Z
    assert cal.add_business_time(datetime(2026, 12, 23, 17, tzinfo=BER), H(2)) == Z(2026, 12, 28, 9)
    assert not cal.is_open(datetime(2026, 12, 24, 10, tzinfo=BER))


def test_twenty_four_seven_counts_real_time_across_dst() -> None:
    cal = BusinessCalendar.twenty_four_seven("Europe/Berlin")
    # Sat 03-28 12:00Z + 24h: the wall clock moves 25h, real time 24h
    assert cal.add_business_time(Z(2026, 3, 28, 12), H(24)) == Z(2026, 3, 29, 12)
    assert cal.business_time_between(Z(2026, 10, 25), Z(2026, 10, 24)) == -H(24)
    assert cal.is_open(Z(2026, 3, 29, 1, 30))
    t = datetime(2026, 5, 1, 12, 0, 0, 1, tzinfo=BER)
    assert cal.next_open(t) == t


def test_twenty_four_seven_with_holidays_closes_them() -> None:
    # Holidays close the whole local date on a 24×7 calendar too (as closed_dates do).
    cal = BusinessCalendar(tz="Europe/Berlin", always_open=True, holiday_country="DE")
    # Thu 12-24 12:00 CET + 24h: 12h until midnight, Fri 25 + Sat 26 closed,
    # Sun 12-27 00:00 + 12h = 12:00 CET = 11:00Z
    assert cal.add_business_time(datetime(2026, 12, 24, 12, tzinfo=BER), H(24)) == Z(
        2026, 12, 27, 11
    )
    assert not cal.is_open(datetime(2026, 12, 25, 12, tzinfo=BER))


def test_open_dates_add_hours_on_a_closed_day() -> None:
    cal = BusinessCalendar(
        tz="Asia/Shanghai",
        hours=hours_on(WORKWEEK, "09:00-18:00"),
        open_dates={"2026-03-08": ["10:00-14:00"]},  # a Sunday
    )
    # Sat 03-07 00:00 → Mon 03-09 00:00: only Sun 10:00–14:00
    assert cal.business_time_between(
        datetime(2026, 3, 7, tzinfo=SH), datetime(2026, 3, 9, tzinfo=SH)
    ) == H(4)


# -- spec round trip ----------------------------------------------------------------------------


def test_spec_round_trip_keeps_behaviour() -> None:
    spec = {
        "tz": "Asia/Shanghai",
        "hours": {
            **hours_on(WORKWEEK, "09:00-12:00", "13:00-18:00"),
            "sat": ["22:00-06:00"],
        },
        "holidays": {"country": "CN"},
        "closed_dates": ["2026-12-24"],
        "closures": [{"start": "2026-06-10T12:00:00+08:00", "end": "2026-06-11T12:00:00+08:00"}],
        "open_dates": {"2026-03-08": ["10:00-14:00"]},
        "always_open": False,
        "name": "round trip",
    }
    first = BusinessCalendar.from_spec(spec)
    stored = json.loads(json.dumps(first.to_spec()))  # what the database keeps
    second = BusinessCalendar.from_spec(stored)
    assert second.to_spec() == first.to_spec()
    assert stored["hours"]["sat"] == ["22:00-06:00"]
    lo, hi = Z(2025, 12, 20), Z(2027, 1, 10)
    assert second.open_intervals(lo, hi) == first.open_intervals(lo, hi)
    step = 7 * 3600 * 1_000_000 + 13 * 60 * 1_000_000
    for t in range(to_us(lo), to_us(hi), step):
        for d in (1, 45 * 60 * 1_000_000, 3 * 86_400 * 1_000_000):
            assert second.add_business_seconds(t, d) == first.add_business_seconds(t, d)
    assert second.business_time_between(lo, hi) == first.business_time_between(lo, hi)


def test_spec_round_trip_twenty_four_seven() -> None:
    first = BusinessCalendar.twenty_four_seven("America/Sao_Paulo")
    second = BusinessCalendar.from_spec(first.to_spec())
    assert second.to_spec() == first.to_spec()
    assert second.add_business_time(Z(2018, 11, 3), H(50)) == Z(2018, 11, 5, 2)


# -- errors name the offending thing ------------------------------------------------------------


def test_unknown_time_zone() -> None:
    with pytest.raises(CalendarError, match=re.escape("'Mars/Olympus_Mons'")):
        BusinessCalendar(tz="Mars/Olympus_Mons", hours=hours_on(WORKWEEK, "09:00-17:00"))


def test_bad_range() -> None:
    with pytest.raises(CalendarError, match=r"hours\.mon.*'9-5'"):
        BusinessCalendar(tz="UTC", hours={"mon": ["9-5"]})
    with pytest.raises(CalendarError, match=re.escape("'25:00-26:00'")):
        BusinessCalendar(tz="UTC", hours={"tue": ["25:00-26:00"]})
    with pytest.raises(CalendarError, match=re.escape("'09:00-09:00'")):
        BusinessCalendar(tz="UTC", hours={"tue": ["09:00-09:00"]})


def test_unknown_weekday() -> None:
    with pytest.raises(CalendarError, match=re.escape("'funday'")):
        BusinessCalendar(tz="UTC", hours={"funday": ["09:00-17:00"]})


def test_never_open_calendar() -> None:
    with pytest.raises(CalendarError, match="never open"):
        BusinessCalendar(tz="UTC", hours={})


def test_naive_datetime(berlin: BusinessCalendar) -> None:
    with pytest.raises(CalendarError, match=re.escape("naive datetime 2026-03-10T09:00:00")):
        berlin.add_business_time(datetime(2026, 3, 10, 9), H(1))
    with pytest.raises(CalendarError, match="naive datetime"):
        berlin.business_time_between(Z(2026, 3, 10), datetime(2026, 3, 11))


def test_unknown_holiday_country() -> None:
    with pytest.raises(CalendarError, match=r"holidays.*\bXX\b"):
        BusinessCalendar(tz="UTC", hours={"mon": ["09:00-17:00"]}, holiday_country="XX")


def test_negative_duration_and_bad_spec() -> None:
    cal = BusinessCalendar.twenty_four_seven()
    with pytest.raises(CalendarError, match="negative"):
        cal.add_business_time(Z(2026, 1, 1), -H(1))
    with pytest.raises(CalendarError, match="colour"):
        BusinessCalendar.from_spec({"tz": "UTC", "always_open": True, "colour": "red"})
    with pytest.raises(CalendarError, match=re.escape("'2026-13-01'")):
        BusinessCalendar(tz="UTC", always_open=True, closed_dates=["2026-13-01"])


def test_microsecond_helpers_round_trip() -> None:
    t = datetime(2028, 2, 29, 23, 59, 59, 999_999, tzinfo=SH)
    assert from_us(to_us(t)) == t
    assert to_us(Z(1970, 1, 1)) == 0


def test_year_tables_are_safe_to_build_from_several_threads() -> None:
    """Threads asking a fresh calendar about instants years apart (so year tables are built
    both forwards and backwards at once) get the same answers as a single thread."""
    import random
    import threading

    spec = {"tz": "Europe/Berlin", "hours": {"mon": ["09:00-18:00"], "thu": ["22:00-06:00"]}, "holidays": {"country": "DE"}}
    rng = random.Random(7)
    base = to_us(datetime(2026, 6, 1, tzinfo=UTC))
    year_us = 365 * 86_400_000_000
    calls = [(base + rng.randint(-8, 8) * year_us + rng.randint(0, year_us), rng.randint(1, 40) * 3_600_000_000) for _ in range(400)]
    reference = BusinessCalendar.from_spec(spec)
    expected = [reference.add_business_seconds(t, d) for t, d in calls]
    shared = BusinessCalendar.from_spec(spec)
    results: dict[int, list[int]] = {}

    def run(k: int) -> None:
        order = list(range(len(calls)))
        random.Random(k).shuffle(order)
        out = [0] * len(calls)
        for i in order:
            out[i] = shared.add_business_seconds(*calls[i])
        results[k] = out

    threads = [threading.Thread(target=run, args=(k,)) for k in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert len(results) == 6
    for out in results.values():
        assert out == expected
