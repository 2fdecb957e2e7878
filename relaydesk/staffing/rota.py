"""The current rota as 168 hourly head counts: the one place the staffing plan touches shifts.

Shifts belong to routing (``relaydesk.domain.shifts`` evaluated over the stored rotations by
``relaydesk.routing.schedules.build_schedules``: rotation layers, holidays of the team's
region, overrides and time off).  This adapter only reads them:

* ``rota_from_schedules`` turns ``Schedule`` objects into agents on shift per hour of one
  local week: hour ``h`` is the wall-clock hour ``h % 24`` of day ``h // 24`` (Monday first)
  in the zone of ``week_start``, so a week with a DST change still has 168 slots.  A slot
  counts the hour's time-weighted mean of distinct people on shift, rounded down (a
  half-staffed hour is not counted as covered).  The slot skipped by a spring-forward change
  has no length and counts the people on shift at that instant; the slot repeated by a
  fall-back change lasts two real hours and counts their mean.
* ``current_rota`` loads the shift rotations of the teams in a region (all teams when no
  region is given), keeps the active staff who speak the language (their ``languages``, else
  their interface language, as routing's coverage does) and returns a ``RotaWeek`` for the
  real local week containing a date (default: next week), or ``None`` when no stored shift
  rotation matches.  ``RotaWeek.changes`` is the same rota as a step function on the
  simulation's 168-hour axis, with changes inside an hour kept (a shift ending 17:30 ends half
  way through slot 17), so the simulation runs over the real shifts, not rounded hours.
"""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from relaydesk.core.models import Team, User
from relaydesk.domain import shifts
from relaydesk.routing.models import Rotation
from relaydesk.routing.schedules import build_schedules

HOURS = 168
HOUR_S = 3600.0


