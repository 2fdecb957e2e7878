"""Shifts: who is on shift at an instant.  Pure Python (no Django): ``zoneinfo`` and
``python-dateutil``'s ``rrule`` (recurrences are never parsed by hand).

A *schedule* belongs to a team and lives in the team's IANA time zone.  It has *layers*; each
layer is a recurring rotation:

* ``rrule`` — an RFC 5545 recurrence (``FREQ=DAILY;BYHOUR=9``) whose occurrences are the local
  wall-clock *starts* of shifts, beginning at ``dtstart`` (a naive local date-time);
* ``duration`` — the wall-clock length of one shift (09:00 + 9 h ends at 18:00 local on every
  day, whether that day has 23, 24 or 25 hours);
* ``members`` and ``handoff_every`` — occurrence *k* (counted from ``dtstart``) belongs to
  ``members[(k // handoff_every) % len(members)]``;
* ``restrictions`` — optional local weekday/hour windows outside which the layer is empty
  (``Window("mon-fri", "22:00", "06:00")`` crosses midnight into the next day);
* ``exclude_holidays`` — the layer is empty on the schedule's holiday dates (whole local dates).

On top of the layers: *time off* (a person is not on shift in a span; their slot is empty) and
*overrides* (in a span a layer belongs to another person — a cover, or one half of a swap).
Overrides are applied last and replace the layer's person for their whole window, even where
the rotation or its restrictions would leave the slot empty.

Local wall times become instants with the zone's rules, the same way for starts and ends: a
time in a spring-forward gap maps to the transition itself, a repeated time to its first
occurrence.  Because a shift's end and the next shift's start name the same wall time,
they map to the same instant, so consecutive shifts tile time exactly across DST changes in
both directions and across midnight.

When shifts of one layer overlap (duration longer than the interval), the shift that started
last holds the layer: a layer is one seat, never two people.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as _rrule

__all__ = [
    "Layer",
    "Override",
    "Schedule",
    "ShiftError",
    "Span",
    "TimeOff",
    "Window",
    "compile_rrule",
    "next_change",
    "on_shift",
    "people_on_shift",
    "spans",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HM = re.compile(r"^(\d{2}):(\d{2})$")
# No rotation needs occurrences closer than this; finer rules would make the occurrence lists
# (and the schedules) unbounded.
_FORBIDDEN_FREQ = ("SECONDLY", "MINUTELY")
MAX_DURATION = timedelta(days=31)
# Margin when comparing local wall times with instants (largest UTC offset change is < 3 h).
_SLACK = timedelta(hours=3)


class ShiftError(ValueError):
    """A schedule that cannot be used; ``field`` names what to fix."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def zone(name: str, where: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ShiftError(
            f"unknown time zone {name!r}: use an IANA name such as 'Asia/Singapore'", where
        ) from exc


def _aware(t: datetime, where: str) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ShiftError(f"{where}: {t.isoformat()} has no UTC offset", where)
    return t.astimezone(UTC)


def _minute(text: str, where: str) -> int:
    m = _HM.match(text)
    if not m:
        raise ShiftError(f"{where}: {text!r} is not a time like '09:00'", where)
    h, mi = int(m.group(1)), int(m.group(2))
    if mi > 59 or h > 24 or (h == 24 and mi):
        raise ShiftError(f"{where}: {text!r} is not a time like '09:00'", where)
    return h * 60 + mi


def _days(spec: str, where: str) -> frozenset[int]:
    out: set[int] = set()
    for part in spec.lower().replace(" ", "").split(","):
        if not part:
            continue
        if "-" in part:
            a, _, b = part.partition("-")
            if a not in WEEKDAYS or b not in WEEKDAYS:
                raise ShiftError(f"{where}: {spec!r} is not a weekday range like 'mon-fri'", where)
            i, j = WEEKDAYS.index(a), WEEKDAYS.index(b)
            out.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        elif part in WEEKDAYS:
            out.add(WEEKDAYS.index(part))
        else:
            raise ShiftError(f"{where}: {part!r} is not a weekday (mon … sun)", where)
    if not out:
        raise ShiftError(f"{where}: no weekdays given", where)
    return frozenset(out)


