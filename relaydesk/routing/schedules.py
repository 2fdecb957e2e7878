"""Team schedules from the database, evaluated with ``relaydesk.domain.shifts``.

Who is on shift is asked on every routing decision, so each team's schedule is turned into
spans for a window around "now" once and then looked up by binary search.  The cache lives in
the process; every entry remembers the schedules stamp it was built under
(``relaydesk.routing.stamps``: database triggers change it on any write to teams, regions,
rotations, overrides or time off, in any process) and is rebuilt when the stamp differs.  The
public functions read the stamp first (one single-row read); routing decisions pass the stamp
they read with the loads.
"""

from __future__ import annotations

import bisect
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import holidays as _holidays

from relaydesk.core.models import Team
from relaydesk.domain import shifts

from . import stamps
from .models import Rotation, ScheduleOverride, TimeOff

log = logging.getLogger(__name__)

WINDOW_BEFORE = timedelta(hours=1)
WINDOW_AFTER = timedelta(hours=36)


def team_holidays(team: Team, years: range) -> frozenset[date]:
    region = team.region
    if region is None or not region.country:
        return frozenset()
    try:
        cal = _holidays.country_holidays(region.country, subdiv=region.subdivision or None, years=years)
    except NotImplementedError:
        return frozenset()
    return frozenset(cal.keys())


def rotation_layer(r: Rotation) -> shifts.Layer:
    return shifts.Layer(
        name=r.name,
        members=tuple(str(m) for m in r.member_ids),
        rrule=r.rrule,
        dtstart=datetime.fromisoformat(r.dtstart),
        duration=timedelta(minutes=r.duration_minutes),
        handoff_every=r.handoff_every,
        restrictions=tuple(shifts.Window(w["days"], w["start"], w["end"]) for w in r.restrictions),
        exclude_holidays=r.exclude_holidays,
    )


def _usable_layer(r: Rotation, tz: str) -> shifts.Layer:
    """The rotation as a layer, checked on its own (a ``ShiftError`` names what is wrong)."""
    try:
        layer = rotation_layer(r)
    except (KeyError, ValueError, TypeError) as exc:
        if isinstance(exc, shifts.ShiftError):
            raise
        raise shifts.ShiftError(f"cannot be read: {exc!r}", "rotation") from exc
    shifts.Schedule(tz=tz, layers=(layer,))
    return layer


def build_schedules(
    team: Team, kind: str = Rotation.KIND_SHIFT, around: datetime | None = None, problems: list[str] | None = None
) -> list[shifts.Schedule]:
    """The team's rotations of ``kind`` as schedules, one per time zone (the team's, and that
    of any rotation kept in a member's own zone).

    A bad row already in the database (a rotation whose RRULE, zone or restrictions do not
    parse, an override overlapping another of its rotation, time off ending before it starts)
    is skipped on its own and logged; the team's other rotations and overrides still route.
    Each skipped row is described in ``problems`` when a list is given (the coverage report
    shows them)."""

    def problem(text: str) -> None:
        log.error("team %s (%s): %s; ignored", team.pk, team.name, text)
        if problems is not None:
            problems.append(f"{team.name}: {text}")

    rotations = [r for r in team.rotations.all() if r.kind == kind]
    by_tz: dict[str, list[Rotation]] = {}
    for r in rotations:
        by_tz.setdefault(r.time_zone or team.timezone, []).append(r)
    if not by_tz:
        return []
    year = (around or datetime.now(UTC)).year
    hol = team_holidays(team, range(year - 1, year + 2))
    member_ids = {int(m) for r in rotations for m in r.member_ids if str(m).isdigit()}
    all_overrides = list(ScheduleOverride.objects.filter(rotation__in=rotations).select_related("rotation").order_by("start", "id"))
    time_off = []
    for t in TimeOff.objects.filter(user_id__in=member_ids):
        if t.end <= t.start:
            problem(f"time off {t.pk} of user {t.user_id} ends before it starts")
            continue
        time_off.append(shifts.TimeOff(str(t.user_id), t.start, t.end))
    out = []
    for tz, rots in by_tz.items():
        layers: list[shifts.Layer] = []
        for r in rots:
            try:
                layers.append(_usable_layer(r, tz))
            except shifts.ShiftError as exc:
                problem(f"rotation {r.name!r} (id {r.pk}) is invalid: {exc.message}")
        names = {layer.name for layer in layers}
        kept: list[shifts.Override] = []
        for o in all_overrides:
            if o.rotation.name not in names:
                continue
            ov = shifts.Override(o.rotation.name, o.start, o.end, str(o.user_id), o.kind)
            try:
                # On its own (an end before its start, no offset), then against those kept.
                shifts.Schedule(tz=tz, layers=tuple(x for x in layers if x.name == ov.layer), overrides=(ov,))
                shifts.check_overrides((*(k for k in kept if k.layer == ov.layer), ov))
            except shifts.ShiftError as exc:
                problem(f"override {o.pk} of rotation {o.rotation.name!r} is invalid: {exc.message}")
                continue
            kept.append(ov)
        try:
            out.append(shifts.Schedule(tz=tz, layers=tuple(layers), holidays=hol, overrides=tuple(kept), time_off=tuple(time_off)))
        except shifts.ShiftError as exc:  # not expected after the checks above
            problem(f"schedule in {tz} is invalid: {exc.message}")
    return out