@dataclass(frozen=True)
class RotaWeek:
    """Agents on shift in one real local week."""

    week_start: date  # the Monday, local to ``tz``
    tz: str
    counts: list[int]  # per hour of the week: time-weighted mean of people on shift, floored
    mean: list[float]  # the unrounded means
    changes: tuple[tuple[float, int], ...]  # step function on the simulation's week axis
    teams: list[str]
    people: int  # distinct people on shift at some time in the week

    @property
    def week_end(self) -> date:
        """The Sunday (inclusive)."""
        return self.week_start + timedelta(days=6)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": "stored",
            "week_start": self.week_start.isoformat(),
            "week_end": self.week_end.isoformat(),
            "tz": self.tz,
            "teams": list(self.teams),
            "people": self.people,
        }


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_slots(week_start: datetime) -> list[tuple[datetime, datetime]]:
    """The 168 wall-clock hours of the local week starting at ``week_start`` (a local midnight,
    aware) as real instants ``[start, end)``; the hour skipped by a DST change is empty, the
    repeated hour lasts two hours."""
    if week_start.tzinfo is None:
        raise ValueError("week_start must be an aware datetime")
    zone = week_start.tzinfo
    day0 = week_start.date()
    starts = [_local(day0 + timedelta(days=h // 24), h % 24, zone) for h in range(HOURS)]
    starts.append(_local(day0 + timedelta(days=7), 0, zone))
    return [(starts[h], max(starts[h], starts[h + 1])) for h in range(HOURS)]


def _local(day: date, hour: int, zone: tzinfo) -> datetime:
    # fold=0: a wall time in a spring-forward gap maps to the transition instant, a repeated
    # wall time to its first occurrence (as relaydesk.domain.shifts does).
    local = datetime.combine(day, time(hour), tzinfo=zone)
    return local.astimezone(zoneinfo.ZoneInfo("UTC"))


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _layer_spans(schedule: shifts.Schedule, a: datetime, b: datetime) -> list[shifts.Span]:
    """``shifts.spans`` one layer at a time.  A layer's state depends only on its own shifts,
    overrides, its members' time off and the holidays, but ``spans`` evaluates every layer at
    the change points of all of them: for a team of many rotations over a week, splitting
    the schedule first does the same work in a fraction of the time."""
    if len(schedule.layers) <= 1:
        return shifts.spans(schedule, a, b)
    out: list[shifts.Span] = []
    for layer in schedule.layers:
        one = shifts.Schedule(
            tz=schedule.tz,
            layers=(layer,),
            holidays=schedule.holidays,
            overrides=tuple(o for o in schedule.overrides if o.layer == layer.name),
            time_off=tuple(t for t in schedule.time_off if t.person in layer.members),
        )
        out.extend(shifts.spans(one, a, b))
    return out


def _busy(
    schedules: Iterable[shifts.Schedule], a: datetime, b: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    """person -> merged intervals on shift within ``[a, b)`` across layers and schedules."""
    busy: dict[str, list[tuple[datetime, datetime]]] = {}
    for schedule in schedules:
        for span in _layer_spans(schedule, a, b):
            if span.person is not None:
                busy.setdefault(span.person, []).append((span.start, span.end))
    return {p: _merge(v) for p, v in busy.items()}


@dataclass(frozen=True)
class _Week:
    mean: list[float]
    changes: tuple[tuple[float, int], ...]
    people: int


def _week(busy: dict[str, list[tuple[datetime, datetime]]], week_start: datetime) -> _Week:
    slots = week_slots(week_start)
    # The level of people on shift as a step function of real time over the week.
    delta: dict[datetime, int] = {}
    for intervals in busy.values():
        for s, e in intervals:
            delta[s] = delta.get(s, 0) + 1
            delta[e] = delta.get(e, 0) - 1
    points = sorted(delta)
    level = 0
    steps: list[tuple[datetime, int]] = []  # (instant, level from then on)
    for t in points:
        level += delta[t]
        steps.append((t, level))

    def level_at(t: datetime, i: int) -> tuple[int, int]:
        # advance i past every step at or before t; the level is that of the last one
        while i < len(steps) and steps[i][0] <= t:
            i += 1
        return (steps[i - 1][1] if i else 0), i

    mean = [0.0] * HOURS
    changes: list[tuple[float, int]] = []

    def put(pos: float, n: int) -> None:
        if changes and changes[-1][0] == pos:
            changes.pop()
        if not changes or changes[-1][1] != n:
            changes.append((pos, n))

    i = 0
    for h, (s, e) in enumerate(slots):
        cur, i = level_at(s, i)
        put(h * HOUR_S, cur)
        length = (e - s).total_seconds()
        if length <= 0:  # the hour a spring-forward change skips
            mean[h] = float(cur)
            continue
        acc = 0.0
        t = s
        while i < len(steps) and steps[i][0] < e:
            nt, nl = steps[i]
            acc += cur * (nt - t).total_seconds()
            put(h * HOUR_S + (nt - s).total_seconds() / length * HOUR_S, nl)
            t, cur = nt, nl
            i += 1
        acc += cur * (e - t).total_seconds()
        mean[h] = acc / length
    if not changes or changes[0][0] != 0.0:
        changes.insert(0, (0.0, 0))
    return _Week(mean, tuple(changes), len(busy))


def _floor(x: float) -> int:
    return math.floor(x + 1e-9)


def rota_from_schedules(schedules: Iterable[shifts.Schedule], week_start: datetime) -> list[int]:
    """Distinct people on shift per local hour of the week starting at ``week_start`` (aware;
    its zone gives the wall-clock hours) across the given schedules (a person on two layers
    counts once)."""
    if week_start.tzinfo is None:
        raise ValueError("week_start must be an aware datetime")
    slots = week_slots(week_start)
    busy = _busy(schedules, slots[0][0], slots[-1][1])
    return [_floor(m) for m in _week(busy, week_start).mean]


def current_rota(
    region: str | None,
    language: str | None,
    tz: str = "UTC",
    week: date | None = None,
    today: date | None = None,
) -> RotaWeek | None:
    """The stored rota of the teams in ``region`` (all teams when ``None``) for the people who
    speak ``language`` (everyone when ``None``), over the local week (in ``tz``) containing
    ``week`` — by default the week after ``today``.  ``None`` when no stored shift rotation
    matches (the plan then has no rota to compare with)."""
    zone = zoneinfo.ZoneInfo(tz)
    if week is None:
        now_local = datetime.now(zone).date() if today is None else today
        week = monday_of(now_local) + timedelta(days=7)
    monday = monday_of(week)
    start = datetime.combine(monday, time(), tzinfo=zone)
    teams = Team.objects.filter(rotations__kind=Rotation.KIND_SHIFT).distinct()
    if region:
        teams = teams.filter(region__code=region)
    team_list = list(teams.select_related("region").prefetch_related("rotations").order_by("name"))
    if not team_list:
        return None
    slots = week_slots(start)
    schedules = [
        sched for team in team_list for sched in build_schedules(team, Rotation.KIND_SHIFT, start)
    ]
    # Everyone the schedules put on shift (members, and people covering by override) …
    busy = _busy(schedules, slots[0][0], slots[-1][1])
    # … who is active staff and speaks the language.
    keep: set[str] = set()
    ids = [int(p) for p in busy if p.isdigit()]
    for user in User.objects.filter(pk__in=ids, kind=User.KIND_STAFF, is_active=True):
        langs = set(user.languages or [user.language])
        if language is None or language in langs:
            keep.add(str(user.pk))
    busy = {p: v for p, v in busy.items() if p in keep}
    w = _week(busy, start)
    return RotaWeek(
        week_start=monday,
        tz=tz,
        counts=[_floor(m) for m in w.mean],
        mean=w.mean,
        changes=w.changes,
        teams=[t.name for t in team_list],
        people=w.people,
    )
