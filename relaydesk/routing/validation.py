"""Checks of routing setup shared by the API (422 ``field: message``) and the Django admin
(form errors on the field): rotations, overrides, time off, profiles and escalation chains.
Each raises ``Invalid`` naming the field and what to fix; nothing is written here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from itertools import pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from relaydesk.core.models import LANGUAGES, Region, Team, User
from relaydesk.domain import shifts

from .models import EscalationChain, EscalationStep, Rotation, ScheduleOverride

PRIORITIES = ("P1", "P2", "P3", "P4")
SKILL_KINDS = ("category", "sdk", "region", "service", "skill")


class Invalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_zone(name: str, field: str = "timezone") -> None:
    try:
        shifts.zone(name)
    except shifts.ShiftError as exc:
        raise Invalid(field, exc.message) from exc


def check_staff_with_team(user: User | None, field: str, what: str = "user") -> User:
    if user is None or user.kind != User.KIND_STAFF:
        raise Invalid(field, f"the {what} must be a support staff member")
    if user.team_id is None:
        raise Invalid(field, f"{user.email} has no team; give them a team first")
    return user


def check_members(team: Team, ids: Any, field: str = "member_ids") -> None:
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise Invalid(field, "give a list of staff user ids, e.g. [12, 15]")
    users = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    for i, uid in enumerate(ids):
        u = users.get(uid)
        if u is None or u.kind != User.KIND_STAFF:
            raise Invalid(f"{field}[{i}]", f"no staff user with id {uid}")
        if u.team_id is None:
            raise Invalid(f"{field}[{i}]", f"{u.email} has no team; give them a team first")
        if u.team_id != team.pk:
            raise Invalid(f"{field}[{i}]", f"{u.email} is in another team ({u.team})")
    if len(set(ids)) != len(ids):
        raise Invalid(field, "a member is listed twice")


_LAYER_FIELDS = {
    "rrule": "rrule", "dtstart": "dtstart", "duration": "duration_minutes", "members": "member_ids",
    "handoff_every": "handoff_every", "restrictions": "restrictions", "name": "name",
}


def check_rotation(r: Rotation) -> None:
    """The rotation's own fields: zone, wall-clock start, RRULE, length, restrictions."""
    from .schedules import rotation_layer

    check_zone(r.time_zone or r.team.timezone, "time_zone" if r.time_zone else "team")
    if r.kind not in (Rotation.KIND_SHIFT, Rotation.KIND_ONCALL):
        raise Invalid("kind", "use 'shift' or 'oncall'")
    try:
        start = datetime.fromisoformat(str(r.dtstart))
    except ValueError as exc:
        raise Invalid("dtstart", "give the local wall time of the first shift as YYYY-MM-DDTHH:MM:SS") from exc
    if start.tzinfo is not None:
        raise Invalid("dtstart", f"give the local wall time in the team's zone ({r.team.timezone}) without an offset")
    if not isinstance(r.restrictions, list) or not all(
        isinstance(w, dict) and {"days", "start", "end"} >= set(w) for w in r.restrictions
    ):
        raise Invalid("restrictions", 'give a list like [{"days": "mon-fri", "start": "09:00", "end": "18:00"}]')
    try:
        layer = rotation_layer(r)
        shifts.Schedule(tz=r.time_zone or r.team.timezone, layers=(layer,))
    except shifts.ShiftError as exc:
        key = exc.field.split("].", 1)[-1] if exc.field.startswith("layers[") else exc.field
        key = key.split("[", 1)[0].split(".", 1)[0]
        raise Invalid(_LAYER_FIELDS.get(key, key or "rrule"), exc.message.split(": ", 1)[-1]) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise Invalid("restrictions", f"cannot be read: {exc}") from exc


def check_override_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and (start.tzinfo is None or start.utcoffset() is None):
        raise Invalid("start", "give a UTC offset, e.g. 2026-12-24T03:00+08:00")
    if end is not None and (end.tzinfo is None or end.utcoffset() is None):
        raise Invalid("end", "give a UTC offset, e.g. 2026-12-24T03:00+08:00")
    if start is not None and end is not None and end <= start:
        raise Invalid("end", "must be after start")


