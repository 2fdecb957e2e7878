"""Routing's in-process caches answer like a fresh computation: the on-shift set memoised
between shift boundaries, whatever order instants are asked in, and schedule windows dropped
when a rotation changes (not when a profile or presence does)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from relaydesk.routing import schedules
from relaydesk.routing.models import Rotation
from relaydesk.routing.services import set_presence

from .conftest import make_team_member, rotation, utc


def fresh(at: Any) -> dict[int, int]:
    schedules.invalidate()
    return schedules.on_shift_at(at)


def test_memoised_on_shift_sets_equal_fresh_ones_in_any_order(shifts: Any) -> None:
    w = shifts
    night = make_team_member(w.apac, "nina@relaydesk.test", "Nina", ["en"])
    # Crosses midnight in Singapore, and a second layer with a gap.
    rotation(w.apac, "SG night", [night], "FREQ=DAILY;BYHOUR=22", "2026-01-01T22:00:00", 8 * 60)
    start = utc(2026, 12, 4, 0)
    instants = [start + timedelta(minutes=7 * k) for k in range(2 * 24 * 60 // 7)]
    truth = {at: fresh(at) for at in instants}
    schedules.invalidate()
    order = instants[:] + instants[::-1]
    random.Random(5).shuffle(order)
    for at in instants + order:
        assert schedules.on_shift_at(at) == truth[at], at


def test_rotation_change_drops_the_windows_presence_does_not(shifts: Any) -> None:
    w = shifts
    at = utc(2026, 12, 2, 3)  # Wednesday 11:00 Singapore: Mei on
    assert w.agent.pk in schedules.on_shift_at(at)
    cached = schedules._cache.copy()
    set_presence(w.agent, "busy", now=at)
    assert schedules._cache == cached  # a presence change keeps the windows
    Rotation.objects.filter(team=w.apac).get().delete()
    assert w.agent.pk not in schedules.on_shift_at(at)
