"""The current rota as 168 hourly head counts: the one place the staffing plan touches shifts.

Shifts belong to routing (``relaydesk.domain.shifts``: schedules with rotation layers, time off
and overrides).  This adapter only reads them:

* ``rota_from_schedules`` turns pure ``Schedule`` objects into agents on shift per hour of one
  week (the hour's time-weighted mean, rounded down, so a half-staffed hour is not counted as
  covered);
* ``current_rota`` is meant to load the schedules of the teams serving a region/language from
  the database.  TODO: routing has no stored schedules yet; until it does this returns
  ``None`` and the plan takes the rota as input (168 counts).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

HOURS = 168


def shifts_module() -> Any | None:
    """``relaydesk.domain.shifts`` if it is there (it is built by routing), else ``None``."""
    try:
        return importlib.import_module("relaydesk.domain.shifts")
    except ImportError:
        return None


def rota_from_schedules(schedules: Iterable[Any], week_start: datetime) -> list[int]:
    """Distinct people on shift per hour over ``[week_start, week_start + 7 days)`` across the
    given ``relaydesk.domain.shifts.Schedule`` objects (a person on two layers counts once)."""
    shifts = shifts_module()
    if shifts is None:
        raise RuntimeError("relaydesk.domain.shifts is not available")
    if week_start.tzinfo is None:
        raise ValueError("week_start must be an aware datetime")
    end = week_start + timedelta(hours=HOURS)
    # person -> list of (start, end) on shift, merged across layers and schedules
    busy: dict[str, list[tuple[datetime, datetime]]] = {}
    for schedule in schedules:
        for span in shifts.spans(schedule, week_start, end):
            if span.person is not None:
                busy.setdefault(span.person, []).append((span.start, span.end))
    agent_seconds = [0.0] * HOURS
    for intervals in busy.values():
        for a, b in _merge(intervals):
            h = int((a - week_start).total_seconds() // 3600)
            t = a
            while t < b and h < HOURS:
                hour_end = week_start + timedelta(hours=h + 1)
                stop = min(b, hour_end)
                agent_seconds[h] += (stop - t).total_seconds()
                t, h = stop, h + 1
    return [math.floor(s / 3600.0 + 1e-9) for s in agent_seconds]


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def current_rota(region: str | None, language: str | None, tz: str = "UTC") -> list[int] | None:
    """The stored rota for teams serving ``region``/``language``, or ``None`` when unknown.

    TODO(routing): once routing stores team schedules, load the schedules of the matching
    teams, build ``shifts.Schedule`` objects and return ``rota_from_schedules(schedules,
    next Monday 00:00 in tz)``."""
    return None