@dataclass(frozen=True)
class Window:
    """Local weekdays and hours in which a layer may be on shift.  ``start > end`` (or
    ``end == '24:00'``) runs into the next day; the weekday is the day the window opens."""

    days: str = "mon-sun"
    start: str = "00:00"
    end: str = "24:00"

    def parsed(self, where: str = "restrictions") -> tuple[frozenset[int], int, int]:
        a, b = _minute(self.start, where), _minute(self.end, where)
        if a == b:
            raise ShiftError(f"{where}: window {self.start}-{self.end} is empty", where)
        if b < a:
            b += 24 * 60
        return _days(self.days, where), a, b

    def contains(self, local: datetime) -> bool:
        days, a, b = self.parsed()
        m = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 60e6
        if local.weekday() in days and a <= m < b:
            return True
        # The tail of a window that opened yesterday and runs past midnight.
        return b > 24 * 60 and (local.weekday() - 1) % 7 in days and m < b - 24 * 60


@dataclass(frozen=True)
class Layer:
    name: str
    members: tuple[str, ...]
    rrule: str
    dtstart: datetime  # naive, local wall time of the first shift start
    duration: timedelta
    handoff_every: int = 1
    restrictions: tuple[Window, ...] = ()
    exclude_holidays: bool = False


@dataclass(frozen=True)
class Override:
    """In ``[start, end)`` the layer ``layer`` belongs to ``person``."""

    layer: str
    start: datetime
    end: datetime
    person: str
    kind: str = "cover"  # cover | swap


@dataclass(frozen=True)
class TimeOff:
    person: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Span:
    layer: str
    person: str | None
    start: datetime
    end: datetime
    source: str  # rotation | override | time_off | restriction | holiday | none


@dataclass(frozen=True)
class Schedule:
    tz: str
    layers: tuple[Layer, ...]
    holidays: frozenset[date] = frozenset()
    overrides: tuple[Override, ...] = ()
    time_off: tuple[TimeOff, ...] = ()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", zone(self.tz))
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise ShiftError("layer names must be unique within a schedule", "layers")
        for i, layer in enumerate(self.layers):
            _check_layer(layer, f"layers[{i}]")
        for i, o in enumerate(self.overrides):
            where = f"overrides[{i}]"
            if o.layer not in names:
                raise ShiftError(f"{where}: unknown layer {o.layer!r}", f"{where}.layer")
            if _aware(o.end, f"{where}.end") <= _aware(o.start, f"{where}.start"):
                raise ShiftError(f"{where}: end must be after start", f"{where}.end")
            if not o.person:
                raise ShiftError(f"{where}: person is required", f"{where}.person")
        check_overrides(self.overrides)
        for i, off in enumerate(self.time_off):
            where = f"time_off[{i}]"
            if _aware(off.end, f"{where}.end") <= _aware(off.start, f"{where}.start"):
                raise ShiftError(f"{where}: end must be after start", f"{where}.end")

    @property
    def zoneinfo(self) -> ZoneInfo:
        return self._zone


def check_overrides(overrides: Iterable[Override]) -> None:
    """Overrides of one layer must not overlap (which of two would win is not obvious)."""
    by_layer: dict[str, list[Override]] = {}
    for o in overrides:
        by_layer.setdefault(o.layer, []).append(o)
    for layer, items in by_layer.items():
        items.sort(key=lambda o: _aware(o.start, "start"))
        for a, b in pairwise(items):
            if _aware(b.start, "start") < _aware(a.end, "end"):
                raise ShiftError(
                    f"overrides of layer {layer!r} overlap: {a.start.isoformat()}–"
                    f"{a.end.isoformat()} and {b.start.isoformat()}–{b.end.isoformat()}",
                    "overrides",
                )