def schedule_problems(teams: list[Team] | None = None) -> list[str]:
    """Rows of the teams' schedules that routing skips (see ``build_schedules``)."""
    found: list[str] = []
    for team in teams if teams is not None else list(Team.objects.filter(pk__in=Rotation.objects.values("team_id"))):
        for kind in (Rotation.KIND_SHIFT, Rotation.KIND_ONCALL):
            build_schedules(team, kind, problems=found)
    return found


@dataclass
class _Window:
    """Spans of one team's layers over ``[a, b)``; per layer they tile the window."""

    team_id: int
    a: datetime
    b: datetime
    stamp: int  # the schedules stamp it was built under
    layers: dict[str, tuple[list[datetime], list[shifts.Span]]]
    # The last answer and the instants between which it holds (nobody's span starts or ends
    # inside): routing asks about "now" again and again, and shifts change a few times a day.
    memo: tuple[datetime, datetime, frozenset[int]] | None = None

    def people(self, t: datetime) -> set[int]:
        return set(self.span_of(t)[0])

    def span_of(self, t: datetime) -> tuple[frozenset[int], datetime, datetime]:
        """Who is on shift at ``t`` and the instants ``[lo, hi)`` around it between which
        that holds."""
        memo = self.memo
        if memo is not None and memo[0] <= t < memo[1]:
            return memo[2], memo[0], memo[1]
        out: set[int] = set()
        lo, hi = self.a, self.b
        for starts, spans in self.layers.values():
            i = bisect.bisect_right(starts, t) - 1
            # The same span is found for every instant in [starts[i], starts[i + 1]) …
            if i >= 0:
                lo = max(lo, starts[i])
            if i + 1 < len(starts):
                hi = min(hi, starts[i + 1])
            # … and within it, the answer changes only at its end.
            if i >= 0 and spans[i].start <= t < spans[i].end:
                hi = min(hi, spans[i].end)
                if spans[i].person is not None:
                    out.add(int(spans[i].person))  # type: ignore[arg-type]
            elif i >= 0:
                lo = max(lo, spans[i].end)
        found = frozenset(out)
        if self.a <= t < self.b:
            self.memo = (lo, hi, found)
        return found, lo, hi


_lock = threading.Lock()
_cache: dict[tuple[int, str], _Window] = {}


def invalidate() -> None:
    """Drop every cached window and read the stamps again before the next use."""
    with _lock:
        _cache.clear()
        _teams.clear()
        _people.clear()
    stamps.forget()


def _stamp(stamp: int | None) -> int:
    return stamps.refresh()[1] if stamp is None else stamp


