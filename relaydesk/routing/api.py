"""JSON API of the routing capability; mounted under /api/v1 (paths below carry their own prefix).

Everything here is for support staff: customers get 403 (assignment reasons, schedules and
pages are internal).  Reads of schedules, profiles, chains and coverage are open to every
staff member; schedules, chains and other people's profiles are changed by leads and admins
only.  Pages follow ticket tenancy: an agent sees and acknowledges/resolves the pages about
tickets they may see and the pages addressed to them; leads and admins all.  Bad input answers 422 with ``field:
message`` and writes nothing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict, Field

from relaydesk.api.auth import (
    current_user,
    get_visible_ticket,
    require_scope,
    require_staff,
    visible_tickets,
)
from relaydesk.core.models import Team, User
from relaydesk.domain import routing as rt
from relaydesk.domain import shifts
from relaydesk.tickets.services import TicketError

from . import calendars, paging, schedules, services, validation
from .models import (
    AgentProfile,
    Assignment,
    EscalationChain,
    EscalationStep,
    Page,
    PageNotification,
    Rotation,
    ScheduleOverride,
    TimeOff,
)

log = logging.getLogger(__name__)
router = Router(tags=["routing"])
PRIORITIES = ("P1", "P2", "P3", "P4")


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# -- helpers ---------------------------------------------------------------------------------


def _staff(request: HttpRequest, write: bool = False) -> User:
    require_scope(request, "tickets:write" if write else "tickets:read")
    user = current_user(request)
    require_staff(user)
    return user


def _lead(request: HttpRequest) -> User:
    user = _staff(request, write=True)
    if not user.is_lead_role:
        raise HttpError(403, "only leads and admins may change schedules, chains and profiles")
    return user


def _team(team_id: int) -> Team:
    team = Team.objects.select_related("region").filter(pk=team_id).first()
    if team is None:
        raise HttpError(404, f"team {team_id} not found")
    return team


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise HttpError(422, f"{field}: give a UTC offset, e.g. 2026-12-24T03:00+08:00")
    return value


def _shift_error(exc: shifts.ShiftError, prefix: str = "") -> HttpError:
    field = exc.field.split("].", 1)[-1] if exc.field.startswith("layers[") else exc.field
    return HttpError(422, f"{prefix}{field or 'body'}: {exc.message}")


# -- teams -----------------------------------------------------------------------------------
#
# A team: name, region (by code: its country gives the holidays), time zone (its shifts'
# wall clock), languages, e-mail, lead, and its members — the staff whose ``User.team`` it is
# (one team per person; moving somebody from another team needs ``move: true``).  Writes bump
# the routing caches' stamps through the database triggers on ``core_team`` and ``core_user``
# (``relaydesk.routing.stamps``), so the next routing decision in any process sees them.


class TeamCreateIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    region: str | None = None
    timezone: str
    languages: list[str] = []
    email: str = Field(default="", max_length=254)
    lead_id: int | None = None
    serves_all: bool = False
    member_ids: list[int] = Field(default=[], max_length=500)
    move: bool = False


class TeamPatchIn(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    region: str | None = None
    timezone: str | None = None
    languages: list[str] | None = None
    email: str | None = Field(default=None, max_length=254)
    lead_id: int | None = None
    serves_all: bool | None = None


class MemberIn(Strict):
    user_id: int
    move: bool = False


def team_out(team: Team) -> dict[str, Any]:
    members = sorted(team.members.filter(kind=User.KIND_STAFF), key=lambda u: u.pk)
    return {
        "id": team.pk, "name": team.name, "region": team.region.code if team.region is not None else None,
        "timezone": team.timezone, "languages": team.languages, "email": team.email, "lead_id": team.lead_id,
        "serves_all": team.serves_all,
        "members": [{"id": u.pk, "name": u.get_full_name() or u.email, "email": u.email} for u in members],
        "rotation_ids": sorted(team.rotations.values_list("pk", flat=True)),
    }


def _invalid(exc: validation.Invalid) -> HttpError:
    return HttpError(422, str(exc))


def _join(team: Team, user: User, move: bool, field: str) -> None:
    """Make ``user`` a member of ``team`` (inside the caller's transaction)."""
    if user.team_id == team.pk:
        return
    if user.team_id is not None:
        old = Team.objects.filter(pk=user.team_id).first()
        if not move:
            raise HttpError(409, f"{field}: {user.email} is in team {old}; pass move: true to move them to {team.name}")
        busy = validation.rotations_listing(user, user.team_id)
        if busy:
            raise HttpError(409, f"{field}: {user.email} is in rotation(s) {', '.join(busy)} of team {old}; take them out first")
    user.team = team
    user.save(update_fields=["team"])


def _name_free(name: str, team: Team | None = None) -> None:
    clash = validation.team_name_taken(name, team)
    if clash is not None:
        raise HttpError(409, f"name: a team called {clash.name!r} exists (id {clash.pk}); choose another name")


def _not_null(payload: Strict, *fields: str) -> None:
    for f in fields:
        if f in payload.model_fields_set and getattr(payload, f) is None:
            raise HttpError(422, f"{f}: may not be null")


@router.get("/teams", summary="Teams with region, time zone, languages, lead and members")
def list_teams(request: HttpRequest) -> list[dict[str, Any]]:
    _staff(request)
    return [team_out(t) for t in Team.objects.select_related("region").order_by("name")]


@router.get("/teams/{int:team_id}", summary="One team")
def get_team(request: HttpRequest, team_id: int) -> dict[str, Any]:
    _staff(request)
    return team_out(_team(team_id))


@router.post("/teams", response={201: dict}, summary="Create a team (with its first members)")
def create_team(request: HttpRequest, payload: TeamCreateIn) -> Status:
    actor = _lead(request)
    if payload.serves_all and not actor.is_admin_role:
        raise HttpError(403, "only admins may let a team see every organisation's tickets (serves_all)")
    try:
        name = validation.check_team_name(payload.name)
        region = validation.check_region(payload.region)
        validation.check_zone(payload.timezone)
        languages = validation.check_languages(payload.languages)
        email = validation.check_email(payload.email)
        lead = None
        if payload.lead_id is not None:
            lead = validation.check_team_lead(User.objects.filter(pk=payload.lead_id).first(), uid=payload.lead_id)
        if len(set(payload.member_ids)) != len(payload.member_ids):
            raise validation.Invalid("member_ids", "a member is listed twice")
        users = {u.pk: u for u in User.objects.filter(pk__in=payload.member_ids)}
        members = [
            validation.check_new_member(users.get(uid), f"member_ids[{i}]", uid) for i, uid in enumerate(payload.member_ids)
        ]
    except validation.Invalid as exc:
        raise _invalid(exc) from exc
    _name_free(name)
    try:
        with transaction.atomic():
            team = Team.objects.create(
                name=name, region=region, timezone=payload.timezone, languages=languages, email=email, lead=lead,
                serves_all=payload.serves_all,
            )
            for i, u in enumerate(members):
                _join(team, u, payload.move, f"member_ids[{i}]")
    except IntegrityError as exc:
        raise HttpError(409, f"name: a team called {name!r} exists") from exc
    log.info("team %s (%s) created by %s with members %s", team.pk, team.name, actor.pk, [u.pk for u in members])
    return Status(201, team_out(team))


@router.patch("/teams/{int:team_id}", summary="Change a team's name, region, time zone, languages, e-mail or lead")
def patch_team(request: HttpRequest, team_id: int, payload: TeamPatchIn) -> dict[str, Any]:
    actor = _lead(request)
    given = payload.model_fields_set
    _not_null(payload, "name", "timezone", "languages", "email", "serves_all")
    if "serves_all" in given and not actor.is_admin_role:
        raise HttpError(403, "only admins may let a team see every organisation's tickets (serves_all)")
    try:
        with transaction.atomic():
            team = Team.objects.select_for_update().filter(pk=team_id).first()
            if team is None:
                raise HttpError(404, f"team {team_id} not found")
            try:
                if "name" in given:
                    team.name = validation.check_team_name(payload.name)
                    _name_free(team.name, team)
                if "region" in given:
                    team.region = validation.check_region(payload.region)
                if "timezone" in given:
                    assert payload.timezone is not None
                    validation.check_zone(payload.timezone)
                    _validate_team_schedule(team, payload.timezone)
                    team.timezone = payload.timezone
                if "languages" in given:
                    team.languages = validation.check_languages(payload.languages)
                if "email" in given:
                    team.email = validation.check_email(payload.email)
                if "lead_id" in given:
                    team.lead = (
                        None if payload.lead_id is None
                        else validation.check_team_lead(User.objects.filter(pk=payload.lead_id).first(), uid=payload.lead_id)
                    )
                if "serves_all" in given:
                    assert payload.serves_all is not None
                    team.serves_all = payload.serves_all
            except validation.Invalid as exc:
                raise _invalid(exc) from exc
            team.save()
    except IntegrityError as exc:
        raise HttpError(409, f"name: a team called {payload.name!r} exists") from exc
    log.info("team %s (%s) changed by %s: %s", team.pk, team.name, actor.pk, sorted(given))
    return team_out(team)


@router.delete("/teams/{int:team_id}", response={204: None}, summary="Delete a team without members or schedule")
def delete_team(request: HttpRequest, team_id: int) -> Status:
    from relaydesk.tickets.models import STATUS_CLOSED, STATUS_SOLVED

    actor = _lead(request)
    with transaction.atomic():
        team = Team.objects.select_for_update().filter(pk=team_id).first()
        if team is None:
            raise HttpError(404, f"team {team_id} not found")
        members = team.members.count()
        if members:
            raise HttpError(409, f"team: {team.name} still has {members} member(s); move or remove them first")
        rotations = sorted(team.rotations.values_list("name", flat=True))
        if rotations:
            raise HttpError(409, f"team: {team.name} still has rotation(s) {', '.join(rotations)}; delete them first")
        chains = sorted(EscalationChain.objects.filter(team=team).values_list("name", flat=True))
        if chains:
            raise HttpError(409, f"team: escalation chain(s) {', '.join(chains)} belong to {team.name}; delete them first")
        queued = team.tickets.exclude(status__in=(STATUS_SOLVED, STATUS_CLOSED)).count()
        if queued:
            raise HttpError(409, f"team: {queued} open ticket(s) are with {team.name}; route or reassign them first")
        team.delete()
    log.info("team %s (%s) deleted by %s", team_id, team.name, actor.pk)
    return Status(204, None)


@router.post("/teams/{int:team_id}/members", summary="Add a staff member to a team (move: true from another team)")
def add_member(request: HttpRequest, team_id: int, payload: MemberIn) -> dict[str, Any]:
    actor = _lead(request)
    with transaction.atomic():
        team = _team(team_id)
        user = User.objects.select_for_update().filter(pk=payload.user_id).first()
        try:
            validation.check_new_member(user, "user_id", payload.user_id)
        except validation.Invalid as exc:
            raise _invalid(exc) from exc
        assert user is not None
        old = user.team_id
        _join(team, user, payload.move, "user_id")
    if old != team.pk:
        log.info("user %s moved from team %s to team %s by %s", user.pk, old, team.pk, actor.pk)
    return team_out(team)


@router.delete("/teams/{int:team_id}/members/{int:user_id}", response={204: None}, summary="Take a member out of a team")
def remove_member(request: HttpRequest, team_id: int, user_id: int) -> Status:
    actor = _lead(request)
    with transaction.atomic():
        team = _team(team_id)
        user = User.objects.select_for_update().filter(pk=user_id, team=team).first()
        if user is None:
            raise HttpError(404, f"user {user_id} is not a member of team {team.name}")
        busy = validation.rotations_listing(user, team.pk)
        if busy:
            raise HttpError(409, f"user_id: {user.email} is in rotation(s) {', '.join(busy)} of {team.name}; take them out first")
        user.team = None
        user.save(update_fields=["team"])
    log.info("user %s removed from team %s by %s", user_id, team.pk, actor.pk)
    return Status(204, None)


# -- rotations -------------------------------------------------------------------------------


class WindowIn(Strict):
    days: str = "mon-sun"
    start: str = "00:00"
    end: str = "24:00"


class RotationIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    kind: str = "shift"
    rrule: str = Field(min_length=1, max_length=500)
    dtstart: datetime
    duration_minutes: int = Field(gt=0, le=31 * 24 * 60)
    handoff_every: int = Field(default=1, ge=1, le=1000)
    member_ids: list[int] = Field(min_length=1, max_length=500)
    restrictions: list[WindowIn] = []
    exclude_holidays: bool = False
    timezone: str = ""


class TeamIn(Strict):
    timezone: str


def rotation_out(r: Rotation) -> dict[str, Any]:
    return {
        "id": r.pk, "team_id": r.team_id, "name": r.name, "kind": r.kind, "rrule": r.rrule, "dtstart": r.dtstart,
        "duration_minutes": r.duration_minutes, "handoff_every": r.handoff_every, "member_ids": r.member_ids,
        "restrictions": r.restrictions, "exclude_holidays": r.exclude_holidays, "timezone": r.time_zone or r.team.timezone,
        "overrides": [override_out(o) for o in r.overrides.all()],
    }


def override_out(o: ScheduleOverride) -> dict[str, Any]:
    return {"id": o.pk, "rotation_id": o.rotation_id, "user_id": o.user_id, "start": o.start, "end": o.end, "kind": o.kind, "note": o.note}


def _check_members(team: Team, ids: list[int], field: str = "member_ids") -> None:
    try:
        validation.check_members(team, ids, field)
    except validation.Invalid as exc:
        raise HttpError(422, str(exc)) from exc


def _validate_team_schedule(team: Team, tz: str | None = None) -> None:
    """Build the team's whole schedule (every kind) as it would be; a problem is a 422."""
    by_zone: dict[tuple[str, str], list[Rotation]] = {}
    for r in team.rotations.all():
        by_zone.setdefault((r.kind, r.time_zone or tz or team.timezone), []).append(r)
    for (_kind, zone), rots in by_zone.items():
        try:
            layers = tuple(schedules.rotation_layer(r) for r in rots)
            overrides = tuple(
                shifts.Override(o.rotation.name, o.start, o.end, str(o.user_id), o.kind)
                for o in ScheduleOverride.objects.filter(rotation__in=rots).select_related("rotation")
            )
            shifts.Schedule(zone, layers, overrides=overrides)
        except shifts.ShiftError as exc:
            raise _shift_error(exc) from exc


@router.get("/teams/{int:team_id}/rotations", summary="A team's rotations (layers) with overrides")
def list_rotations(request: HttpRequest, team_id: int) -> list[dict[str, Any]]:
    _staff(request)
    team = _team(team_id)
    return [rotation_out(r) for r in team.rotations.prefetch_related("overrides")]


@router.post("/teams/{int:team_id}/rotations", response={201: dict}, summary="Add a rotation to a team")
def create_rotation(request: HttpRequest, team_id: int, payload: RotationIn) -> Status:
    _lead(request)
    team = _team(team_id)
    if payload.kind not in (Rotation.KIND_SHIFT, Rotation.KIND_ONCALL):
        raise HttpError(422, "kind: use 'shift' or 'oncall'")
    if payload.dtstart.tzinfo is not None:
        raise HttpError(422, f"dtstart: give the local wall time in the team's zone ({team.timezone}) without an offset")
    _check_members(team, payload.member_ids)
    if payload.timezone:
        try:
            shifts.zone(payload.timezone)
        except shifts.ShiftError as exc:
            raise HttpError(422, f"timezone: {exc.message}") from exc
    try:
        with transaction.atomic():
            r = Rotation.objects.create(
                team=team, name=payload.name, kind=payload.kind, rrule=payload.rrule,
                dtstart=payload.dtstart.replace(microsecond=0).isoformat(), duration_minutes=payload.duration_minutes,
                handoff_every=payload.handoff_every, member_ids=payload.member_ids,
                restrictions=[w.model_dump() for w in payload.restrictions], exclude_holidays=payload.exclude_holidays,
                time_zone=payload.timezone,
            )
            _validate_team_schedule(team)
    except IntegrityError as exc:
        raise HttpError(409, f"name: team {team.name} already has a rotation called {payload.name!r}") from exc
    return Status(201, rotation_out(r))


class RotationPatchIn(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: str | None = None
    rrule: str | None = Field(default=None, min_length=1, max_length=500)
    dtstart: datetime | None = None
    duration_minutes: int | None = Field(default=None, gt=0, le=31 * 24 * 60)
    handoff_every: int | None = Field(default=None, ge=1, le=1000)
    member_ids: list[int] | None = Field(default=None, min_length=1, max_length=500)
    restrictions: list[WindowIn] | None = None
    exclude_holidays: bool | None = None
    timezone: str | None = None


@router.patch("/rotations/{int:rotation_id}", summary="Change a rotation (only the fields given)")
def patch_rotation(request: HttpRequest, rotation_id: int, payload: RotationPatchIn) -> dict[str, Any]:
    actor = _lead(request)
    given = payload.model_fields_set
    _not_null(payload, *(f for f in RotationPatchIn.model_fields if f != "timezone"))
    try:
        with transaction.atomic():
            r = Rotation.objects.select_for_update().select_related("team").filter(pk=rotation_id).first()
            if r is None:
                raise HttpError(404, f"rotation {rotation_id} not found")
            team = r.team
            if "kind" in given and payload.kind not in (Rotation.KIND_SHIFT, Rotation.KIND_ONCALL):
                raise HttpError(422, "kind: use 'shift' or 'oncall'")
            if payload.dtstart is not None and payload.dtstart.tzinfo is not None:
                raise HttpError(422, f"dtstart: give the local wall time in the team's zone ({team.timezone}) without an offset")
            if payload.member_ids is not None:
                _check_members(team, payload.member_ids)
            if payload.timezone:
                try:
                    shifts.zone(payload.timezone)
                except shifts.ShiftError as exc:
                    raise HttpError(422, f"timezone: {exc.message}") from exc
            for f in ("name", "kind", "rrule", "duration_minutes", "handoff_every", "member_ids", "exclude_holidays"):
                if f in given:
                    setattr(r, f, getattr(payload, f))
            if payload.dtstart is not None:
                r.dtstart = payload.dtstart.replace(microsecond=0).isoformat()
            if payload.restrictions is not None:
                r.restrictions = [w.model_dump() for w in payload.restrictions]
            if "timezone" in given:
                r.time_zone = payload.timezone or ""
            r.save()
            _validate_team_schedule(team)
    except IntegrityError as exc:
        raise HttpError(409, f"name: team {r.team.name} already has a rotation called {payload.name!r}") from exc
    log.info("rotation %s of team %s changed by %s: %s", r.pk, r.team_id, actor.pk, sorted(given))
    return rotation_out(r)


@router.delete("/rotations/{int:rotation_id}", response={204: None}, summary="Remove a rotation")
def delete_rotation(request: HttpRequest, rotation_id: int) -> Status:
    _lead(request)
    deleted, _ = Rotation.objects.filter(pk=rotation_id).delete()
    if not deleted:
        raise HttpError(404, f"rotation {rotation_id} not found")
    return Status(204, None)


@router.put("/teams/{int:team_id}/timezone", summary="Change a team's time zone (its shifts follow)")
def set_team_timezone(request: HttpRequest, team_id: int, payload: TeamIn) -> dict[str, Any]:
    _lead(request)
    team = _team(team_id)
    try:
        shifts.zone(payload.timezone)
    except shifts.ShiftError as exc:
        raise HttpError(422, f"timezone: {exc.message}") from exc
    _validate_team_schedule(team, payload.timezone)
    team.timezone = payload.timezone
    team.save(update_fields=["timezone"])
    schedules.invalidate()
    return {"id": team.pk, "name": team.name, "timezone": team.timezone}


class OverrideIn(Strict):
    user_id: int
    start: datetime
    end: datetime
    kind: str = "cover"
    note: str = Field(default="", max_length=300)


@router.post("/rotations/{int:rotation_id}/overrides", response={201: dict}, summary="Cover or swap a window")
def create_override(request: HttpRequest, rotation_id: int, payload: OverrideIn) -> Status:
    actor = _lead(request)
    r = Rotation.objects.select_related("team").filter(pk=rotation_id).first()
    if r is None:
        raise HttpError(404, f"rotation {rotation_id} not found")
    start, end = _aware(payload.start, "start"), _aware(payload.end, "end")
    if end <= start:
        raise HttpError(422, "end: must be after start")
    if payload.kind not in ("cover", "swap"):
        raise HttpError(422, "kind: use 'cover' or 'swap'")
    u = User.objects.filter(pk=payload.user_id, kind=User.KIND_STAFF).first()
    if u is None:
        raise HttpError(422, f"user_id: no staff user with id {payload.user_id}")
    if u.team_id is None:
        raise HttpError(422, f"user_id: {u.email} has no team; give them a team first")
    try:
        validation.check_override_overlap(r, [(start, end)])
    except validation.Invalid as exc:
        raise HttpError(422, str(exc)) from exc
    o = ScheduleOverride.objects.create(rotation=r, user=u, start=start, end=end, kind=payload.kind, note=payload.note, created_by=actor)
    return Status(201, override_out(o))


@router.delete("/overrides/{int:override_id}", response={204: None})
def delete_override(request: HttpRequest, override_id: int) -> Status:
    _lead(request)
    if not ScheduleOverride.objects.filter(pk=override_id).delete()[0]:
        raise HttpError(404, f"override {override_id} not found")
    return Status(204, None)


class TimeOffIn(Strict):
    user_id: int
    start: datetime
    end: datetime
    reason: str = Field(default="", max_length=200)


@router.post("/time-off", response={201: dict}, summary="Record personal time off")
def create_time_off(request: HttpRequest, payload: TimeOffIn) -> Status:
    actor = _staff(request, write=True)
    if payload.user_id != actor.pk and not actor.is_lead_role:
        raise HttpError(403, "only leads may record time off for someone else")
    start, end = _aware(payload.start, "start"), _aware(payload.end, "end")
    if end <= start:
        raise HttpError(422, "end: must be after start")
    u = User.objects.filter(pk=payload.user_id, kind=User.KIND_STAFF).first()
    if u is None:
        raise HttpError(422, f"user_id: no staff user with id {payload.user_id}")
    t = TimeOff.objects.create(user=u, start=start, end=end, reason=payload.reason)
    return Status(201, time_off_out(t))


def time_off_out(t: TimeOff) -> dict[str, Any]:
    return {"id": t.pk, "user_id": t.user_id, "start": t.start, "end": t.end, "reason": t.reason}


@router.get("/time-off", summary="Time off, by person or team, optionally only what ends after an instant")
def list_time_off(
    request: HttpRequest, user_id: int | None = None, team_id: int | None = None, ends_after: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    _staff(request)
    qs = TimeOff.objects.order_by("start", "id")
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    if team_id is not None:
        qs = qs.filter(user__team_id=team_id)
    if ends_after is not None:
        qs = qs.filter(end__gt=_aware(ends_after, "ends_after"))
    return [time_off_out(t) for t in qs[: max(1, min(limit, 1000))]]


@router.delete("/time-off/{int:time_off_id}", response={204: None}, summary="Withdraw time off (your own, or anyone's as a lead)")
def delete_time_off(request: HttpRequest, time_off_id: int) -> Status:
    actor = _staff(request, write=True)
    with transaction.atomic():
        t = TimeOff.objects.select_for_update().filter(pk=time_off_id).first()
        if t is None:
            raise HttpError(404, f"time off {time_off_id} not found")
        if t.user_id != actor.pk and not actor.is_lead_role:
            raise HttpError(403, "only leads may withdraw someone else's time off")
        t.delete()
    log.info("time off %s of user %s withdrawn by %s", time_off_id, t.user_id, actor.pk)
    return Status(204, None)


# -- agents ------------------------------------------------------------------------------------


class PresenceIn(Strict):
    presence: str


class ProfileIn(Strict):
    capacity: dict[str, int] | None = None
    skills: list[str] | None = None
    backup_id: int | None = None
    presence_follows_shift: bool | None = None


def profile_out(user: User, p: AgentProfile) -> dict[str, Any]:
    return {
        "user_id": user.pk, "name": user.get_full_name() or user.email, "team_id": user.team_id,
        "languages": user.languages, "presence": p.presence, "presence_changed_at": p.presence_changed_at,
        "presence_follows_shift": p.presence_follows_shift, "capacity": p.capacity, "skills": p.skills,
        "backup_id": p.backup_id, "last_assigned_at": p.last_assigned_at,
    }


def _agent(user_id: int) -> User:
    u = User.objects.filter(pk=user_id, kind=User.KIND_STAFF).first()
    if u is None:
        raise HttpError(404, f"agent {user_id} not found")
    return u


@router.get("/agents/{int:user_id}/profile", summary="Presence, capacity, skills and backup")
def get_profile(request: HttpRequest, user_id: int) -> dict[str, Any]:
    _staff(request)
    u = _agent(user_id)
    p = AgentProfile.objects.filter(user=u).first() or AgentProfile(user=u)
    return profile_out(u, p)


@router.put("/agents/{int:user_id}/profile", summary="Change capacity, skills, backup")
def put_profile(request: HttpRequest, user_id: int, payload: ProfileIn) -> dict[str, Any]:
    _lead(request)
    u = _agent(user_id)
    if u.team_id is None:
        raise HttpError(422, f"team: {u.email} has no team; give them a team before routing to them")
    try:
        if payload.capacity is not None:
            validation.check_capacity(payload.capacity)
        if payload.skills is not None:
            validation.check_skills(payload.skills)
    except validation.Invalid as exc:
        raise HttpError(422, str(exc)) from exc
    backup = None
    if payload.backup_id is not None:
        backup = User.objects.filter(pk=payload.backup_id, kind=User.KIND_STAFF).first()
        if backup is None or backup.pk == u.pk:
            raise HttpError(422, f"backup_id: no other staff user with id {payload.backup_id}")
        if backup.team_id is None:
            raise HttpError(422, f"backup_id: {backup.email} has no team")
    p, _ = AgentProfile.objects.get_or_create(user=u)
    if payload.capacity is not None:
        p.capacity = {**p.capacity, **payload.capacity}
    if payload.skills is not None:
        p.skills = sorted(set(payload.skills))
    if payload.backup_id is not None:
        p.backup = backup
    if payload.presence_follows_shift is not None:
        p.presence_follows_shift = payload.presence_follows_shift
    p.save()
    return profile_out(u, p)


@router.put("/agents/{int:user_id}/presence", summary="Set presence (yourself, or anyone as a lead)")
def put_presence(request: HttpRequest, user_id: int, payload: PresenceIn) -> dict[str, Any]:
    actor = _staff(request, write=True)
    if user_id != actor.pk and not actor.is_lead_role:
        raise HttpError(403, "only leads may set someone else's presence")
    u = _agent(user_id)
    if payload.presence not in rt.PRESENCES:
        raise HttpError(422, f"presence: use one of {', '.join(rt.PRESENCES)}")
    if u.team_id is None:
        raise HttpError(422, f"team: {u.email} has no team; give them a team first")
    p = services.set_presence(u, payload.presence)
    return profile_out(u, p)


# -- assignments ---------------------------------------------------------------------------------


def assignment_out(a: Assignment) -> dict[str, Any]:
    return {
        "id": a.pk, "agent_id": a.agent_id, "team_id": a.team_id, "previous_agent_id": a.previous_agent_id,
        "rule": a.rule, "trigger": a.trigger, "summary": a.summary, "reasons": a.reasons, "scores": a.scores,
        "actor_id": a.actor_id, "created_at": a.created_at,
    }


@router.get("/tickets/{int:ticket_id}/assignments", summary="Why the ticket went where it went")
def ticket_assignments(request: HttpRequest, ticket_id: int) -> list[dict[str, Any]]:
    require_scope(request, "tickets:read")
    user = current_user(request)
    ticket = get_visible_ticket(user, ticket_id)  # 404 across tenants
    require_staff(user)
    return [assignment_out(a) for a in Assignment.objects.filter(ticket=ticket).order_by("created_at", "id")]


class AssignIn(Strict):
    mode: str = "auto"  # auto | round_robin | manual
    agent_id: int | None = None
    team_id: int | None = None


@router.post("/tickets/{int:ticket_id}/assign", summary="Route again, round robin, or assign by hand")
def assign(request: HttpRequest, ticket_id: int, payload: AssignIn) -> dict[str, Any]:
    user = _staff(request, write=True)
    ticket = get_visible_ticket(user, ticket_id)
    if ticket.status in ("closed",):
        raise HttpError(409, "status: the ticket is closed")
    try:
        if payload.mode == "auto":
            a = services.route_ticket(ticket, trigger="api", actor=user)
        elif payload.mode == "round_robin":
            if payload.team_id is None:
                raise HttpError(422, "team_id: required for round robin")
            a = services.assign_round_robin(ticket, _team_or_422(payload.team_id), actor=user)
        elif payload.mode == "manual":
            agent = None
            if payload.agent_id is not None:
                agent = User.objects.filter(pk=payload.agent_id, kind=User.KIND_STAFF).first()
                if agent is None:
                    raise HttpError(422, f"agent_id: no staff user with id {payload.agent_id}")
            a = services.assign_manually(ticket, agent, actor=user)
        else:
            raise HttpError(422, "mode: use auto, round_robin or manual")
    except TicketError as exc:
        raise HttpError(exc.status, f"{exc.field or 'body'}: {exc.message}") from exc
    return assignment_out(a)


def _team_or_422(team_id: int) -> Team:
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise HttpError(422, f"team_id: no team {team_id}")
    return team


# -- escalation chains ------------------------------------------------------------------------------


class StepIn(Strict):
    delay_minutes: int = Field(default=0, ge=0, le=24 * 60)
    ack_timeout_minutes: int = Field(default=10, ge=1, le=24 * 60)
    user_id: int | None = None
    rotation_id: int | None = None
    chain_id: int | None = None


class ChainIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    team_id: int | None = None
    priorities: list[str] = ["P1"]
    repeat: int = Field(default=0, ge=0, le=10)
    webhook_url: str = Field(default="", max_length=500)
    webhook_secret: str = Field(default="", max_length=100)
    steps: list[StepIn] = Field(min_length=1, max_length=20)


def chain_out(c: EscalationChain) -> dict[str, Any]:
    return {
        "id": c.pk, "name": c.name, "team_id": c.team_id, "priorities": c.priorities, "repeat": c.repeat,
        "webhook_url": c.webhook_url,
        "steps": [
            {"level": s.level, "delay_minutes": s.delay_minutes, "ack_timeout_minutes": s.ack_timeout_minutes,
             "user_id": s.user_id, "rotation_id": s.rotation_id, "chain_id": s.next_chain_id}
            for s in c.steps.order_by("level")
        ],
    }


def _save_chain(chain: EscalationChain, payload: ChainIn) -> None:
    for i, p in enumerate(payload.priorities):
        if p not in PRIORITIES:
            raise HttpError(422, f"priorities[{i}]: use P1, P2, P3 or P4")
    if payload.team_id is not None and not Team.objects.filter(pk=payload.team_id).exists():
        raise HttpError(422, f"team_id: no team {payload.team_id}")
    if payload.webhook_url and not payload.webhook_url.startswith(("http://", "https://")):
        raise HttpError(422, "webhook_url: must be an http(s) URL")
    if payload.webhook_url and len(payload.webhook_secret) < 8:
        raise HttpError(422, "webhook_secret: give at least 8 characters to sign the webhook with")
    chain.name, chain.team_id, chain.priorities = payload.name, payload.team_id, sorted(set(payload.priorities))
    chain.repeat, chain.webhook_url, chain.webhook_secret = payload.repeat, payload.webhook_url, payload.webhook_secret
    try:
        with transaction.atomic():
            chain.save()
    except IntegrityError as exc:
        raise HttpError(409, f"name: a chain called {payload.name!r} exists") from exc
    chain.steps.all().delete()
    for i, s in enumerate(payload.steps):
        targets = [x for x in (s.user_id, s.rotation_id, s.chain_id) if x is not None]
        if len(targets) != 1:
            raise HttpError(422, f"steps[{i}]: give exactly one of user_id, rotation_id or chain_id")
        if s.user_id is not None:
            u = User.objects.filter(pk=s.user_id, kind=User.KIND_STAFF).first()
            if u is None:
                raise HttpError(422, f"steps[{i}].user_id: no staff user with id {s.user_id}")
            if u.team_id is None and not u.is_admin_role:
                raise HttpError(422, f"steps[{i}].user_id: {u.email} has no team")
        if s.rotation_id is not None and not Rotation.objects.filter(pk=s.rotation_id).exists():
            raise HttpError(422, f"steps[{i}].rotation_id: no rotation {s.rotation_id}")
        if s.chain_id is not None and not EscalationChain.objects.filter(pk=s.chain_id).exists():
            raise HttpError(422, f"steps[{i}].chain_id: no chain {s.chain_id}")
        EscalationStep.objects.create(
            chain=chain, level=i, delay_minutes=s.delay_minutes, ack_timeout_minutes=s.ack_timeout_minutes,
            user_id=s.user_id, rotation_id=s.rotation_id, next_chain_id=s.chain_id,
        )
    try:
        paging.check_chain(chain)
    except paging.ChainError as exc:
        raise HttpError(422, f"{exc.field}: {exc.message}") from exc


@router.get("/escalation-chains", summary="Escalation chains")
def list_chains(request: HttpRequest) -> list[dict[str, Any]]:
    _staff(request)
    return [chain_out(c) for c in EscalationChain.objects.all()]


@router.post("/escalation-chains", response={201: dict}, summary="Create an escalation chain")
def create_chain(request: HttpRequest, payload: ChainIn) -> Status:
    _lead(request)
    with transaction.atomic():
        chain = EscalationChain()
        _save_chain(chain, payload)
    return Status(201, chain_out(chain))


@router.put("/escalation-chains/{int:chain_id}", summary="Replace an escalation chain")
def put_chain(request: HttpRequest, chain_id: int, payload: ChainIn) -> dict[str, Any]:
    _lead(request)
    with transaction.atomic():
        chain = EscalationChain.objects.select_for_update().filter(pk=chain_id).first()
        if chain is None:
            raise HttpError(404, f"escalation chain {chain_id} not found")
        _save_chain(chain, payload)
    return chain_out(chain)


@router.delete("/escalation-chains/{int:chain_id}", response={204: None}, summary="Delete an escalation chain not in use")
def delete_chain(request: HttpRequest, chain_id: int) -> Status:
    """Refused (409) while the chain is in use: another chain hands off to it, a page is
    escalating through it, or it is the last chain paging a priority that must page for its
    team (``validation.check_chain_deletable``).  Finished pages keep their record; their
    link to the chain is cleared."""
    actor = _lead(request)
    with transaction.atomic():
        chain = EscalationChain.objects.select_for_update().filter(pk=chain_id).first()
        if chain is None:
            raise HttpError(404, f"escalation chain {chain_id} not found")
        try:
            validation.check_chain_deletable(chain)
        except validation.Invalid as exc:
            raise HttpError(409, str(exc)) from exc
        chain.delete()
    log.info("escalation chain %s (%s) deleted by %s", chain_id, chain.name, actor.pk)
    return Status(204, None)


# -- pages ----------------------------------------------------------------------------------------


def visible_pages(user: User) -> QuerySet[Page]:
    """Pages a staff member may see and act on: those about tickets they may see
    (``relaydesk.api.auth.visible_tickets``) and those addressed to them; leads and admins all."""
    qs = Page.objects.all()
    if user.is_lead_role:
        return qs
    mine = PageNotification.objects.filter(user=user).values("page_id")
    return qs.filter(Q(ticket_id__in=visible_tickets(user).values("pk")) | Q(pk__in=mine))


@router.get("/pages", summary="Pages, newest first (those the caller may see)")
def list_pages(request: HttpRequest, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    user = _staff(request)
    qs = visible_pages(user)
    if status is not None:
        if status not in dict(Page.STATUSES):
            raise HttpError(422, f"status: use one of {', '.join(dict(Page.STATUSES))}")
        qs = qs.filter(status=status)
    return [paging.page_summary(p) for p in qs[: max(1, min(limit, 500))]]


def _page(user: User, page_id: int) -> Page:
    # "Not found" for missing and for not the caller's alike: no probing across tenants.
    p = visible_pages(user).filter(pk=page_id).first()
    if p is None:
        raise HttpError(404, f"page {page_id} not found")
    return p


@router.post("/pages/{int:page_id}/ack", summary="Acknowledge a page")
def ack_page(request: HttpRequest, page_id: int) -> dict[str, Any]:
    user = _staff(request, write=True)
    return paging.page_summary(paging.acknowledge(_page(user, page_id), user, via="api"))


@router.post("/pages/{int:page_id}/resolve", summary="Resolve a page")
def resolve_page(request: HttpRequest, page_id: int) -> dict[str, Any]:
    user = _staff(request, write=True)
    return paging.page_summary(paging.resolve(_page(user, page_id), user, via="api"))


# -- coverage, on call, calendars -----------------------------------------------------------------


@router.get("/oncall", summary="Who is on shift or on call at an instant")
def oncall_who(request: HttpRequest, at: datetime | None = None, language: str | None = None) -> list[dict[str, Any]]:
    _staff(request)
    when = _aware(at, "at") if at is not None else datetime.now(UTC)
    return calendars.who(when, language)


@router.get("/coverage", summary="Hour-by-hour coverage and gaps of 24×7 promises")
def coverage(
    request: HttpRequest, start: datetime | None = None, days: int = 14, language: str | None = None, skill: str | None = None
) -> dict[str, Any]:
    _staff(request)
    if not 1 <= days <= 31:
        raise HttpError(422, "days: must be between 1 and 31")
    when = _aware(start, "start") if start is not None else datetime.now(UTC)
    return calendars.coverage(when, days, language, skill)


@router.get("/teams/{int:team_id}/calendar.ics", summary="iCal of a team's shifts", response={200: None})
def team_ical(request: HttpRequest, team_id: int) -> HttpResponse:
    _staff(request)
    team = _team(team_id)
    now = datetime.now(UTC)
    body = calendars.ical("team", team.pk, now - timedelta(days=7), now + timedelta(days=35)) or b""
    resp = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    resp["X-Feed-URL"] = calendars.feed_url("team", team.pk)
    return resp


@router.get("/agents/{int:user_id}/calendar.ics", summary="iCal of an agent's shifts", response={200: None})
def agent_ical(request: HttpRequest, user_id: int) -> HttpResponse:
    _staff(request)
    u = _agent(user_id)
    now = datetime.now(UTC)
    body = calendars.ical("agent", u.pk, now - timedelta(days=7), now + timedelta(days=35)) or b""
    resp = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    resp["X-Feed-URL"] = calendars.feed_url("agent", u.pk)
    return resp
