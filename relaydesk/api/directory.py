"""Organisations, users, regions, calendars and SLA policies: read for staff, write for admins."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from relaydesk.core.models import ROLE_GROUPS, Organisation, Region, Team, User, validate_timezone
from relaydesk.domain.calendar import BusinessCalendar as Cal
from relaydesk.domain.calendar import CalendarError
from relaydesk.sla.models import BusinessCalendar, Plan, SLAPolicy, SLARule
from relaydesk.tickets.models import Ticket
from relaydesk.tickets.services import recompute_sla

from . import schemas as s
from .auth import current_user, require_admin, require_scope, require_staff, visible_organisations

router = Router()


def _ref(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj)}


def _user_ref(u: User | None) -> dict[str, Any] | None:
    if u is None:
        return None
    return {"id": u.pk, "email": u.email, "name": u.get_full_name() or u.email}


def _tz(value: str, field: str) -> str:
    try:
        validate_timezone(value)
    except ValidationError as exc:
        raise HttpError(422, f"{field}: {exc.messages[0]}") from exc
    return value


# -- me ----------------------------------------------------------------------------------


@router.get("/me", response=s.UserOut, tags=["directory"], summary="The caller")
def me(request: HttpRequest) -> dict[str, Any]:
    return user_out(current_user(request))


# -- organisations ---------------------------------------------------------------------


def org_out(o: Organisation) -> dict[str, Any]:
    return {
        "id": o.pk,
        "name": o.name,
        "plan": o.plan.code,
        "home_region": o.home_region.code,
        "language": o.language,
        "timezone": o.timezone,
        "is_key_account": o.is_key_account,
        "account_manager": _user_ref(o.account_manager),
        "email_domains": o.email_domains,
    }


@router.get("/organisations", response=list[s.OrganisationOut], tags=["directory"])
def list_organisations(request: HttpRequest) -> list[dict[str, Any]]:
    require_scope(request, "tickets:read")
    user = current_user(request)
    qs = visible_organisations(user).select_related("plan", "home_region", "account_manager")
    return [org_out(o) for o in qs]


@router.get("/organisations/{int:org_id}", response=s.OrganisationOut, tags=["directory"])
def get_organisation(request: HttpRequest, org_id: int) -> dict[str, Any]:
    require_scope(request, "tickets:read")
    org = visible_organisations(current_user(request)).filter(pk=org_id).first()
    if org is None:
        raise HttpError(404, f"organisation {org_id} not found")
    return org_out(org)


def _plan(code: str) -> Plan:
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise HttpError(422, f"plan: unknown plan {code!r}; known: {', '.join(Plan.objects.values_list('code', flat=True))}")
    return plan


def _region(code: str, field: str = "home_region") -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise HttpError(422, f"{field}: unknown region {code!r}")
    return region


def _manager(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    found = User.objects.filter(pk=user_id, kind=User.KIND_STAFF).first()
    if found is None:
        raise HttpError(422, f"account_manager_id: no staff user with id {user_id}")
    return found


@router.post("/organisations", response={201: s.OrganisationOut}, tags=["directory"])
def create_organisation(request: HttpRequest, payload: s.OrganisationIn) -> Status[dict[str, Any]]:
    require_admin(request)
    try:
        with transaction.atomic():
            org = Organisation.objects.create(
                name=payload.name,
                plan=_plan(payload.plan),
                home_region=_region(payload.home_region),
                language=payload.language,
                timezone=_tz(payload.timezone, "timezone"),
                is_key_account=payload.is_key_account,
                account_manager=_manager(payload.account_manager_id),
                email_domains=[d.lower() for d in payload.email_domains],
            )
    except IntegrityError as exc:
        raise HttpError(409, f"name: an organisation called {payload.name!r} exists") from exc
    return Status(201, org_out(org))


@router.patch("/organisations/{int:org_id}", response=s.OrganisationOut, tags=["directory"])
def update_organisation(request: HttpRequest, org_id: int, payload: s.OrganisationPatch) -> dict[str, Any]:
    admin = require_admin(request)
    org = Organisation.objects.filter(pk=org_id).first()
    if org is None:
        raise HttpError(404, f"organisation {org_id} not found")
    sent = payload.model_dump(exclude_unset=True)
    with transaction.atomic():
        plan_changed = False
        if "plan" in sent:
            plan = _plan(sent["plan"])
            plan_changed = plan.pk != org.plan_id
            org.plan = plan
        if "home_region" in sent:
            new_region = _region(sent["home_region"])
            plan_changed = plan_changed or new_region.pk != org.home_region_id
            org.home_region = new_region
        for name in ("name", "language", "is_key_account"):
            if name in sent and sent[name] is not None:
                setattr(org, name, sent[name])
        if "timezone" in sent and sent["timezone"] is not None:
            org.timezone = _tz(sent["timezone"], "timezone")
        if "account_manager_id" in sent:
            org.account_manager = _manager(sent["account_manager_id"])
        if "email_domains" in sent and sent["email_domains"] is not None:
            org.email_domains = [d.lower() for d in sent["email_domains"]]
        try:
            with transaction.atomic():
                org.save()
        except IntegrityError as exc:
            raise HttpError(409, "name: another organisation has this name") from exc
        if plan_changed:
            # A new plan re-targets every open ticket, keeping business time already spent.
            for ticket in Ticket.objects.filter(organisation=org).exclude(status="closed").select_related(
                "organisation__plan", "organisation__home_region", "sla_rule", "sla_calendar"
            ):
                recompute_sla(ticket, actor=admin, via="api", reason="plan changed")
    return org_out(org)


# -- users -----------------------------------------------------------------------------------


def user_out(u: User) -> dict[str, Any]:
    return {
        "id": u.pk,
        "email": u.email,
        "name": u.get_full_name() or u.email,
        "role": u.role,
        "organisation": _ref(u.organisation),
        "language": u.language,
        "timezone": u.timezone,
        "team": _ref(u.team),
        "languages": u.languages,
        "skills": u.skills,
        "is_active": u.is_active,
    }


@router.get("/users", response=list[s.UserOut], tags=["directory"], summary="Users (staff only)")
def list_users(
    request: HttpRequest, role: str | None = None, organisation: int | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    require_scope(request, "tickets:read")
    user = current_user(request)
    require_staff(user)
    if not 1 <= limit <= 5000:
        raise HttpError(422, "limit: must be between 1 and 5000")
    qs = User.objects.select_related("organisation", "team").prefetch_related("groups")
    if role is not None:
        if role == "customer":
            qs = qs.filter(kind=User.KIND_CUSTOMER)
        elif role in ROLE_GROUPS:
            qs = qs.filter(kind=User.KIND_STAFF)
        else:
            raise HttpError(422, "role: use customer, agent, lead or admin")
    visible = visible_organisations(user).values("pk")
    from django.db.models import Q

    qs = qs.filter(Q(kind=User.KIND_STAFF) | Q(organisation__in=visible))
    if organisation is not None:
        qs = qs.filter(organisation_id=organisation)
    out = []
    for u in qs.order_by("email")[:limit]:
        u._group_names = {g.name for g in u.groups.all()}
        if role in ROLE_GROUPS and u.role != role:
            continue
        out.append(user_out(u))
    return out


@router.post("/users", response={201: s.UserOut}, tags=["directory"])
def create_user(request: HttpRequest, payload: s.UserIn) -> Status[dict[str, Any]]:
    require_admin(request)
    org = None
    if payload.role == "customer":
        if payload.organisation_id is None:
            raise HttpError(422, "organisation_id: a customer must belong to an organisation")
        org = Organisation.objects.filter(pk=payload.organisation_id).first()
        if org is None:
            raise HttpError(422, f"organisation_id: no organisation {payload.organisation_id}")
    elif payload.organisation_id is not None:
        raise HttpError(422, "organisation_id: staff do not belong to a customer organisation")
    team = None
    if payload.team_id is not None:
        team = Team.objects.filter(pk=payload.team_id).first()
        if team is None:
            raise HttpError(422, f"team_id: no team {payload.team_id}")
    first, _, last = payload.name.partition(" ")
    try:
        with transaction.atomic():
            u = User(
                email=payload.email.lower(),
                username=payload.email.lower(),
                first_name=first,
                last_name=last,
                kind=User.KIND_CUSTOMER if payload.role == "customer" else User.KIND_STAFF,
                organisation=org,
                language=payload.language,
                timezone=_tz(payload.timezone, "timezone"),
                team=team,
                languages=payload.languages,
                skills=payload.skills,
                is_staff=payload.role in ("lead", "admin"),
            )
            if payload.password:
                u.set_password(payload.password)
            else:
                u.set_unusable_password()
            u.full_clean(exclude=["password"])
            u.save()
            if payload.role != "customer":
                u.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[payload.role])[0])
    except ValidationError as exc:
        field, msgs = next(iter(exc.message_dict.items()))
        raise HttpError(422, f"{field}: {msgs[0]}") from exc
    except IntegrityError as exc:
        raise HttpError(409, f"email: a user with {payload.email!r} exists") from exc
    u._group_names = {ROLE_GROUPS[payload.role]} if payload.role != "customer" else set()
    return Status(201, user_out(u))


# -- regions ----------------------------------------------------------------------------------


def region_out(r: Region) -> dict[str, Any]:
    return {
        "id": r.pk,
        "code": r.code,
        "name": r.name,
        "country": r.country,
        "subdivision": r.subdivision,
        "timezone": r.timezone,
        "calendar": r.calendar.name if r.calendar else None,
    }


@router.get("/regions", response=list[s.RegionOut], tags=["directory"])
def list_regions(request: HttpRequest) -> list[dict[str, Any]]:
    return [region_out(r) for r in Region.objects.select_related("calendar")]


@router.post("/regions", response={201: s.RegionOut}, tags=["directory"])
def create_region(request: HttpRequest, payload: s.RegionIn) -> Status[dict[str, Any]]:
    require_admin(request)
    cal = None
    if payload.calendar_id is not None:
        cal = BusinessCalendar.objects.filter(pk=payload.calendar_id).first()
        if cal is None:
            raise HttpError(422, f"calendar_id: no calendar {payload.calendar_id}")
    try:
        Cal(_tz(payload.timezone, "timezone"), {"mon": ["09:00-10:00"]}, holiday_country=payload.country.upper(), holiday_subdiv=payload.subdivision or None)
    except CalendarError as exc:
        raise HttpError(422, f"country: {exc}") from exc
    try:
        with transaction.atomic():
            r = Region.objects.create(
                code=payload.code,
                name=payload.name,
                country=payload.country.upper(),
                subdivision=payload.subdivision,
                timezone=payload.timezone,
                calendar=cal,
            )
    except IntegrityError as exc:
        raise HttpError(409, f"code: region {payload.code!r} exists") from exc
    return Status(201, region_out(r))


# -- calendars --------------------------------------------------------------------------------


def calendar_out(c: BusinessCalendar) -> dict[str, Any]:
    return {"id": c.pk, "name": c.name, "spec": c.spec, "description": c.description}


@router.get("/calendars", response=list[s.CalendarOut], tags=["sla"])
def list_calendars(request: HttpRequest) -> list[dict[str, Any]]:
    require_staff(current_user(request))
    return [calendar_out(c) for c in BusinessCalendar.objects.all()]


def _check_spec(spec: dict[str, Any]) -> dict[str, Any]:
    try:
        return Cal.from_spec(spec).to_spec()
    except CalendarError as exc:
        raise HttpError(422, f"spec: {exc}") from exc


@router.post("/calendars", response={201: s.CalendarOut}, tags=["sla"])
def create_calendar(request: HttpRequest, payload: s.CalendarIn) -> Status[dict[str, Any]]:
    require_admin(request)
    spec = _check_spec(payload.spec)
    try:
        with transaction.atomic():
            c = BusinessCalendar.objects.create(name=payload.name, spec=spec, description=payload.description)
    except IntegrityError as exc:
        raise HttpError(409, f"name: calendar {payload.name!r} exists") from exc
    return Status(201, calendar_out(c))


@router.put("/calendars/{int:cal_id}", response=s.CalendarOut, tags=["sla"])
def replace_calendar(request: HttpRequest, cal_id: int, payload: s.CalendarIn) -> dict[str, Any]:
    require_admin(request)
    c = BusinessCalendar.objects.filter(pk=cal_id).first()
    if c is None:
        raise HttpError(404, f"calendar {cal_id} not found")
    c.spec = _check_spec(payload.spec)
    c.name = payload.name
    c.description = payload.description
    try:
        with transaction.atomic():
            c.save()
    except IntegrityError as exc:
        raise HttpError(409, "name: another calendar has this name") from exc
    return calendar_out(c)


# -- SLA policies ---------------------------------------------------------------------------


def rule_out(r: SLARule) -> dict[str, Any]:
    return {
        "id": r.pk,
        "order": r.order,
        "name": r.name,
        "plan": r.plan.code if r.plan else None,
        "priority": r.priority or None,
        "category": r.category or None,
        "channel": r.channel or None,
        "first_response_minutes": r.first_response_minutes,
        "next_response_minutes": r.next_response_minutes,
        "resolution_minutes": r.resolution_minutes,
        "calendar_mode": r.calendar_mode,
        "calendar": r.calendar.name if r.calendar else None,
        "pause_on_hold": r.pause_on_hold,
        "warn_pct": r.warn_pct,
    }


def policy_out(p: SLAPolicy) -> dict[str, Any]:
    return {
        "id": p.pk,
        "name": p.name,
        "description": p.description,
        "is_active": p.is_active,
        "rules": [rule_out(r) for r in p.rules.select_related("plan", "calendar").order_by("order")],
    }


@router.get("/sla/policies", response=list[s.PolicyOut], tags=["sla"])
def list_policies(request: HttpRequest) -> list[dict[str, Any]]:
    require_staff(current_user(request))
    return [policy_out(p) for p in SLAPolicy.objects.all()]


@router.post("/sla/policies/{int:policy_id}/rules", response={201: s.RuleOut}, tags=["sla"])
def add_rule(request: HttpRequest, policy_id: int, payload: s.RuleIn) -> Status[dict[str, Any]]:
    require_admin(request)
    policy = SLAPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise HttpError(404, f"policy {policy_id} not found")
    cal = None
    if payload.calendar_mode == "calendar":
        if payload.calendar_id is None:
            raise HttpError(422, "calendar_id: required when calendar_mode is 'calendar'")
        cal = BusinessCalendar.objects.filter(pk=payload.calendar_id).first()
        if cal is None:
            raise HttpError(422, f"calendar_id: no calendar {payload.calendar_id}")
    elif payload.calendar_id is not None:
        raise HttpError(422, "calendar_id: only with calendar_mode 'calendar'")
    try:
        with transaction.atomic():
            r = SLARule.objects.create(
                policy=policy,
                order=payload.order,
                name=payload.name,
                plan=_plan(payload.plan) if payload.plan else None,
                priority=payload.priority or "",
                category=payload.category or "",
                channel=payload.channel or "",
                first_response_minutes=payload.first_response_minutes,
                next_response_minutes=payload.next_response_minutes,
                resolution_minutes=payload.resolution_minutes,
                calendar_mode=payload.calendar_mode,
                calendar=cal,
                pause_on_hold=payload.pause_on_hold,
                warn_pct=payload.warn_pct,
            )
    except IntegrityError as exc:
        raise HttpError(409, f"order: policy already has a rule at position {payload.order}") from exc
    return Status(201, rule_out(r))
