"""The cache stamps (``relaydesk.routing.stamps``): database triggers change them on every write
to what routing caches in process — staff, profiles, teams, regions, rotations, overrides, time
off — whichever way the row is written (here ``QuerySet.update`` and ``bulk_create``, which send
no signals, as another process's writes would look), and a decision made after such a write
sees it at once.  Presence and the last assignment are not cached: they change no stamp and a
decision reads them fresh."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction

from relaydesk.core.models import Region, Team, User
from relaydesk.routing import schedules, stamps
from relaydesk.routing import services as routing
from relaydesk.routing.models import AgentProfile, Rotation, ScheduleOverride, TimeOff
from relaydesk.tickets import services
from relaydesk.tickets.models import Ticket

from .conftest import make_team_member, rotation, utc

SG_DAY = utc(2026, 12, 2, 3)  # Wednesday 11:00 in Singapore: Mei on


def changed(write: Callable[[], Any]) -> tuple[bool, bool]:
    """Which stamps (staff, schedules) ``write`` changed."""
    before = stamps.read()
    write()
    after = stamps.read()
    return before[0] != after[0], before[1] != after[1]


def probe(w: Any) -> Ticket:
    """An unsaved ticket of Panda (zh-Hans) about Android: what routing would be asked."""
    return Ticket(
        organisation=w.panda,
        requester=w.bob,
        priority="P3",
        status="new",
        category="connection",
        platform="android",
    )


@pytest.fixture
def two(shifts: Any) -> Any:
    """Mei (en, zh-Hans) and Tom (en) on the same APAC day shift, both with a profile."""
    w = shifts
    w.tom = make_team_member(w.apac, "tom@relaydesk.test", "Tom", ["en"])
    rotation(
        w.apac,
        "SG day 2",
        [w.tom],
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9",
        "2026-01-05T09:00:00",
        9 * 60,
    )
    AgentProfile.objects.create(user=w.agent)
    AgentProfile.objects.create(user=w.tom)
    return w


def test_watched_tables_are_the_models_tables() -> None:
    from relaydesk.routing.models import CacheStamp

    models = [User, AgentProfile, Team, Region, Rotation, ScheduleOverride, TimeOff]
    assert set(stamps.WATCHED) == {m._meta.db_table for m in models}
    assert CacheStamp._meta.db_table == stamps.TABLE
    for table, (_, columns, _) in stamps.WATCHED.items():
        model = next(m for m in models if m._meta.db_table == table)
        assert set(columns or ()) <= {f.column for f in model._meta.concrete_fields}


STAFF, SCHEDULES, NEITHER = (True, False), (False, True), (False, False)


def test_each_write_changes_its_stamp_and_routing_state_changes_none(two: Any) -> None:
    w = two
    mei, tom = w.agent, w.tom
    rot = Rotation.objects.get(name="SG day 2")
    hour = timedelta(hours=1)
    mei_profile = AgentProfile.objects.filter(user=mei)
    writes: list[tuple[str, Callable[[], Any], tuple[bool, bool]]] = [
        # Staff: what the directory holds.
        ("languages", lambda: User.objects.filter(pk=mei.pk).update(languages=["en"]), STAFF),
        ("core skills", lambda: User.objects.filter(pk=tom.pk).update(skills=["ios"]), STAFF),
        ("deactivated", lambda: User.objects.filter(pk=tom.pk).update(is_active=False), STAFF),
        ("new agent", lambda: make_team_member(w.emea, "ana@relaydesk.test", "Ana", []), STAFF),
        ("capacity", lambda: mei_profile.update(capacity={"P3": 1}), STAFF),
        ("skills", lambda: mei_profile.update(skills=["sdk:android"]), STAFF),
        ("backup", lambda: mei_profile.update(backup=tom), STAFF),
        # Not the directory's business: customers, logins, an unchanged value, presence,
        # fairness.
        (
            "customer",
            lambda: User.objects.create(
                username="zoe@p.test", email="zoe@p.test", organisation=w.panda
            ),
            NEITHER,
        ),
        ("login", lambda: User.objects.filter(pk=mei.pk).update(last_login=SG_DAY), NEITHER),
        ("same name", lambda: User.objects.filter(pk=mei.pk).update(first_name="Mei"), NEITHER),
        ("presence", lambda: routing.set_presence(mei, "busy", now=SG_DAY), NEITHER),
        ("assigned", lambda: mei_profile.update(last_assigned_at=SG_DAY), NEITHER),
        ("shift seen", lambda: mei_profile.update(was_on_shift=True), NEITHER),
        # Schedules.
        (
            "rotation",
            lambda: Rotation.objects.filter(pk=rot.pk).update(duration_minutes=60),
            SCHEDULES,
        ),
        (
            "override",
            lambda: ScheduleOverride.objects.bulk_create(
                [ScheduleOverride(rotation=rot, user=mei, start=SG_DAY, end=SG_DAY + hour)]
            ),
            SCHEDULES,
        ),
        (
            "time off",
            lambda: TimeOff.objects.bulk_create(
                [TimeOff(user=tom, start=SG_DAY, end=SG_DAY + hour)]
            ),
            SCHEDULES,
        ),
        ("time off gone", lambda: TimeOff.objects.filter(user=tom).delete(), SCHEDULES),
        (
            "team zone",
            lambda: Team.objects.filter(pk=w.apac.pk).update(timezone="Asia/Tokyo"),
            SCHEDULES,
        ),
        (
            "holidays",
            lambda: Region.objects.filter(pk=w.apac.region_id).update(country="JP"),
            SCHEDULES,
        ),
    ]
    for what, write, expected in writes:
        assert changed(write) == expected, what


def test_routing_its_own_tickets_changes_no_stamp(two: Any) -> None:
    w = two
    t = None

    def route() -> None:
        nonlocal t
        t = services.create_ticket(actor=w.bob, requester=w.bob, subject="卡顿", now=SG_DAY)

    assert changed(route) == (False, False)
    assert t is not None and t.assignee == w.agent


def test_a_decision_sees_writes_behind_the_caches_at_once(two: Any) -> None:
    w = two
    mei, tom, jonas = w.agent, w.tom, w.agent_emea
    t = probe(w)

    def who() -> int | None:
        return routing.decide(t, SG_DAY).agent_id

    assert who() == mei.pk  # she speaks the organisation's language
    roster = routing._roster
    assert who() == mei.pk and routing._roster is roster  # nothing changed: the same roster
    # Presence and fairness are read with the loads: no rebuild, and seen at once.
    AgentProfile.objects.filter(user=mei).update(presence="away")
    assert who() == tom.pk and routing._roster is roster
    AgentProfile.objects.filter(user=mei).update(presence="available")
    # Languages (core user) and skills, capacity (profile).
    User.objects.filter(pk=mei.pk).update(languages=["en"])
    User.objects.filter(pk=tom.pk).update(languages=["en", "zh-Hans"])
    assert who() == tom.pk and routing._roster is not roster
    User.objects.filter(pk=mei.pk).update(languages=["en", "zh-Hans"])
    assert who() == mei.pk  # equal in everything: the lower id
    AgentProfile.objects.filter(user=tom).update(skills=["sdk:android"])
    d = routing.decide(t, SG_DAY)
    assert d.agent_id == tom.pk and "skill SDK-Android" in d.reasons
    AgentProfile.objects.filter(user=tom).update(capacity={"P3": 0})
    assert who() == mei.pk
    AgentProfile.objects.filter(user=tom).update(capacity={"P3": 8})
    assert who() == tom.pk
    # The rotation moved away (Tom off), an override (Jonas covers Mei's layer), time off.
    Rotation.objects.filter(name="SG day 2").update(
        rrule="FREQ=DAILY;BYHOUR=20", dtstart="2026-01-05T20:00:00"
    )
    assert who() == mei.pk
    day = Rotation.objects.get(name="SG day")
    ScheduleOverride.objects.bulk_create(
        [
            ScheduleOverride(
                rotation=day,
                user=jonas,
                start=SG_DAY - timedelta(hours=1),
                end=SG_DAY + timedelta(hours=1),
            )
        ]
    )
    assert who() == jonas.pk
    ScheduleOverride.objects.all().delete()
    TimeOff.objects.bulk_create(
        [TimeOff(user=mei, start=SG_DAY - timedelta(hours=1), end=SG_DAY + timedelta(hours=1))]
    )
    assert who() is None
    TimeOff.objects.all().delete()
    # A region's code is the team's label in the reasons.
    Region.objects.filter(pk=w.apac.region_id).update(code="sea")
    assert "on shift SEA" in routing.decide(t, SG_DAY).reasons


def test_a_rolled_back_write_leaves_no_stale_cache(two: Any) -> None:
    w = two
    t = probe(w)
    assert routing.decide(t, SG_DAY).agent_id == w.agent.pk

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        User.objects.filter(pk=w.agent.pk).update(languages=["en"])
        User.objects.filter(pk=w.tom.pk).update(languages=["en", "zh-Hans"])
        assert routing.decide(t, SG_DAY).agent_id == w.tom.pk  # cached under the new stamp
        assert w.tom.pk in routing.directory() and routing.directory()[w.tom.pk].languages == {
            "en",
            "zh-Hans",
        }
        raise Undo
    # The stamp drawn inside is never drawn again: the cache built under it is out of date.
    assert routing.decide(t, SG_DAY).agent_id == w.agent.pk
    assert routing.directory()[w.tom.pk].languages == {"en"}


def test_other_readers_check_the_stamp_too(two: Any) -> None:
    w = two
    assert w.tom.pk in schedules.on_shift_at(SG_DAY) and w.tom.pk in schedules.scheduled_people()
    Rotation.objects.filter(name="SG day 2").delete()
    assert (
        w.tom.pk not in schedules.on_shift_at(SG_DAY)
        and w.tom.pk not in schedules.scheduled_people()
    )
    assert routing.directory()[w.tom.pk].name == "Tom"
    User.objects.filter(pk=w.tom.pk).update(first_name="Tomas")
    assert routing.directory()[w.tom.pk].name == "Tomas"


def test_missing_stamp_triggers_are_reinstalled(two: Any) -> None:
    w = two
    stamps.uninstall()
    try:
        assert changed(lambda: User.objects.filter(pk=w.tom.pk).update(languages=["de"])) == (
            False,
            False,
        )
    finally:
        assert stamps.ensure(connection) is True
    assert stamps.ensure(connection) is False  # all present: nothing to do
    assert changed(lambda: User.objects.filter(pk=w.tom.pk).update(languages=["en"])) == (
        True,
        False,
    )
    assert changed(
        lambda: Rotation.objects.filter(name="SG day 2").update(duration_minutes=60)
    ) == (False, True)
