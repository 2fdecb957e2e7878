"""Pure report arithmetic (no Django): per-ticket facts, value quantisation, percentiles from
(value, count) histograms, SLA outcomes, and the viewer's calendar (days and hours of the
week in a time zone, across DST).

Percentiles use linear interpolation between closest ranks, numpy's default: the p-th
percentile of ``n`` values is at rank ``(n - 1) * p / 100`` of the sorted values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

# -- SLA outcome of one clock on one ticket ------------------------------------------------

NO_TARGET = 0  # no target, or stopped before the event without a breach (nothing promised)
MET = 1  # the event happened within the target
LATE = 2  # the event happened, after the target
BREACHED = 3  # the target passed and the event has not happened (or never will)
PENDING = 4  # the clock still runs (or is paused) and the target has not passed yet
OUTCOMES = {
    NO_TARGET: "no_target",
    MET: "met",
    LATE: "late",
    BREACHED: "breached",
    PENDING: "pending",
}


def outcome(state: str, target_us: int | None, breached: bool) -> int:
    """Classify a clock (``relaydesk.domain.clock`` states) for compliance."""
    if breached:
        return LATE if state == "met" else BREACHED
    if target_us is None:
        return NO_TARGET
    if state == "met":
        return MET
    if state in ("running", "paused"):
        return PENDING
    return NO_TARGET


def compliance_pct(met: int, late: int, breached: int) -> float | None:
    """Share of decided clocks met within target, in percent (``None`` when none decided)."""
    decided = met + late + breached
    return None if decided == 0 else round(100.0 * met / decided, 2)


# -- quantisation ----------------------------------------------------------------------------


def quantise(seconds: int | None) -> int | None:
    """Seconds kept exactly below 1000 s, otherwise rounded to three significant digits
    (relative error at most 0.5 %). Report histograms group by this value, so a distribution
    over a million tickets is a few thousand (value, count) rows."""
    if seconds is None:
        return None
    if seconds < 1000:
        return max(0, seconds)
    step = 10 ** (len(str(seconds)) - 3)
    return int(((seconds + step // 2) // step) * step)


# -- per-ticket fact ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockColumns:
    state: str
    target_us: int | None
    spent_us: int
    met_at_us: int | None
    breached: bool


@dataclass(frozen=True)
class Measure:
    """One clock of one ticket as reported: wall-clock and business seconds (``None`` until
    the event happened), the target in business seconds and the outcome."""

    wall_s: int | None
    business_s: int | None
    target_s: int | None
    outcome: int


def measure(clock: ClockColumns, created_us: int, event_us: int | None) -> Measure:
    """``event_us`` is when the awaited event happened (first human reply, solve)."""
    done = clock.state == "met" and event_us is not None
    wall = max(0, (event_us - created_us) // 1_000_000) if done and event_us is not None else None
    business = max(0, clock.spent_us // 1_000_000) if done else None
    target = None if clock.target_us is None else clock.target_us // 1_000_000
    return Measure(wall, business, target, outcome(clock.state, clock.target_us, clock.breached))


def resolved_us(solved_us: int | None, closed_us: int | None) -> int | None:
    """When the ticket left the backlog: solved, else closed (``None`` while open)."""
    return solved_us if solved_us is not None else closed_us


# -- percentiles over histograms -----------------------------------------------------------------

PERCENTILES: tuple[float, ...] = (50.0, 90.0, 95.0)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def hist_percentiles(
    values: Sequence[int] | I64, counts: Sequence[int] | I64, ps: Sequence[float] = PERCENTILES
) -> list[float | None]:
    """Percentiles of a distribution given as (value, count) pairs in any order."""
    v = np.asarray(values, dtype=np.int64)
    c = np.asarray(counts, dtype=np.int64)
    if v.size == 0 or int(c.sum()) == 0:
        return [None for _ in ps]
    order = np.argsort(v, kind="stable")
    v, c = v[order], c[order]
    cum = np.cumsum(c)
    n = int(cum[-1])
    out: list[float | None] = []
    for p in ps:
        if not 0 <= p <= 100:
            raise ValueError(f"percentile must be within 0..100, got {p}")
        rank = (n - 1) * p / 100.0
        lo = math.floor(rank)
        hi = min(lo + 1, n - 1)
        v_lo = float(v[int(np.searchsorted(cum, lo, side="right"))])
        v_hi = float(v[int(np.searchsorted(cum, hi, side="right"))])
        out.append(v_lo + (v_hi - v_lo) * (rank - lo))
    return out


@dataclass
class Histogram:
    """Counts per value, merged from database rows."""

    counts: dict[int, int]

    @classmethod
    def empty(cls) -> Histogram:
        return cls({})

    def add(self, value: int, count: int) -> None:
        self.counts[value] = self.counts.get(value, 0) + count

    def merge(self, other: Histogram) -> None:
        for v, c in other.counts.items():
            self.add(v, c)

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    def percentiles(self, ps: Sequence[float] = PERCENTILES) -> list[float | None]:
        return hist_percentiles(list(self.counts), list(self.counts.values()), ps)

    def mean(self) -> float | None:
        n = self.n
        return None if n == 0 else sum(v * c for v, c in self.counts.items()) / n


# -- the viewer's calendar ------------------------------------------------------------------------


class TimeZoneError(ValueError):
    pass


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError) as exc:
        raise TimeZoneError(
            f"unknown time zone {name!r}: use an IANA name such as 'Asia/Singapore'"
        ) from exc


def local_midnight_s(d: date, tz: ZoneInfo) -> int:
    """Epoch seconds of the first instant of local date ``d``."""
    return int(datetime.combine(d, time(0), tzinfo=tz).timestamp())


def range_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[int, int]:
    """[first instant of ``start``, first instant after ``end``) in epoch seconds."""
    return local_midnight_s(start, tz), local_midnight_s(end + timedelta(days=1), tz)


def day_starts(start: date, end: date, tz: ZoneInfo) -> list[tuple[date, int]]:
    """Each local date of the range with the epoch second it starts at."""
    out = []
    d = start
    while d <= end:
        out.append((d, local_midnight_s(d, tz)))
        d += timedelta(days=1)
    return out


def _offset_s(tz: ZoneInfo, t: int) -> int:
    off = datetime.fromtimestamp(t, UTC).astimezone(tz).utcoffset()
    return 0 if off is None else int(off.total_seconds())


def offset_segments(tz: ZoneInfo, start_s: int, end_s: int) -> list[tuple[int, int, int]]:
    """Split [start_s, end_s) into (from, to, utc_offset_s) pieces of constant UTC offset.
    Offsets are probed hourly and each change is located to the second."""
    if end_s <= start_s:
        return []
    segments: list[tuple[int, int, int]] = []
    seg_start = start_s
    cur = _offset_s(tz, start_s)
    t = start_s
    while t < end_s:
        nxt = min(t + 3600, end_s)
        off = _offset_s(tz, nxt) if nxt < end_s else cur
        if off != cur:
            lo, hi = t, nxt  # offset(lo) == cur, offset(hi) != cur
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_s(tz, mid) == cur:
                    lo = mid
                else:
                    hi = mid
            segments.append((seg_start, hi, cur))
            seg_start, cur = hi, _offset_s(tz, hi)
        t = nxt
    segments.append((seg_start, end_s, cur))
    return segments


HOURS_OF_WEEK = 168
# 1970-01-01 was a Thursday: local hour h since the epoch falls on hour-of-week (h + 72) % 168,
# counted from Monday 00:00.
EPOCH_HOW = 72


def hour_of_week(epoch_s: int, offset_s: int) -> int:
    """Hour of the week (Monday 00:00 = 0 … Sunday 23:00 = 167) of an instant at a UTC offset."""
    return ((epoch_s + offset_s) // 3600 + EPOCH_HOW) % HOURS_OF_WEEK


def hour_of_week_in(epoch_s: int, tz: ZoneInfo) -> int:
    return hour_of_week(epoch_s, _offset_s(tz, epoch_s))


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def backlog_series(
    day_ends: Sequence[int],
    open_before: int,
    resolved_before: int,
    created: Iterable[tuple[int, int]],
    resolved: Iterable[tuple[int, int]],
) -> list[int]:
    """Open tickets at each day end. ``open_before``/``resolved_before`` count tickets created
    /resolved before the range; ``created``/``resolved`` are (day index, count) within it."""
    n = len(day_ends)
    c = np.zeros(n, dtype=np.int64)
    r = np.zeros(n, dtype=np.int64)
    for i, k in created:
        if 0 <= i < n:
            c[i] += k
    for i, k in resolved:
        if 0 <= i < n:
            r[i] += k
    series = open_before - resolved_before + np.cumsum(c) - np.cumsum(r)
    return [int(x) for x in series]
