"""Business calendars: when is a support team open, and how much *open* time lies between two
instants.  Pure Python (no Django): standard library, ``zoneinfo`` and the ``holidays`` package.

A calendar is an IANA time zone, weekly opening hours (split shifts such as 09:00–12:00 plus
13:00–18:00, and overnight shifts such as 22:00–06:00 that run into the next day), public
holidays of a country/subdivision, extra closed dates, closures (arbitrary spans such as a
company event) and extra opening dates; or simply 24×7.

Semantics (see ``docs/decisions/0002-business-calendar.md``):

* A holiday or closed date closes the whole *local* date 00:00–24:00, including the part of an
  overnight shift that spills into it.  Make-up working days (China's 调休 weekends, reported by
  ``holidays`` as ``weekend_workdays``) open with the hours of the first weekday that has hours.
* Local wall times are turned into instants with the zone's rules: an opening time that falls in
  a DST gap opens at the transition; in a repeated hour an opening uses the first occurrence and a
  closing the last, so a shift covers all the wall-clock time it names.
* ``add_business_time(t, d)`` with ``d > 0`` returns the instant at which ``d`` of open time has
  elapsed since ``t``; if that is exactly the end of an open span, the end itself (never the start
  of the next span), so a due time is never inside closed time.  ``add_business_time(t, 0) == t``.
* Everything is exact integer microseconds since the Unix epoch (UTC) inside; ``datetime``
  wrappers accept aware datetimes only.

Speed: open spans are generated per local calendar year (lazily, cached) as sorted UTC
microsecond arrays with prefix sums, so one due-time computation is two binary searches.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "BusinessCalendar",
    "CalendarError",
    "from_us",
    "to_us",
]

US = 1_000_000
DAY_US = 86_400 * US
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
MIN_YEAR = 1971
MAX_YEAR = 2200
# A calendar closed this many years in a row is treated as never open (avoids endless loops).
MAX_EMPTY_YEARS = 3


class CalendarError(ValueError):
    """A calendar specification or argument that cannot be used; the message says what to fix."""


def to_us(t: datetime) -> int:
    """Microseconds since the Unix epoch for an aware datetime."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise CalendarError(f"naive datetime {t.isoformat()}: give a time zone (e.g. +00:00)")
    d = t - _EPOCH
    return (d.days * 86_400 + d.seconds) * US + d.microseconds


def from_us(us: int) -> datetime:
    """The aware UTC datetime for microseconds since the Unix epoch."""
    return _EPOCH + timedelta(microseconds=us)


def _td_us(d: timedelta) -> int:
    return (d.days * 86_400 + d.seconds) * US + d.microseconds


def _parse_minute(hh: str, mm: str, text: str, where: str) -> int:
    h, m = int(hh), int(mm)
    if m > 59 or h > 24 or (h == 24 and m != 0):
        raise CalendarError(f"{where}: {text!r} is not a time range like '09:00-18:00'")
    return h * 60 + m


def _parse_ranges(ranges: object, where: str) -> list[tuple[int, int]]:
    """``["09:00-12:00", "22:00-06:00"]`` -> minute ranges; an end at or before the start runs
    past midnight into the next day (end > 1440)."""
    if isinstance(ranges, str) or not isinstance(ranges, Sequence):
        raise CalendarError(
            f"{where}: expected a list of ranges like ['09:00-18:00'], got {ranges!r}"
        )
    out: list[tuple[int, int]] = []
    for text in ranges:
        if not isinstance(text, str):
            raise CalendarError(f"{where}: {text!r} is not a time range like '09:00-18:00'")
        m = _RANGE.match(text.strip())
        if m is None:
            raise CalendarError(f"{where}: {text!r} is not a time range like '09:00-18:00'")
        a = _parse_minute(m[1], m[2], text, where)
        b = _parse_minute(m[3], m[4], text, where)
        if a == 1440:
            raise CalendarError(f"{where}: {text!r} starts at 24:00; start at 00:00 instead")
        if a == b:
            raise CalendarError(f"{where}: {text!r} is empty; for a full day write '00:00-24:00'")
        if b < a:
            b += 1440  # overnight: ends the next day
        out.append((a, b))
    return out


