"""Routing data for the demo world: each staff member's weekly shifts as a rotation in their own
time zone, weekend duty per team (two people on shift through Saturday and Sunday, so a P1 finds
someone on shift at any hour of the week), a weekly 24×7 on-call rotation per team, an escalation
chain per team (on call → lead, once repeated) and agent profiles.  Idempotent; call after ``relaydesk.demo.world.build``
(the demo loader calls ``load``; the follow-the-sun bench calls ``install``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from relaydesk.core.models import Team, User

from .models import AgentProfile, EscalationChain, EscalationStep, Rotation

BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CAPACITY = {"P1": 3, "P2": 6, "P3": 12, "P4": 15}
# Weekend duty per team, Saturday and Sunday, in the team's zone: (start hour, end hour).  The
# staff's own shifts leave the weekend almost empty (a P1 at 23:00 UTC on a Saturday would only
# reach an on-call human woken by a page); the 24×7 P1 promise needs people on shift, so each
# weekend two of the team take the duty (layers A and B, the same person both days, turn by
# turn).  In UTC (winter): APAC 00–08, EMEA 08–17, Americas 16–01 (Monday 01:00 is when APAC's
# week starts); EMEA's 9 hours keep 07–16 UTC covered in summer time.
WEEKEND_DUTY = {"APAC": (8, 16), "EMEA": (9, 18), "Americas": (13, 22)}


def _byday(spec: str) -> str:
    if "-" in spec:
        a, b = (DAYS.index(p) for p in spec.split("-"))
        return ",".join(BYDAY[a : b + 1])
    return BYDAY[DAYS.index(spec)]


def install(staff_specs: Any = None) -> dict[str, int]:
    from relaydesk.demo import world as demo_world

    specs = staff_specs if staff_specs is not None else demo_world.STAFF
    made = {"rotations": 0, "chains": 0, "profiles": 0}
    with transaction.atomic():
        users = {u.email.lower(): u for u in User.objects.filter(kind=User.KIND_STAFF)}
        for spec in specs:
            user = users.get(spec.email.lower())
            if user is None or user.team_id is None:
                continue
            _, created = AgentProfile.objects.get_or_create(user=user, defaults={"capacity": dict(CAPACITY)})
            made["profiles"] += created
            for i, (days, start, end) in enumerate(spec.shifts):
                _, created = Rotation.objects.get_or_create(
                    team_id=user.team_id,
                    name=f"{spec.first} {i + 1}",
                    defaults={
                        "kind": Rotation.KIND_SHIFT,
                        "rrule": f"FREQ=WEEKLY;BYDAY={_byday(days)};BYHOUR={start};BYMINUTE=0;BYSECOND=0",
                        "dtstart": f"2026-01-05T{start:02d}:00:00",
                        "duration_minutes": (end - start) * 60,
                        "member_ids": [user.pk],
                        "time_zone": spec.timezone,
                    },
                )
                made["rotations"] += created
        for team in Team.objects.all():
            members = list(User.objects.filter(team=team, kind=User.KIND_STAFF, is_active=True).order_by("pk"))
            if not members:
                continue
            made["rotations"] += _weekend_duty(team, members)
            oncall, created = Rotation.objects.get_or_create(
                team=team,
                name=f"{team.name} on call",
                defaults={
                    "kind": Rotation.KIND_ONCALL,
                    "rrule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
                    "dtstart": "2026-01-05T09:00:00",
                    "duration_minutes": 7 * 24 * 60,
                    "member_ids": [u.pk for u in members],
                },
            )
            made["rotations"] += created
            chain, created = EscalationChain.objects.get_or_create(
                name=f"{team.name} urgent", defaults={"team": team, "priorities": ["P1", "P2"], "repeat": 1}
            )
            if created:
                EscalationStep.objects.create(chain=chain, level=0, ack_timeout_minutes=5, rotation=oncall)
                if team.lead_id is not None:
                    EscalationStep.objects.create(chain=chain, level=1, delay_minutes=0, ack_timeout_minutes=10, user_id=team.lead_id)
                made["chains"] += 1
    return made


def _weekend_duty(team: Team, members: list[User]) -> int:
    hours = WEEKEND_DUTY.get(team.name)
    if hours is None:
        return 0
    start, end = hours
    agents = [u for u in members if u.pk != team.lead_id] or members
    made = 0
    half = len(agents) // 2
    for layer, order in (("A", agents), ("B", agents[half:] + agents[:half])):
        if layer == "B" and len(agents) < 2:
            break
        _, created = Rotation.objects.get_or_create(
            team=team,
            name=f"{team.name} weekend duty {layer}",
            defaults={
                "kind": Rotation.KIND_SHIFT,
                "rrule": f"FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR={start};BYMINUTE=0;BYSECOND=0",
                "dtstart": f"2026-01-03T{start:02d}:00:00",  # a Saturday
                "duration_minutes": (end - start) * 60,
                "handoff_every": 2,  # Saturday and Sunday: one weekend each, turn by turn
                "member_ids": [u.pk for u in order],
            },
        )
        made += created
    return made


def load(seed: int, now: datetime) -> str:
    """The demo loader's hook (``relaydesk.demo.CAPABILITIES``): install and summarise."""
    made = install()
    return (
        f"{made['rotations']} rotations (shifts in each member's zone, weekly on-call per team), "
        f"{made['chains']} escalation chains, {made['profiles']} agent profiles"
    )
