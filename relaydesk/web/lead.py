"""Lead pages (leads and admins): the SLA policies and their rules, business calendars, teams
with their rotations and overrides, and escalation chains — read in one place, each with a
link to its form in the admin (where it is edited, validated by the model's own checks)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from relaydesk.core.models import Team, User
from relaydesk.routing.models import EscalationChain, EscalationStep, Rotation, ScheduleOverride
from relaydesk.sla.models import BusinessCalendar, Plan, SLAPolicy, SLARule

from .common import View, duration_words, page

STAFF = User.KIND_STAFF
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def lead_page(view: View) -> View:
    """A staff page for leads and admins only; other staff get 403."""

    @page(STAFF)
    @functools.wraps(view)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or not user.is_lead_role:
            raise PermissionDenied(_("This page is for team leads and admins."))
        return view(request, *args, **kwargs)

    return inner


def admin_url(request: HttpRequest, name: str, *args: Any) -> str:
    """The admin page for editing, when the viewer may use the admin ('' otherwise)."""
    user = request.user
    if not getattr(user, "is_staff", False):
        return ""
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return ""


def _minutes(value: int | None) -> str:
    return duration_words(value * 60) if value is not None else "—"


def _render(request: HttpRequest, template: str, tab: str, ctx: dict[str, Any]) -> HttpResponse:
    return render(request, template, {"tab": tab, **ctx})


@lead_page
def index(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "web/lead/index.html",
        "index",
        {
            "counts": {
                "policies": SLAPolicy.objects.count(),
                "rules": SLARule.objects.count(),
                "calendars": BusinessCalendar.objects.count(),
                "teams": Team.objects.count(),
                "rotations": Rotation.objects.count(),
                "chains": EscalationChain.objects.count(),
            },
            "admin": admin_url(request, "index"),
        },
    )


@lead_page
def sla(request: HttpRequest) -> HttpResponse:
    modes = {
        "24x7": _("24×7"),
        "customer_region": _("business hours of the customer's region"),
        "calendar": _("named calendar"),
    }
    policies = []
    rules_of = SLARule.objects.select_related("plan", "calendar").order_by("order")
    for pol in SLAPolicy.objects.prefetch_related(Prefetch("rules", queryset=rules_of)).order_by(
        "-is_active", "name"
    ):
        rules = []
        for r in pol.rules.all():
            rules.append(
                {
                    "rule": r,
                    "frt": _minutes(r.first_response_minutes),
                    "nrt": _minutes(r.next_response_minutes),
                    "ttr": _minutes(r.resolution_minutes),
                    "mode": modes.get(r.calendar_mode, r.calendar_mode),
                    "edit": admin_url(request, "sla_slarule_change", r.pk),
                }
            )
        policies.append(
            {
                "policy": pol,
                "rules": rules,
                "edit": admin_url(request, "sla_slapolicy_change", pol.pk),
            }
        )
    plans = Plan.objects.annotate(orgs=Count("organisations")).order_by("-rank", "name")
    return _render(
        request,
        "web/lead/sla.html",
        "sla",
        {
            "policies": policies,
            "plans": [
                {"plan": p, "edit": admin_url(request, "sla_plan_change", p.pk)} for p in plans
            ],
            "add_rule": admin_url(request, "sla_slarule_add"),
        },
    )


def _hours(spec: dict[str, Any]) -> list[tuple[str, str]]:
    names = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    hours = spec.get("hours") or {}
    out = []
    for key, name in zip(DAYS, names, strict=True):
        spans = hours.get(key) or []
        out.append((name, ", ".join(str(s) for s in spans) if spans else _("closed")))
    return out


@lead_page
def calendars(request: HttpRequest) -> HttpResponse:
    rows = []
    for cal in BusinessCalendar.objects.annotate(n_rules=Count("rules")).order_by("name"):
        spec = cal.spec if isinstance(cal.spec, dict) else {}
        hol = spec.get("holidays") or {}
        rows.append(
            {
                "cal": cal,
                "tz": cal.timezone,
                "always_open": bool(spec.get("always_open")),
                "hours": _hours(spec),
                "holidays": " / ".join(str(v) for v in (hol.get("country"), hol.get("subdiv")) if v)
                if isinstance(hol, dict)
                else "",
                "closed_dates": list(spec.get("closed_dates") or [])[:20],
                "closures": len(spec.get("closures") or []),
                "edit": admin_url(request, "sla_businesscalendar_change", cal.pk),
            }
        )
    return _render(
        request,
        "web/lead/calendars.html",
        "calendars",
        {"calendars": rows, "add": admin_url(request, "sla_businesscalendar_add")},
    )


@lead_page
def teams(request: HttpRequest) -> HttpResponse:
    now = datetime.now(UTC)
    staff = {u.pk: u for u in User.objects.filter(kind=STAFF)}
    upcoming = (
        ScheduleOverride.objects.filter(end__gte=now).select_related("user").order_by("start")
    )
    rotations = Rotation.objects.prefetch_related(
        Prefetch("overrides", queryset=upcoming)
    ).order_by("kind", "name")
    out = []
    for team in (
        Team.objects.annotate(n_orgs=Count("organisations"))
        .select_related("region", "lead")
        .prefetch_related(Prefetch("rotations", queryset=rotations))
        .order_by("name")
    ):
        members = sorted(
            (u for u in staff.values() if u.team_id == team.pk),
            key=lambda u: (u.first_name, u.email),
        )
        rots = []
        for r in team.rotations.all():
            rots.append(
                {
                    "rotation": r,
                    "kind": _("on call") if r.kind == Rotation.KIND_ONCALL else _("shift"),
                    "length": _minutes(r.duration_minutes),
                    "members": [
                        str(staff[m]) if m in staff else f"#{m}" for m in (r.member_ids or [])
                    ],
                    "tz": r.time_zone or team.timezone,
                    "overrides": list(r.overrides.all()),
                    "edit": admin_url(request, "routing_rotation_change", r.pk),
                }
            )
        out.append(
            {
                "team": team,
                "members": members,
                "rotations": rots,
                "organisations": team.n_orgs,
                "edit": admin_url(request, "core_team_change", team.pk),
            }
        )
    return _render(
        request,
        "web/lead/teams.html",
        "teams",
        {
            "teams": out,
            "add_rotation": admin_url(request, "routing_rotation_add"),
            "add_team": admin_url(request, "core_team_add"),
        },
    )


@lead_page
def escalation(request: HttpRequest) -> HttpResponse:
    steps = EscalationStep.objects.select_related("user", "rotation__team", "next_chain").order_by(
        "level"
    )
    chains = []
    for c in (
        EscalationChain.objects.select_related("team")
        .prefetch_related(Prefetch("steps", queryset=steps))
        .order_by("name")
    ):
        rows = []
        for s in c.steps.all():
            if s.user is not None:
                target = str(s.user)
            elif s.rotation is not None:
                target = _("whoever is on call in %(rotation)s (%(team)s)") % {
                    "rotation": s.rotation.name,
                    "team": s.rotation.team.name,
                }
            elif s.next_chain is not None:
                target = _("continue with the chain “%(name)s”") % {"name": s.next_chain.name}
            else:
                target = "—"
            rows.append(
                {
                    "step": s,
                    "target": target,
                    "delay": _minutes(s.delay_minutes),
                    "timeout": _minutes(s.ack_timeout_minutes),
                }
            )
        chains.append(
            {
                "chain": c,
                "steps": rows,
                "webhook": bool(c.webhook_url),
                "edit": admin_url(request, "routing_escalationchain_change", c.pk),
            }
        )
    return _render(
        request,
        "web/lead/escalation.html",
        "escalation",
        {"chains": chains, "add": admin_url(request, "routing_escalationchain_add")},
    )