def _parse_date(value: object, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarError(f"{where}: {value!r} is not a date like '2026-12-24'")


def _union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _subtract(spans: list[tuple[int, int]], cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if not cuts:
        return spans
    out: list[tuple[int, int]] = []
    for a, b in spans:
        pieces = [(a, b)]
        for ca, cb in cuts:
            nxt: list[tuple[int, int]] = []
            for pa, pb in pieces:
                if cb <= pa or ca >= pb:
                    nxt.append((pa, pb))
                    continue
                if pa < ca:
                    nxt.append((pa, ca))
                if cb < pb:
                    nxt.append((cb, pb))
            pieces = nxt
        out.extend(pieces)
    return out


@dataclass(slots=True)
class _Year:
    """Open spans of one local calendar year as sorted, disjoint UTC microsecond intervals."""

    lo: int  # instant of local Jan 1 00:00
    hi: int  # instant of local Jan 1 00:00 of the next year
    starts: list[int]
    ends: list[int]
    cum: list[int]  # open time before starts[i], counted from lo
    cum_end: list[int]  # cum[i] + (ends[i] - starts[i])
    total: int

    def pos(self, t: int) -> int:
        """Open time in [lo, t) for lo <= t <= hi."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        e = self.ends[i]
        return self.cum[i] + (t if t < e else e) - self.starts[i]

    def at(self, target: int) -> int:
        """The instant at which ``target`` (0 < target <= total) open time has elapsed."""
        i = bisect.bisect_left(self.cum_end, target)
        return self.starts[i] + target - self.cum[i]


@dataclass(eq=False)
class BusinessCalendar:
    """Opening hours in a time zone.  See the module docstring for the exact semantics."""

    tz: str
    hours: Mapping[str, Sequence[str]] = field(default_factory=dict)
    holiday_country: str | None = None
    holiday_subdiv: str | None = None
    closed_dates: Sequence[date | str] = ()
    closures: Sequence[tuple[datetime | str, datetime | str]] = ()
    open_dates: Mapping[str, Sequence[str]] = field(default_factory=dict)
    always_open: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        try:
            self._zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise CalendarError(
                f"tz: unknown time zone {self.tz!r} (use an IANA name such as 'Asia/Shanghai')"
            ) from exc
        if not isinstance(self.hours, Mapping):
            raise CalendarError("hours: expected an object like {'mon': ['09:00-18:00']}")
        self._weekly: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for day, ranges in self.hours.items():
            key = str(day).strip().lower()[:3]
            if str(day).strip().lower() not in WEEKDAYS and str(day).strip().lower() not in (
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            ):
                raise CalendarError(
                    f"hours: unknown weekday {day!r} (use mon, tue, wed, thu, fri, sat, sun)"
                )
            self._weekly[WEEKDAYS.index(key)].extend(_parse_ranges(ranges, f"hours.{day}"))
        self._closed: set[date] = {_parse_date(d, "closed_dates") for d in self.closed_dates}
        self._open_dates: dict[date, list[tuple[int, int]]] = {
            _parse_date(d, "open_dates"): _parse_ranges(r, f"open_dates.{d}")
            for d, r in self.open_dates.items()
        }
        self._closures: list[tuple[int, int]] = []
        for i, pair in enumerate(self.closures):
            if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
                raise CalendarError(f"closures[{i}]: expected [start, end], got {pair!r}")
            a, b = (self._instant(x, f"closures[{i}]") for x in pair)
            if b <= a:
                raise CalendarError(f"closures[{i}]: end must be after start")
            self._closures.append((a, b))
        self._closures = _union(self._closures)
        if not self.always_open and not any(self._weekly) and not self._open_dates:
            raise CalendarError(
                "hours: the calendar is never open; give weekly hours or set always_open"
            )
        self._holidays: Any = None
        if self.holiday_country:
            import holidays as hol

            try:
                self._holidays = hol.country_holidays(
                    self.holiday_country, subdiv=self.holiday_subdiv or None
                )
            except NotImplementedError as exc:
                raise CalendarError(
                    f"holidays: {exc} (country is an ISO 3166 code such as 'CN', 'DE', 'BR')"
                ) from exc
        self._linear = (
            self.always_open and not self._closures and not self._closed and self._holidays is None
        )
        self._years: dict[int, _Year] = {}
        # (first cached year, lo of each cached year): contiguous years, sorted
        self._span: tuple[int, list[int]] = (0, [])
        self._lock = threading.Lock()

    # -- construction helpers ----------------------------------------------------------

    @classmethod
    def twenty_four_seven(cls, tz: str = "UTC", name: str = "24×7") -> BusinessCalendar:
        return cls(tz=tz, always_open=True, name=name)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> BusinessCalendar:
        """Build from the JSON stored in the database (see :meth:`to_spec`)."""
        if not isinstance(spec, Mapping):
            raise CalendarError("spec: expected an object with 'tz' and 'hours'")
        known = {
            "tz",
            "hours",
            "holidays",
            "closed_dates",
            "closures",
            "open_dates",
            "always_open",
            "name",
        }
        unknown = sorted(set(spec) - known)
        if unknown:
            raise CalendarError(
                f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}"
            )
        tz = spec.get("tz")
        if not isinstance(tz, str) or not tz:
            raise CalendarError("tz: required, an IANA time zone such as 'Europe/Berlin'")
        hol = spec.get("holidays") or {}
        if not isinstance(hol, Mapping):
            raise CalendarError("holidays: expected {'country': 'DE', 'subdiv': 'BY'} or null")
        closures_raw = spec.get("closures") or []
        if not isinstance(closures_raw, list):
            raise CalendarError("closures: expected a list of {'start': ..., 'end': ...}")
        closures: list[tuple[datetime | str, datetime | str]] = []
        for i, c in enumerate(closures_raw):
            if not isinstance(c, Mapping) or "start" not in c or "end" not in c:
                raise CalendarError(
                    f"closures[{i}]: expected {{'start': ISO time, 'end': ISO time}}"
                )
            closures.append((c["start"], c["end"]))
        closed = spec.get("closed_dates") or []
        if not isinstance(closed, list):
            raise CalendarError("closed_dates: expected a list of dates like '2026-12-24'")
        open_dates = spec.get("open_dates") or {}
        if not isinstance(open_dates, Mapping):
            raise CalendarError("open_dates: expected {'2026-02-14': ['09:00-18:00']}")
        always = spec.get("always_open", False)
        if not isinstance(always, bool):
            raise CalendarError("always_open: expected true or false")
        return cls(
            tz=tz,
            hours=spec.get("hours") or {},
            holiday_country=(str(hol["country"]).upper() if hol.get("country") else None),
            holiday_subdiv=(str(hol["subdiv"]) if hol.get("subdiv") else None),
            closed_dates=closed,
            closures=closures,
            open_dates=open_dates,
            always_open=always,
            name=str(spec.get("name") or ""),
        )

    def to_spec(self) -> dict[str, Any]:
        hours = {
            WEEKDAYS[i]: [_fmt_range(a, b) for a, b in r] for i, r in enumerate(self._weekly) if r
        }
        return {
            "tz": self.tz,
            "hours": hours,
            "holidays": (
                {"country": self.holiday_country, "subdiv": self.holiday_subdiv}
                if self.holiday_country
                else None
            ),
            "closed_dates": sorted(d.isoformat() for d in self._closed),
            "closures": [
                {"start": from_us(a).isoformat(), "end": from_us(b).isoformat()}
                for a, b in self._closures
            ],
            "open_dates": {
                d.isoformat(): [_fmt_range(a, b) for a, b in r]
                for d, r in sorted(self._open_dates.items())
            },
            "always_open": self.always_open,
            "name": self.name,
        }

    def _instant(self, value: datetime | str, where: str) -> int:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError as exc:
                raise CalendarError(f"{where}: {value!r} is not an ISO 8601 time") from exc
        if not isinstance(value, datetime):
            raise CalendarError(f"{where}: {value!r} is not a time")
        if value.tzinfo is None:
            return self._local_to_us(
                value.date(), value.hour * 60 + value.minute, closing=False
            ) + (value.second * US + value.microsecond)
        return to_us(value)

    # -- local wall time -> instant --------------------------------------------------------

    def _local_to_us(self, d: date, minute: int, *, closing: bool) -> int:
        """The instant of local wall time ``d`` + ``minute`` (may be >= 1440: a later day)."""
        day_offset, minute = divmod(minute, 1440)
        if day_offset:
            d = d + timedelta(days=day_offset)
        naive = datetime.combine(d, time(minute // 60, minute % 60))
        first = naive.replace(tzinfo=self._zone, fold=0)
        second = naive.replace(tzinfo=self._zone, fold=1)
        u0, u1 = to_us(first), to_us(second)
        if u0 == u1:
            return u0
        if u0 < u1:  # a repeated hour: open at the first, close at the last occurrence
            return u1 if closing else u0
        # A gap (the wall clock jumps over this time): the transition instant, i.e. the first
        # instant whose local wall time is at or after the requested one.
        lo, hi = u1, u0
        want = naive
        while hi - lo > US:
            mid = (lo + hi) // 2
            if from_us(mid).astimezone(self._zone).replace(tzinfo=None) >= want:
                hi = mid
            else:
                lo = mid
        return hi - hi % US

    # -- year tables --------------------------------------------------------------------

    def _is_closed_date(self, d: date) -> bool:
        if d in self._closed:
            return True
        return self._holidays is not None and d in self._holidays

    def _day_ranges(self, d: date) -> list[tuple[int, int]]:
        """Local minute ranges that *start* on date ``d`` (ends may run into the next day)."""
        if d in self._open_dates:
            return self._open_dates[d]
        if self._holidays is not None and d in getattr(self._holidays, "weekend_workdays", ()):
            for wd in range(5):
                if self._weekly[wd]:
                    return self._weekly[wd]
        return self._weekly[d.weekday()]

    def _build_year(self, year: int) -> _Year:
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise CalendarError(f"time out of range: calendars cover {MIN_YEAR}–{MAX_YEAR}")
        if self._holidays is not None:
            for y in (year - 1, year, year + 1):
                if MIN_YEAR - 1 <= y <= MAX_YEAR + 1:
                    _ = date(y, 6, 1) in self._holidays  # expands the holiday table to that year
        lo = self._local_to_us(date(year, 1, 1), 0, closing=False)
        hi = self._local_to_us(date(year + 1, 1, 1), 0, closing=False)
        spans: list[tuple[int, int]] = []
        if self.always_open:
            spans.append((lo, hi))
        else:
            d = date(year - 1, 12, 31)  # overnight shifts of Dec 31 spill into this year
            end = date(year, 12, 31)
            one = timedelta(days=1)
            while d <= end:
                for a, b in self._day_ranges(d):
                    # split at local midnights: each piece belongs to one local date
                    m = a
                    while m < b:
                        day_end = (m // 1440 + 1) * 1440
                        piece_end = min(b, day_end)
                        piece_date = d + timedelta(days=m // 1440)
                        if piece_date.year == year and not self._is_closed_date(piece_date):
                            spans.append(
                                (
                                    self._local_to_us(d, m, closing=False),
                                    self._local_to_us(d, piece_end, closing=True),
                                )
                            )
                        m = piece_end
                d += one
        if self.always_open and (self._closed or self._holidays is not None):
            # closed dates and holidays close the whole local date on a 24×7 calendar too
            closed = {c for c in self._closed if c.year == year}
            if self._holidays is not None:
                closed.update(h for h in self._holidays if h.year == year)
            cuts = [
                (
                    self._local_to_us(c, 0, closing=False),
                    self._local_to_us(c + timedelta(days=1), 0, closing=False),
                )
                for c in sorted(closed)
            ]
            spans = _subtract(spans, cuts)
        spans = _union(spans)
        spans = _subtract(spans, [c for c in self._closures if c[1] > lo and c[0] < hi])
        spans = [(max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo)]
        starts, ends, cum, cum_end = [], [], [], []
        total = 0
        for a, b in spans:
            starts.append(a)
            ends.append(b)
            cum.append(total)
            total += b - a
            cum_end.append(total)
        return _Year(lo, hi, starts, ends, cum, cum_end, total)

    def _year_index(self, t: int) -> int:
        """The local calendar year containing instant ``t`` (builds year tables as needed).

        ``self._span`` = (first cached year, lo of each cached year) is replaced as a whole,
        never changed in place, so a reader on another thread always sees a consistent pair."""
        first, bounds = self._span
        if bounds and bounds[0] <= t < self._years[first + len(bounds) - 1].hi:
            return first + bisect.bisect_right(bounds, t) - 1
        with self._lock:
            first, bounds = self._span
            if not bounds:
                first = max(MIN_YEAR, min(MAX_YEAR, from_us(t).year))
                self._years[first] = self._build_year(first)
                bounds = [self._years[first].lo]
            while t < bounds[0]:
                first -= 1
                self._years[first] = self._build_year(first)
                bounds = [self._years[first].lo, *bounds]
            last = first + len(bounds) - 1
            while t >= self._years[last].hi:
                last += 1
                self._years[last] = self._build_year(last)
                bounds = [*bounds, self._years[last].lo]
            self._span = (first, bounds)
        return first + bisect.bisect_right(bounds, t) - 1

    def _year(self, year: int) -> _Year:
        found = self._years.get(year)
        if found is None:
            with self._lock:
                found = self._years.get(year)
                if found is None:
                    found = self._years[year] = self._build_year(year)
        return found

    # -- the integer core -----------------------------------------------------------------

    def add_business_seconds(self, start_us: int, duration_us: int) -> int:
        """The instant ``duration_us`` microseconds of open time after ``start_us``."""
        if duration_us <= 0:
            if duration_us == 0:
                return start_us
            raise CalendarError("duration must not be negative")
        if self._linear:
            return start_us + duration_us
        i = self._year_index(start_us)
        y = self._year(i)
        target = y.pos(start_us) + duration_us
        empty = 0
        while target > y.total:
            empty = empty + 1 if y.total == 0 else 0
            if empty > MAX_EMPTY_YEARS:
                raise CalendarError(
                    "the calendar has no open time for years; check its hours and closures"
                )
            target -= y.total
            i += 1
            y = self._year(i)
        return y.at(target)

    def business_us_between(self, a_us: int, b_us: int) -> int:
        """Open time in [a, b) in microseconds; negative when b is before a."""
        if b_us < a_us:
            return -self.business_us_between(b_us, a_us)
        if self._linear:
            return b_us - a_us
        i = self._year_index(a_us)
        j = self._year_index(b_us)
        ya = self._year(i)
        if i == j:
            return ya.pos(b_us) - ya.pos(a_us)
        total = ya.total - ya.pos(a_us)
        for k in range(i + 1, j):
            total += self._year(k).total
        return total + self._year(j).pos(b_us)

    def is_open_us(self, t: int) -> bool:
        if self._linear:
            return True
        y = self._year(self._year_index(t))
        k = bisect.bisect_right(y.starts, t) - 1
        return k >= 0 and t < y.ends[k]

    def next_open_us(self, t: int) -> int:
        """``t`` if open at ``t``, else the start of the next open span."""
        if self._linear or self.is_open_us(t):
            return t
        i = self._year_index(t)
        y = self._year(i)
        k = bisect.bisect_right(y.starts, t)
        empty = 0
        while k >= len(y.starts):
            empty += 1
            if empty > MAX_EMPTY_YEARS + 1:
                raise CalendarError(
                    "the calendar has no open time for years; check its hours and closures"
                )
            i += 1
            y = self._year(i)
            k = 0
        return y.starts[k]

    def open_spans_us(self, a_us: int, b_us: int) -> list[tuple[int, int]]:
        """Open spans clipped to [a, b), merged across year boundaries."""
        if b_us <= a_us:
            return []
        if self._linear:
            return [(a_us, b_us)]
        out: list[tuple[int, int]] = []
        i = self._year_index(a_us)
        while True:
            y = self._year(i)
            k = max(0, bisect.bisect_right(y.starts, a_us) - 1)
            while k < len(y.starts) and y.starts[k] < b_us:
                s, e = max(y.starts[k], a_us), min(y.ends[k], b_us)
                if e > s:
                    if out and out[-1][1] == s:
                        out[-1] = (out[-1][0], e)
                    else:
                        out.append((s, e))
                k += 1
            if y.hi >= b_us:
                return out
            i += 1

    # -- datetime API ---------------------------------------------------------------------

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant (UTC) at which ``duration`` of open time has elapsed after ``start``."""
        return from_us(self.add_business_seconds(to_us(start), _td_us(duration)))

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Open time between ``a`` and ``b`` (negative when ``b`` is before ``a``)."""
        return timedelta(microseconds=self.business_us_between(to_us(a), to_us(b)))

    def is_open(self, t: datetime) -> bool:
        return self.is_open_us(to_us(t))

    def next_open(self, t: datetime) -> datetime:
        return from_us(self.next_open_us(to_us(t)))

    def open_intervals(self, a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
        return [(from_us(s), from_us(e)) for s, e in self.open_spans_us(to_us(a), to_us(b))]

    def local(self, t: datetime) -> datetime:
        """``t`` in the calendar's time zone."""
        return t.astimezone(self._zone)

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.name or self.tz!r})"


def _fmt_range(a: int, b: int) -> str:
    def hm(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"

    return f"{hm(a)}-{hm(b if b <= 1440 else b - 1440)}"