def check_override_overlap(
    rotation: Rotation | None, windows: Iterable[tuple[datetime, datetime]], exclude: Iterable[int] = ()
) -> None:
    """Overrides of one rotation must not overlap: ``windows`` against each other and
    against those stored (but those in ``exclude``, being replaced)."""
    items = sorted(windows)
    for (a_start, a_end), (b_start, b_end) in pairwise(items):
        if b_start < a_end:
            raise Invalid("start", f"overrides {a_start.isoformat()}–{a_end.isoformat()} and {b_start.isoformat()}–{b_end.isoformat()} overlap")
    if rotation is None or rotation.pk is None:
        return
    stored = ScheduleOverride.objects.filter(rotation=rotation).exclude(pk__in=list(exclude))
    for start, end in items:
        clash = stored.filter(start__lt=end, end__gt=start).first()
        if clash is not None:
            raise Invalid(
                "start", f"overlaps override {clash.pk} ({clash.start.isoformat()}–{clash.end.isoformat()}) of this rotation"
            )


def check_capacity(capacity: Any, field: str = "capacity") -> None:
    if not isinstance(capacity, Mapping):
        raise Invalid(field, 'give open tickets per priority, e.g. {"P1": 2}')
    for key, value in capacity.items():
        if key not in PRIORITIES:
            raise Invalid(f"{field}.{key}", "use P1, P2, P3 or P4")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1000:
            raise Invalid(f"{field}.{key}", "must be a whole number between 0 and 1000")


def check_skills(skills: Any, field: str = "skills") -> None:
    if not isinstance(skills, list):
        raise Invalid(field, 'give a list like ["sdk:android", "category:billing"]')
    for i, sk in enumerate(skills):
        kind, _, value = str(sk).partition(":")
        if not isinstance(sk, str) or kind not in SKILL_KINDS or not value:
            raise Invalid(f"{field}[{i}]", f"{sk!r} is not kind:value with kind category, sdk, region, service or skill")


def check_priorities(priorities: Any, field: str = "priorities") -> None:
    if not isinstance(priorities, list):
        raise Invalid(field, 'give a list like ["P1", "P2"]')
    for i, p in enumerate(priorities):
        if p not in PRIORITIES:
            raise Invalid(f"{field}[{i}]", "use P1, P2, P3 or P4")


def check_chain_graph(chain: EscalationChain, next_chain_ids: Iterable[int]) -> None:
    """Would ``chain`` with steps handing off to ``next_chain_ids`` form a loop with the chains
    stored?  (Checked before anything is saved.)"""
    edges: dict[int, list[int]] = {}
    for cid, nid in EscalationStep.objects.filter(next_chain__isnull=False).values_list("chain_id", "next_chain_id"):
        if nid is not None:
            edges.setdefault(cid, []).append(nid)
    me = chain.pk if chain.pk is not None else -1
    edges[me] = list(next_chain_ids)
    names = dict(EscalationChain.objects.values_list("pk", "name"))
    names[me] = chain.name or "this chain"

    def walk(c: int, path: list[int]) -> None:
        if c in path:
            loop = " → ".join(names.get(i, str(i)) for i in [*path[path.index(c):], c])
            raise Invalid("steps", f"escalation chain loop: {loop}")
        for n in edges.get(c, []):
            walk(n, [*path, c])

    walk(me, [])


def check_time_off(user: User | None, start: datetime | None, end: datetime | None) -> None:
    check_staff_with_team(user, "user")
    check_override_window(start, end)


# -- teams and their members -------------------------------------------------------------------