def _window(team: Team, kind: str, t: datetime, stamp: int) -> _Window:
    key = (team.pk, kind)
    with _lock:
        w = _cache.get(key)
    if w is not None and w.stamp == stamp and w.a <= t < w.b:
        return w
    a, b = t - WINDOW_BEFORE, t + WINDOW_AFTER
    layers: dict[str, tuple[list[datetime], list[shifts.Span]]] = {}
    for sched in build_schedules(team, kind, t):
        for s in shifts.spans(sched, a, b):
            starts, spans = layers.setdefault(s.layer, ([], []))
            starts.append(s.start)
            spans.append(s)
    w = _Window(team.pk, a, b, stamp, layers)
    with _lock:
        _cache[key] = w
    return w


_teams: dict[str, tuple[int, list[Team]]] = {}


def teams_with(kind: str = Rotation.KIND_SHIFT, *, stamp: int | None = None) -> list[Team]:
    """Teams that have rotations of ``kind`` (cached like the windows).  ``stamp``: the
    schedules stamp the caller has just read (default: read it now)."""
    stamp = _stamp(stamp)
    with _lock:
        found = _teams.get(kind)
    if found is not None and found[0] == stamp:
        return found[1]
    ids = set(Rotation.objects.filter(kind=kind).values_list("team_id", flat=True))
    teams = list(Team.objects.filter(pk__in=ids).select_related("region").prefetch_related("rotations"))
    with _lock:
        _teams[kind] = (stamp, teams)
    return teams


def on_shift_span(
    t: datetime, kind: str = Rotation.KIND_SHIFT, teams: list[Team] | None = None, *, stamp: int | None = None
) -> tuple[dict[int, int], datetime, datetime]:
    """``{user id: team id}`` of everyone on shift at ``t`` (the first team wins for people in
    several), and the instants ``[lo, hi)`` around ``t`` between which that answer holds."""
    stamp = _stamp(stamp)
    out: dict[int, int] = {}
    lo, hi = t - WINDOW_BEFORE, t + WINDOW_AFTER
    for team in teams if teams is not None else teams_with(kind, stamp=stamp):
        people, a, b = _window(team, kind, t, stamp).span_of(t)
        lo, hi = max(lo, a), min(hi, b)
        for uid in people:
            out.setdefault(uid, team.pk)
    return out, lo, hi


def on_shift_at(
    t: datetime, kind: str = Rotation.KIND_SHIFT, teams: list[Team] | None = None, *, stamp: int | None = None
) -> dict[int, int]:
    """``{user id: team id}`` of everyone on shift at ``t`` (the first team wins for people in
    several)."""
    return on_shift_span(t, kind, teams, stamp=stamp)[0]


_people: dict[str, tuple[int, frozenset[int]]] = {}


def scheduled_people(kind: str = Rotation.KIND_SHIFT, *, stamp: int | None = None) -> set[int]:
    """Everyone in some rotation of ``kind`` (cached and checked like the windows)."""
    stamp = _stamp(stamp)
    with _lock:
        found = _people.get(kind)
    if found is not None and found[0] == stamp:
        return set(found[1])
    out: set[int] = set()
    for ids in Rotation.objects.filter(kind=kind).values_list("member_ids", flat=True):
        out.update(int(i) for i in ids)
    with _lock:
        _people[kind] = (stamp, frozenset(out))
    return out


def next_on_shift(team: Team, t: datetime, horizon: timedelta = timedelta(days=8)) -> datetime | None:
    """The first instant at or after ``t`` at which someone of the team is on shift."""
    starts = [
        s.start
        for sched in build_schedules(team, Rotation.KIND_SHIFT, t)
        for s in shifts.spans(sched, t, t + horizon)
        if s.person is not None
    ]
    return min(starts, default=None)


def oncall_person(rotation: Rotation, t: datetime) -> int | None:
    for sched in build_schedules(rotation.team, rotation.kind, t):
        if any(layer.name == rotation.name for layer in sched.layers):
            who = shifts.on_shift(sched, t).get(rotation.name)
            return int(who) if who is not None else None
    return None
