"""Coverage you can see: who is on shift hour by hour (per language and skill) with the gaps
where a plan's 24×7 promise would not be met, who is on call at an instant, and iCal feeds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
from django.conf import settings
from django.core import signing

from relaydesk.core.models import Organisation, Team, User
from relaydesk.domain import shifts
from relaydesk.sla.models import SLARule

from . import schedules
from .models import AgentProfile, Rotation
from .services import agent_skills, service_codes, team_label

FEED_SALT = "relaydesk.routing.ical"


@dataclass(frozen=True)
class Shift:
    user_id: int
    team_id: int
    layer: str
    kind: str
    start: datetime
    end: datetime
    source: str


def team_shifts(team: Team, a: datetime, b: datetime, kinds: tuple[str, ...] = ("shift", "oncall")) -> list[Shift]:
    out: list[Shift] = []
    for kind in kinds:
        for sched in schedules.build_schedules(team, kind, a):
            for s in shifts.spans(sched, a, b):
                if s.person is not None:
                    out.append(Shift(int(s.person), team.pk, s.layer, kind, s.start, s.end, s.source))
    return out


def _union(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _gaps(covered: list[tuple[datetime, datetime]], a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
    out, t = [], a
    for s, e in _union(covered):
        if s > t:
            out.append((t, min(s, b)))
        t = max(t, e)
    if t < b:
        out.append((t, b))
    return [(s, e) for s, e in out if e > s]


# Priorities that page the on-call human when nobody suitable is on shift (paging.needs_page:
# P1 always, P2 where the plan promises it 24×7 — which is what a promise below is).
PAGED_PRIORITIES = ("P1", "P2")


def _overlap_s(spans: list[tuple[datetime, datetime]], a: datetime, b: datetime) -> float:
    """Seconds of [a, b) inside the (disjoint, sorted) ``spans``."""
    return sum(max(0.0, (min(e, b) - max(s, a)).total_seconds()) for s, e in spans)


def promises() -> list[dict[str, Any]]:
    """(plan, priority, languages of its organisations) for every 24×7 rule of the active policy."""
    out = []
    langs: dict[int, set[str]] = defaultdict(set)
    for plan_id, lang in Organisation.objects.values_list("plan_id", "language"):
        langs[plan_id].add(lang)
    rules = SLARule.objects.filter(policy__is_active=True, calendar_mode="24x7").select_related("plan").order_by("plan__name", "priority")
    for r in rules:
        if r.plan_id is None or not r.priority:
            continue
        out.append({"plan": r.plan.code if r.plan else "", "priority": r.priority, "languages": sorted(langs.get(r.plan_id, set()))})
    return out


def coverage(start: datetime, days: int = 14, language: str | None = None, skill: str | None = None) -> dict[str, Any]:
    a = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    b = a + timedelta(days=days)
    all_shifts = [s for team in schedules.teams_with("shift") for s in team_shifts(team, a, b, ("shift",))]
    users = {u.pk: u for u in User.objects.filter(pk__in={s.user_id for s in all_shifts}).select_related("team")}
    profiles = {p.user_id: p for p in AgentProfile.objects.filter(user_id__in=list(users))}
    langs = {uid: set(u.languages or [u.language]) for uid, u in users.items()}
    codes = service_codes()
    skills = {uid: set(agent_skills(u, profiles.get(uid), codes)) for uid, u in users.items()}

    def keep(s: Shift) -> bool:
        return s.user_id in users and (language is None or language in langs[s.user_id]) and (skill is None or skill in skills[s.user_id])

    chosen = [s for s in all_shifts if keep(s)]
    hours = []
    for h in range(days * 24):
        hs, he = a + timedelta(hours=h), a + timedelta(hours=h + 1)
        present = sorted({s.user_id for s in chosen if s.start < he and s.end > hs})
        by_lang: dict[str, int] = defaultdict(int)
        by_skill: dict[str, int] = defaultdict(int)
        for uid in present:
            for lang in langs[uid]:
                by_lang[lang] += 1
            for sk in skills[uid]:
                by_skill[sk] += 1
        covered = _union([(max(s.start, hs), min(s.end, he)) for s in chosen if s.start < he and s.end > hs])
        hours.append({
            "start": hs.isoformat(),
            "agents": [users[uid].first_name or users[uid].email for uid in present],
            "count": len(present),
            "covered_fraction": round(sum((e - s).total_seconds() for s, e in covered) / 3600, 4),
            "languages": dict(sorted(by_lang.items())),
            "skills": dict(sorted(by_skill.items())),
        })
    # Off shift, a P1 (and a P2 whose plan promises it 24×7, i.e. every P2 promise here) pages
    # the on-call human (paging.needs_page): such a gap is answered by a person who is paged,
    # not by nobody. Each gap says how much of it an on-call layer covers, and only what
    # neither covers is "unanswered".
    on_call = _union([
        (s.start, s.end) for team in schedules.teams_with("oncall") for s in team_shifts(team, a, b, ("oncall",))
    ])
    gaps = []
    for p in promises():
        paged = p["priority"] in PAGED_PRIORITIES
        for lang in p["languages"] or [None]:
            if language is not None and lang not in (None, language):
                continue
            covered = [(s.start, s.end) for s in chosen if lang is None or lang in langs[s.user_id]]
            for gs, ge in _gaps(covered, a, b):
                span = (ge - gs).total_seconds()
                paged_s = _overlap_s(on_call, gs, ge) if paged else 0.0
                gaps.append({
                    "plan": p["plan"], "priority": p["priority"], "language": lang,
                    "start": gs.isoformat(), "end": ge.isoformat(), "hours": round(span / 3600, 2),
                    "pages_on_call": paged,
                    "on_call_fraction": round(paged_s / span, 4) if span else 0.0,
                    "unanswered_hours": round((span - paged_s) / 3600, 2),
                })
    # Rows routing skips (a rotation that does not parse, an overlapping override): the hours
    # above are computed without them, and this says what to fix.
    problems = schedules.schedule_problems()
    return {
        "start": a.isoformat(), "end": b.isoformat(), "language": language, "skill": skill, "hours": hours, "gaps": gaps,
        "problems": problems,
    }


def who(at: datetime, language: str | None = None) -> list[dict[str, Any]]:
    """Everyone on shift or on call at ``at`` per team and layer (CLI ``oncall who``, API)."""
    out = []
    for team in Team.objects.filter(pk__in=Rotation.objects.values("team_id")).select_related("region"):
        for s in team_shifts(team, at, at + timedelta(seconds=1)):
            user = User.objects.filter(pk=s.user_id).first()
            if user is None:
                continue
            langs = list(user.languages or [user.language])
            if language is not None and language not in langs:
                continue
            prof = AgentProfile.objects.filter(user=user).first()
            out.append({
                "team": team.name, "region": team_label(team), "layer": s.layer, "kind": s.kind,
                "user_id": user.pk, "name": user.get_full_name() or user.email, "email": user.email,
                "languages": langs, "presence": prof.presence if prof else "available", "until": s.end.isoformat(),
            })
    return out


def feed_url(kind: str, pk: int) -> str:
    signed = signing.dumps({"k": kind, "id": pk}, salt=FEED_SALT, compress=True)
    return f"{settings.RELAYDESK_BASE_URL.rstrip('/')}/routing/ical/{signed}.ics"


def ical(kind: str, pk: int, a: datetime, b: datetime) -> bytes | None:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//RelayDesk//shifts//EN")
    cal.add("version", "2.0")
    if kind == "team":
        team = Team.objects.filter(pk=pk).first()
        if team is None:
            return None
        cal.add("x-wr-calname", f"{team.name} shifts")
        items = team_shifts(team, a, b)
    elif kind == "agent":
        user = User.objects.filter(pk=pk, kind=User.KIND_STAFF).first()
        if user is None:
            return None
        cal.add("x-wr-calname", f"{user.get_full_name() or user.email} shifts")
        items = [s for team in Team.objects.filter(pk__in=Rotation.objects.values("team_id")) for s in team_shifts(team, a, b) if s.user_id == pk]
    else:
        return None
    names = {u.pk: (u.get_full_name() or u.email) for u in User.objects.filter(pk__in={s.user_id for s in items})}
    for s in items:
        ev = icalendar.Event()
        ev.add("uid", f"{s.team_id}-{s.layer}-{s.user_id}-{int(s.start.timestamp())}@relaydesk")
        ev.add("summary", f"{names.get(s.user_id, s.user_id)}: {'on call' if s.kind == 'oncall' else 'on shift'} ({s.layer})")
        ev.add("dtstart", s.start)
        ev.add("dtend", s.end)
        ev.add("dtstamp", datetime.now(UTC))
        cal.add_component(ev)
    return bytes(cal.to_ical())
