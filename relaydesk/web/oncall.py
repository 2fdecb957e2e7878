"""Coverage you can see (staff): the next days hour by hour — who is on shift per language and
skill, and the hours where a plan's 24×7 promise for a priority is not met — plus the on-call
page (who is on shift or on call now, recent pages and their acknowledgement, calendar feeds)
and the agent's own presence.

Everything is read through relaydesk.routing (``calendars.coverage``, ``calendars.who``,
``calendars.team_shifts``, ``calendars.feed_url``, ``services.set_presence``); this module
only arranges it for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relaydesk.api.auth import visible_tickets
from relaydesk.core.models import LANGUAGES, Team, User
from relaydesk.domain import routing as rt
from relaydesk.routing import calendars
from relaydesk.routing import services as routing
from relaydesk.routing.models import AgentProfile, Page, PageNotification, Rotation
from relaydesk.tickets.services import TicketError

from .common import page, viewer_zone

STAFF = User.KIND_STAFF
MAX_DAYS = 14
RECENT_PAGES = 30

PRESENCE_NAMES = {
    rt.AVAILABLE: gettext_lazy("Available"),
    rt.BUSY: gettext_lazy("Busy"),
    rt.AWAY: gettext_lazy("Away"),
    rt.OFFLINE: gettext_lazy("Offline"),
}


def presence_choices() -> list[tuple[str, str]]:
    return [(code, str(PRESENCE_NAMES.get(code, code))) for code in rt.PRESENCES]


def page_status_names() -> dict[str, str]:
    return {
        Page.OPEN: _("waiting for acknowledgement"),
        Page.ACKED: _("acknowledged"),
        Page.RESOLVED: _("resolved"),
        Page.EXHAUSTED: _("nobody acknowledged"),
    }


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


# -- coverage --------------------------------------------------------------------------------------


@dataclass
class CoverageFilters:
    start: date
    days: int = MAX_DAYS
    language: str = ""
    skill: str = ""
    team: Team | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, q: QueryDict, today: date) -> CoverageFilters:
        errors: dict[str, str] = {}
        start = today
        raw = q.get("start", "").strip()
        if raw:
            try:
                start = date.fromisoformat(raw)
            except ValueError:
                errors["start"] = _("“%(value)s” is not a date; use YYYY-MM-DD.") % {"value": raw}
        days = MAX_DAYS
        raw = q.get("days", "").strip()
        if raw:
            if raw.isdigit() and 1 <= int(raw) <= MAX_DAYS:
                days = int(raw)
            else:
                errors["days"] = _("Days must be a whole number from 1 to %(max)d.") % {
                    "max": MAX_DAYS
                }
        language = q.get("language", "").strip()
        if language and language not in dict(LANGUAGES):
            errors["language"] = _("Unknown language “%(value)s”.") % {"value": language}
            language = ""
        team = None
        raw = q.get("team", "").strip()
        if raw:
            team = Team.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
            if team is None:
                errors["team"] = _("Unknown team “%(value)s”.") % {"value": raw}
        skill = q.get("skill", "").strip()[:80]
        return cls(start, days, language, skill, team, errors)


def _hour_cells(filters: CoverageFilters, tz: Any) -> dict[str, Any]:
    """The routing coverage of the window laid out as local days × 24 hours, with the gaps of
    24×7 promises marked on the hours they touch."""
    local_start = datetime.combine(filters.start, datetime.min.time(), tzinfo=tz)
    data = calendars.coverage(
        local_start, filters.days, filters.language or None, filters.skill or None
    )
    gaps = [
        {
            **g,
            "from": datetime.fromisoformat(g["start"]),
            "to": datetime.fromisoformat(g["end"]),
            "language_name": dict(LANGUAGES).get(g["language"], g["language"]),
        }
        for g in data["gaps"]
    ]
    team_people: dict[str, list[str]] | None = None
    if filters.team is not None:
        team_people = _team_hours(filters, data)
    rows: dict[date, dict[int, dict[str, Any]]] = {}
    for h in data["hours"]:
        hs = datetime.fromisoformat(h["start"])
        he = hs + timedelta(hours=1)
        local = hs.astimezone(tz)
        if local.date() >= filters.start + timedelta(days=filters.days):
            continue
        names = team_people[h["start"]] if team_people is not None else h["agents"]
        missed = [g for g in gaps if g["from"] < he and g["to"] > hs]
        cell = {
            "start": hs,
            "hour": local.hour,
            "count": len(names),
            "agents": names,
            "languages": h["languages"],
            "gaps": missed,
        }
        rows.setdefault(local.date(), {}).setdefault(
            local.hour, cell
        )  # a repeated DST hour keeps the first
    days = [{"date": d, "cells": [rows[d].get(hour) for hour in range(24)]} for d in sorted(rows)]
    return {"days": days, "gaps": gaps, "start": data["start"], "end": data["end"]}


def _team_hours(filters: CoverageFilters, data: dict[str, Any]) -> dict[str, list[str]]:
    """Who of one team is on shift in each hour (same language and skill filter)."""
    assert filters.team is not None
    a = datetime.fromisoformat(data["start"])
    b = datetime.fromisoformat(data["end"])
    spans = calendars.team_shifts(filters.team, a, b, (Rotation.KIND_SHIFT,))
    users = {u.pk: u for u in User.objects.filter(pk__in={s.user_id for s in spans})}
    profiles = {p.user_id: p for p in AgentProfile.objects.filter(user_id__in=list(users))}

    def keep(uid: int) -> bool:
        u = users.get(uid)
        if u is None:
            return False
        if filters.language and filters.language not in (u.languages or [u.language]):
            return False
        return not filters.skill or filters.skill in routing.agent_skills(u, profiles.get(uid))

    out: dict[str, list[str]] = {}
    for h in data["hours"]:
        hs = datetime.fromisoformat(h["start"])
        he = hs + timedelta(hours=1)
        present = sorted(
            {s.user_id for s in spans if s.start < he and s.end > hs and keep(s.user_id)}
        )
        out[h["start"]] = [users[uid].first_name or users[uid].email for uid in present]
    return out


@page(STAFF)
def coverage(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    tz = viewer_zone(user)
    filters = CoverageFilters.from_query(request.GET, timezone.now().astimezone(tz).date())
    grid = _hour_cells(filters, tz)
    return render(
        request,
        "web/oncall/coverage.html",
        {
            "filters": filters,
            "grid": grid,
            "hours": range(24),
            "languages": LANGUAGES,
            "teams": Team.objects.order_by("name"),
            "max_days": MAX_DAYS,
            "tz_name": str(tz),
        },
        status=400 if filters.errors else 200,
    )


# -- on call, pages, presence ----------------------------------------------------------------------


def recent_pages(user: User, limit: int = RECENT_PAGES) -> list[dict[str, Any]]:
    """Pages newest first: every page for leads; for an agent, pages of tickets they may see
    and pages sent to them."""
    qs = Page.objects.select_related("ticket", "acked_by", "resolved_by", "chain").order_by(
        "-created_at", "-id"
    )
    if not user.is_lead_role:
        mine = PageNotification.objects.filter(user=user).values("page_id")
        qs = qs.filter(Q(ticket__in=visible_tickets(user).values("pk")) | Q(pk__in=mine))
    names = page_status_names()
    out = []
    for p in qs[:limit]:
        out.append(
            {
                "page": p,
                "ticket": p.ticket,
                "status_name": names.get(p.status, p.status),
                "level": p.level + 1 if p.level >= 0 else None,
            }
        )
    return out


def my_presence(user: User) -> AgentProfile:
    return AgentProfile.objects.filter(user=user).first() or AgentProfile(user=user)


UNTIL_HORIZON = timedelta(days=8)


def _with_real_ends(who: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """``calendars.who`` answers for an instant, so its ``until`` is that instant's end; the
    page wants when each person's stint really ends: the end of their span over the next
    days (``calendars.team_shifts``; ``None`` when it runs past the horizon)."""
    ends: dict[tuple[str, str, int, str], datetime] = {}
    horizon = now + UNTIL_HORIZON
    for team in Team.objects.filter(name__in={w["team"] for w in who}):
        for s in calendars.team_shifts(team, now, horizon):
            if s.start <= now < s.end:
                ends[(team.name, s.layer, s.user_id, s.kind)] = s.end
    out = []
    for w in who:
        end = ends.get((w["team"], w["layer"], w["user_id"], w["kind"]))
        out.append(w | {"until_at": end if end is not None and end < horizon else None})
    return out


@page(STAFF)
def oncall(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    now = datetime.now(UTC)
    who = _with_real_ends(calendars.who(now), now)
    feeds = [
        {"team": t, "url": calendars.feed_url("team", t.pk)}
        for t in Team.objects.filter(pk__in=Rotation.objects.values("team_id")).order_by("name")
    ]
    return render(
        request,
        "web/oncall/oncall.html",
        {
            "profile": my_presence(user),
            "presences": presence_choices(),
            "on_shift": [w for w in who if w["kind"] == Rotation.KIND_SHIFT],
            "on_call": [w for w in who if w["kind"] == Rotation.KIND_ONCALL],
            "presence_names": dict(presence_choices()),
            "pages": recent_pages(user),
            "team_feeds": feeds,
            "my_feed": calendars.feed_url("agent", user.pk),
        },
    )


@page(STAFF)
@require_POST
def presence(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    wanted = request.POST.get("presence", "")
    target = request.POST.get("next") or reverse("web:console-oncall")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("web:console-oncall")
    if wanted not in rt.PRESENCES:
        messages.error(request, _("Choose a presence: available, busy, away or offline."))
        return redirect(target)
    if user.team_id is None:
        messages.error(
            request,
            _("You have no team yet; ask a lead to add you to one before setting your presence."),
        )
        return redirect(target)
    try:
        routing.set_presence(user, wanted)
    except TicketError as exc:  # the service's own refusal, in its words
        messages.error(request, exc.message)
        return redirect(target)
    messages.success(
        request, _("Your presence is now “%(name)s”.") % {"name": PRESENCE_NAMES[wanted]}
    )
    return redirect(target)