def check_team_name(name: Any, team: Team | None = None, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise Invalid(field, "give the team a name")
    name = name.strip()
    if len(name) > 100:
        raise Invalid(field, "at most 100 characters")
    return name


def team_name_taken(name: str, team: Team | None = None) -> Team | None:
    """Another team of that name (compared without regard to case)."""
    qs = Team.objects.filter(name__iexact=name)
    if team is not None and team.pk is not None:
        qs = qs.exclude(pk=team.pk)
    return qs.first()


def check_region(code: Any, field: str = "region") -> Region | None:
    """A region by its code (``None``: no region, so no public holidays)."""
    if code is None:
        return None
    region = Region.objects.filter(code=code).first() if isinstance(code, str) else None
    if region is None:
        known = ", ".join(Region.objects.values_list("code", flat=True)) or "none yet"
        raise Invalid(field, f"no region {code!r}; use one of: {known}")
    return region


def check_languages(languages: Any, field: str = "languages") -> list[str]:
    codes = [c for c, _ in LANGUAGES]
    if not isinstance(languages, list):
        raise Invalid(field, 'give a list like ["en", "zh-Hans"]')
    for i, lang in enumerate(languages):
        if lang not in codes:
            raise Invalid(f"{field}[{i}]", f"{lang!r} is not a supported language; use {', '.join(codes)}")
    if len(set(languages)) != len(languages):
        raise Invalid(field, "a language is listed twice")
    return list(languages)


def check_email(value: Any, field: str = "email") -> str:
    if value in ("", None):
        return ""
    try:
        validate_email(value)
    except ValidationError as exc:
        raise Invalid(field, f"{value!r} is not an e-mail address") from exc
    return str(value)


def check_team_lead(user: User | None, field: str = "lead_id", uid: Any = None) -> User:
    if user is None or user.kind != User.KIND_STAFF or not user.is_active:
        raise Invalid(field, f"no active staff user with id {uid if uid is not None else '?'}")
    if not user.is_lead_role:
        raise Invalid(field, f"{user.email} is not a lead; give them the lead role first")
    return user


def check_new_member(user: User | None, field: str = "user_id", uid: Any = None) -> User:
    """Somebody who may join a team: an active support staff member (never a customer)."""
    if user is None:
        raise Invalid(field, f"no user with id {uid if uid is not None else '?'}")
    if user.kind != User.KIND_STAFF:
        raise Invalid(field, f"{user.email} is a {user.get_kind_display().lower()}, not support staff; only staff join teams")
    if not user.is_active:
        raise Invalid(field, f"{user.email} is deactivated")
    return user


def rotations_listing(user: User, team_id: int) -> list[str]:
    """Names of ``team_id``'s rotations that list ``user`` (they must leave those first)."""
    return sorted(
        r.name for r in Rotation.objects.filter(team_id=team_id).only("name", "member_ids") if user.pk in (r.member_ids or [])
    )


def _must_page(priority: str) -> bool:
    """P1 always pages when nobody is on shift; P2 where an SLA rule for P2 runs 24×7
    (``paging.needs_page``)."""
    if priority == "P1":
        return True
    if priority == "P2":
        from relaydesk.sla.models import SLARule

        return SLARule.objects.filter(priority="P2", calendar_mode="24x7").exists()
    return False


def check_chain_deletable(chain: EscalationChain) -> None:
    """Refuse (field ``chain``) to delete a chain still in use: another chain hands off to it,
    a page is escalating through it, an incident page's webhook retry is signed with its
    secret, or it is the last chain that would page anyone for a priority that must page
    (P1; P2 under a 24×7 rule) — for its team, or for a team without a chain of its own when
    the chain is the global one."""
    from relaydesk.incidents.models import ManagerPage

    from .models import Page

    callers = sorted(
        set(EscalationStep.objects.filter(next_chain=chain).exclude(chain=chain).values_list("chain__name", flat=True))
    )
    if callers:
        raise Invalid("chain", f"chain(s) {', '.join(callers)} hand off to it; change their steps first")
    running = Page.objects.filter(chain=chain, status=Page.OPEN).count()
    if running:
        raise Invalid("chain", f"{running} open page(s) are escalating through it; acknowledge or resolve them first")
    if ManagerPage.objects.filter(chain_id=chain.pk, webhook_status=ManagerPage.PENDING).exists():
        raise Invalid("chain", "an incident page's webhook to it is still being retried; wait until it is delivered or fails")
    others = list(EscalationChain.objects.exclude(pk=chain.pk).values_list("team_id", "priorities"))
    for p in sorted(set(chain.priorities or [])):
        if not _must_page(p):
            continue
        covering = {team_id for team_id, prios in others if p in (prios or [])}
        if None in covering:
            continue  # a global chain still pages for it
        if chain.team_id is not None:
            if chain.team_id not in covering:
                raise Invalid("chain", f"it is the last chain paging {p} for team {chain.team}; add another chain for {p} first")
            continue
        bare = Team.objects.exclude(pk__in=[t for t in covering if t is not None]).order_by("name").first()
        if bare is not None:
            raise Invalid("chain", f"it is the only chain paging {p} for team {bare.name}; add another chain for {p} first")