def compile_rrule(text: str, dtstart: datetime, where: str = "rrule") -> _rrule.rrule:
    """Parse an RRULE with dateutil; a bad rule raises ``ShiftError`` naming ``where``."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body or "\n" in body or "DTSTART" in body.upper():
        raise ShiftError(
            f"{where}: give one RRULE such as 'FREQ=DAILY;BYHOUR=9' (the start is dtstart)", where
        )
    if dtstart.tzinfo is not None:
        raise ShiftError(f"{where}: dtstart must be a local wall time without offset", "dtstart")
    try:
        rule = _rrule.rrulestr(body, dtstart=dtstart, cache=False)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ShiftError(f"{where}: invalid RRULE {text!r}: {exc}", where) from exc
    if not isinstance(rule, _rrule.rrule):
        raise ShiftError(f"{where}: give a single RRULE", where)
    if any(f"FREQ={f}" in body.upper() for f in _FORBIDDEN_FREQ):
        raise ShiftError(f"{where}: FREQ must be HOURLY or coarser", where)
    return rule


def _check_layer(layer: Layer, where: str) -> None:
    if not layer.name:
        raise ShiftError(f"{where}: name is required", f"{where}.name")
    if not layer.members:
        raise ShiftError(f"{where}: a rotation needs at least one member", f"{where}.members")
    if layer.handoff_every < 1:
        raise ShiftError(f"{where}: handoff_every must be at least 1", f"{where}.handoff_every")
    if not timedelta(0) < layer.duration <= MAX_DURATION:
        raise ShiftError(
            f"{where}: duration must be between 1 minute and 31 days", f"{where}.duration"
        )
    compile_rrule(layer.rrule, layer.dtstart, f"{where}.rrule")
    for j, w in enumerate(layer.restrictions):
        w.parsed(f"{where}.restrictions[{j}]")


# -- occurrences ----------------------------------------------------------------------

_lock = threading.Lock()
_OCC: dict[tuple[str, datetime], tuple[list[datetime], datetime]] = {}
_OCC_MAX = 4096


def _occurrences(layer: Layer, until: datetime) -> list[datetime]:
    """Local starts from dtstart up to at least ``until`` (naive), cached and grown on demand."""
    key = (layer.rrule, layer.dtstart)
    with _lock:
        found = _OCC.get(key)
        if found is not None and found[1] >= until:
            return found[0]
    rule = compile_rrule(layer.rrule, layer.dtstart)
    horizon = max(until, layer.dtstart) + timedelta(days=62)
    starts = list(rule.between(layer.dtstart, horizon, inc=True))
    with _lock:
        if len(_OCC) >= _OCC_MAX:
            _OCC.clear()
        _OCC[key] = (starts, horizon)
    return starts


def _instant(local: datetime, tz: ZoneInfo) -> datetime:
    """A local wall time as an instant: a repeated time is its first occurrence, a time that
    does not exist (spring-forward gap) is the transition itself."""
    u = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if u.astimezone(tz).replace(tzinfo=None) == local:
        return u
    # In a gap: fold=1 reads the wall time with the later offset (an instant before the
    # transition), fold=0 with the earlier one (after it); the transition lies between.
    lo = int(local.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    hi = int(u.timestamp())
    before = datetime.fromtimestamp(lo, UTC).astimezone(tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


def _rotation_at(layer: Layer, t: datetime, tz: ZoneInfo) -> tuple[str, datetime, datetime] | None:
    """The rotation's person at ``t`` with the shift's start and end (ignoring restrictions)."""
    local = t.astimezone(tz).replace(tzinfo=None)
    starts = _occurrences(layer, local + _SLACK)
    i = bisect.bisect_right(starts, local + _SLACK) - 1
    earliest = local - layer.duration - _SLACK
    while i >= 0 and starts[i] >= earliest:
        s_local = starts[i]
        s, e = _instant(s_local, tz), _instant(s_local + layer.duration, tz)
        if s <= t < e:
            person = layer.members[(i // layer.handoff_every) % len(layer.members)]
            return person, s, e
        i -= 1
    return None


def _layer_at(schedule: Schedule, layer: Layer, t: datetime) -> tuple[str | None, str]:
    for o in schedule.overrides:
        if o.layer == layer.name and o.start <= t < o.end:
            return o.person, "override"
    tz = schedule.zoneinfo
    local = t.astimezone(tz)
    if layer.exclude_holidays and local.date() in schedule.holidays:
        return None, "holiday"
    if layer.restrictions and not any(w.contains(local) for w in layer.restrictions):
        return None, "restriction"
    found = _rotation_at(layer, t, tz)
    if found is None:
        return None, "none"
    person = found[0]
    for off in schedule.time_off:
        if off.person == person and off.start <= t < off.end:
            return None, "time_off"
    return person, "rotation"


def on_shift(schedule: Schedule, t: datetime) -> dict[str, str | None]:
    """Per layer, the person on shift at instant ``t`` (``None``: the seat is empty)."""
    t = _aware(t, "t")
    return {layer.name: _layer_at(schedule, layer, t)[0] for layer in schedule.layers}


def people_on_shift(schedule: Schedule, t: datetime) -> set[str]:
    return {p for p in on_shift(schedule, t).values() if p is not None}


# -- spans ----------------------------------------------------------------------------


def _change_points(schedule: Schedule, a: datetime, b: datetime) -> list[datetime]:
    tz = schedule.zoneinfo
    pts: set[datetime] = {a}
    la = a.astimezone(tz).replace(tzinfo=None)
    lb = b.astimezone(tz).replace(tzinfo=None)
    for layer in schedule.layers:
        starts = _occurrences(layer, lb + _SLACK)
        lo = bisect.bisect_left(starts, la - layer.duration - _SLACK)
        hi = bisect.bisect_right(starts, lb + _SLACK)
        for s in starts[lo:hi]:
            pts.add(_instant(s, tz))
            pts.add(_instant(s + layer.duration, tz))
        if layer.restrictions or layer.exclude_holidays:
            day = la.date() - timedelta(days=1)
            while day <= lb.date() + timedelta(days=1):
                midnight = datetime.combine(day, time())
                pts.add(_instant(midnight, tz))
                for w in layer.restrictions:
                    _d, wa, wb = w.parsed()
                    pts.add(_instant(midnight + timedelta(minutes=wa), tz))
                    pts.add(_instant(midnight + timedelta(minutes=wb), tz))
                day += timedelta(days=1)
    for o in schedule.overrides:
        pts.update((o.start.astimezone(UTC), o.end.astimezone(UTC)))
    for off in schedule.time_off:
        pts.update((off.start.astimezone(UTC), off.end.astimezone(UTC)))
    return sorted(p for p in pts if a <= p < b)


def spans(schedule: Schedule, a: datetime, b: datetime) -> list[Span]:
    """Who holds each layer over ``[a, b)``: maximal spans per layer, in time order."""
    a, b = _aware(a, "start"), _aware(b, "end")
    if b <= a:
        return []
    pts = _change_points(schedule, a, b)
    out: list[Span] = []
    for layer in schedule.layers:
        cur: tuple[str | None, str] | None = None
        cur_start = a
        for p in pts:
            state = _layer_at(schedule, layer, p)
            if cur is None:
                cur, cur_start = state, p
            elif state != cur:
                out.append(Span(layer.name, cur[0], cur_start, p, cur[1]))
                cur, cur_start = state, p
        if cur is not None:
            out.append(Span(layer.name, cur[0], cur_start, b, cur[1]))
    out.sort(key=lambda s: (s.start, s.layer))
    return out


def next_change(
    schedule: Schedule, person: str, t: datetime, horizon: timedelta = timedelta(days=8)
) -> datetime | None:
    """When ``person``'s on-shift state next changes after ``t`` (their shift end if on shift)."""
    t = _aware(t, "t")
    now = person in people_on_shift(schedule, t)
    for p in _change_points(schedule, t, t + horizon):
        if p > t and (person in people_on_shift(schedule, p)) != now:
            return p
    return None
