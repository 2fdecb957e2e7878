"""Routing: turn a ticket and the people on shift into a decision (``relaydesk.domain.routing``),
apply it through ``relaydesk.tickets.services.update_ticket`` (so the audit trail records it)
and store an ``Assignment`` with the reasons.  Also: manual and round-robin assignment, the
handover sweep and presence following shift ends."""

from __future__ import annotations

import contextvars
import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from relaydesk.core.models import Service, Team, User
from relaydesk.domain import routing as rt
from relaydesk.tickets import services as ticket_services
from relaydesk.tickets.models import (
    STATUS_NEW,
    STATUS_ON_HOLD,
    STATUS_OPEN,
    STATUS_PENDING,
    Message,
    Ticket,
)

from . import loads, schedules, stamps
from .models import DEFAULT_CAPACITY, AgentProfile, Assignment, Rotation

log = logging.getLogger(__name__)

OPEN_STATUSES = (STATUS_NEW, STATUS_OPEN, STATUS_PENDING, STATUS_ON_HOLD)
RUNNING_STATUSES = (STATUS_NEW, STATUS_OPEN)  # the clocks run: the ticket must sit with someone on shift
CONTINUITY_WINDOW = timedelta(days=30)
HANDOVER_BATCH = 200
PLATFORM_VALUES = {
    "android", "ios", "web", "windows", "macos", "linux", "flutter", "react_native", "unity", "electron",
}

# Set while routing writes through update_ticket, so our own ticket_changed receiver does not
# record the change a second time as a manual assignment (and never recurses).
_ROUTING: contextvars.ContextVar[bool] = contextvars.ContextVar("relaydesk_routing_active", default=False)


def routing_active() -> bool:
    return _ROUTING.get()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def team_label(team: Team | None) -> str:
    if team is None:
        return "—"
    if team.region is not None:
        return team.region.code.upper()
    return team.name


# The services (``relaydesk.core.models.Service`` codes) a ticket of a category is about.  A
# ticket names no service of its own; stream quality and join/connection failures are
# problems of the real-time audio/video service.  Other categories (SDK integration, billing,
# account, other) are not about one service: they want no service skill.
CATEGORY_SERVICES: dict[str, tuple[str, ...]] = {
    "stream_quality": ("rtc",),
    "connection": ("rtc",),
}


def service_codes() -> frozenset[str]:
    return frozenset(Service.objects.values_list("code", flat=True))


def ticket_sdk(sdk: str, platform: str = "") -> tuple[str, str]:
    """``(sdk, platform)`` skill values of the ticket's typed context: the SDK's name without
    its version (``"RelayRTC 4.2"`` → ``relayrtc``) and the platform, taken from the SDK's name
    when the ticket gives none (``rtc-sdk-android`` → ``android``)."""
    name = sdk.strip().lower().split()[0] if sdk.strip() else ""
    name = "".join(c for c in name if c.isalnum() or c in "-_.")
    if not platform and name:
        platform = next((p for p in sorted(PLATFORM_VALUES) if p in name.replace("_", "-").split("-")), "")
    return name, platform


def agent_skills(user: User, profile: AgentProfile | None, services: frozenset[str] | None = None) -> frozenset[str]:
    """Structured skills of the profile plus the core user's plain skills (``android`` is read
    as ``sdk:android``, a service code such as ``rtc`` as ``service:rtc``)."""
    codes = service_codes() if services is None else services
    return _skills(user.skills or [], profile.skills if profile is not None else [], codes)


def ticket_facts(ticket: Ticket, pool: Pool | None = None) -> rt.TicketFacts:
    """The ticket as routing sees it (``pool``: the directory and team labels to use; default:
    the current ones)."""
    org = ticket.organisation
    manager = org.account_manager if org.is_key_account else None
    backup_id = None
    manager_team = None
    if manager is not None:
        staff = pool.directory if pool is not None else directory()
        found = staff.get(manager.pk)
        backup_id = found.backup_id if found is not None else None
        team_id = found.team_id if found is not None else manager.team_id
        if team_id is not None:
            known = pool.teams.get(team_id) if pool is not None else None
            manager_team = team_label(known if known is not None else manager.team)
    sdk, platform = ticket_sdk(ticket.sdk or "", ticket.platform or "")
    return rt.TicketFacts(
        priority=ticket.priority,
        language=org.language,
        organisation_id=org.pk,
        wanted=rt.wanted_skills(
            category=ticket.category,
            sdk=sdk,
            platform=platform,
            region=ticket.region.code if ticket.region_id and ticket.region else "",
            services=CATEGORY_SERVICES.get(ticket.category, ()),
        ),
        key_account=bool(org.is_key_account and manager is not None),
        manager_id=manager.pk if manager is not None else None,
        backup_id=backup_id,
        manager_team=manager_team,
    )


@dataclass(frozen=True)
class Staff:
    """What routing needs of a staff member that changes rarely (cached; see ``directory``).
    Presence and the last assignment are not here: they are read fresh with the loads."""

    id: int
    name: str
    languages: frozenset[str]
    skills: frozenset[str]
    capacity: dict[str, int]
    team_id: int | None
    backup_id: int | None


_lock = threading.Lock()
_directory: tuple[int, dict[int, Staff]] | None = None  # (staff stamp, directory)


def invalidate_directory() -> None:
    """Drop the directory and the rosters, and read the stamps again before the next use."""
    global _directory, _roster
    with _lock:
        _directory = None
        _roster = None
    stamps.forget()


def directory(stamp: int | None = None) -> dict[int, Staff]:
    """Every active staff member's routing facts, cached in process until the staff stamp
    changes (``relaydesk.routing.stamps``).  ``stamp``: the staff stamp the caller has just
    read (default: read it now)."""
    global _directory
    if stamp is None:
        stamp = stamps.refresh()[0]
    found = _directory
    if found is not None and found[0] == stamp:
        return found[1]
    profiles = {
        row[0]: row[1:]
        for row in AgentProfile.objects.values_list("user_id", "skills", "capacity", "backup_id")
    }
    out: dict[int, Staff] = {}
    codes = service_codes()
    rows = User.objects.filter(kind=User.KIND_STAFF, is_active=True).values_list(
        "pk", "first_name", "email", "languages", "language", "skills", "team_id"
    )
    for uid, first, email, languages, language, skills, team_id in rows:
        p_skills, capacity, backup = profiles.get(uid, ([], None, None))
        out[uid] = Staff(
            id=uid,
            name=first or email,
            languages=frozenset(languages or [language]),
            skills=_skills(skills or [], p_skills or [], codes),
            capacity=dict(capacity or DEFAULT_CAPACITY),
            team_id=team_id,
            backup_id=backup,
        )
    with _lock:
        _directory = (stamp, out)
    return out


def _skills(core: list[str], structured: list[str], services: frozenset[str] = frozenset()) -> frozenset[str]:
    out = set(structured)
    for s in core:
        s = str(s).lower()
        if ":" in s:
            out.add(s)
        elif s in PLATFORM_VALUES:
            out.add(f"sdk:{s}")
        elif s in services:
            out.add(f"service:{s}")
        else:
            out.add(f"skill:{s}")
    return frozenset(out)


@dataclass(frozen=True)
class Roster:
    """Everyone on shift from ``lo`` to ``hi`` as routing candidates with what changes rarely
    (``rt.Agent`` with default presence, no load), built under the stamps ``stamped``: one
    roster serves every decision until a shift starts or ends or a stamp changes."""

    stamped: stamps.Stamps
    lo: datetime
    hi: datetime
    on_shift: dict[int, int]  # user id -> team id
    staff: dict[int, Staff]  # of those on shift
    directory: dict[int, Staff]  # every active staff member
    teams: dict[int, Team]
    candidates: rt.Roster
    ids: str  # the ids of the candidates as one SQL parameter (``loads.id_list``)
    # Per kind of ticket, the agents the last decision ranked first: the next decision asks
    # about their continuity with the loads (see ``_decide``); per priority, the state the
    # last decision read.
    likely: dict[tuple[Any, ...], tuple[int, ...]] = field(default_factory=dict)
    seen: dict[str, dict[int, rt.State]] = field(default_factory=dict)


_roster: Roster | None = None


def _roster_at(t: datetime, st: stamps.Stamps) -> Roster:
    global _roster
    found = _roster
    if found is not None and found.stamped == st and found.lo <= t < found.hi:
        return found
    teams = schedules.teams_with(Rotation.KIND_SHIFT, stamp=st[1])
    on, lo, hi = schedules.on_shift_span(t, Rotation.KIND_SHIFT, teams, stamp=st[1])
    known = directory(stamp=st[0])
    on = {uid: tid for uid, tid in on.items() if uid in known}
    by_id = {team.pk: team for team in teams}
    labels = {tid: team_label(team) for tid, team in by_id.items()}
    agents = rt.Roster(
        rt.Agent(
            id=uid,
            name=known[uid].name,
            team=labels.get(tid, "—"),
            on_shift=True,
            languages=known[uid].languages,
            skills=known[uid].skills,
            capacity=known[uid].capacity,
        )
        for uid, tid in on.items()
    )
    # The last state read per priority carries over as a hint of whom decisions will ask
    # about (whoever just came on shift counts as available and unloaded until read).
    roster = Roster(
        st, lo, hi, on, {uid: known[uid] for uid in on}, known, by_id, agents,
        loads.id_list(list(on), connection.vendor), {}, found.seen if found is not None else {},
    )
    with _lock:
        _roster = roster
    return roster


@dataclass
class Pool:
    """The people on shift at one instant, as routing candidates."""

    at: datetime
    roster: Roster

    @property
    def on_shift(self) -> dict[int, int]:
        return self.roster.on_shift

    @property
    def staff(self) -> dict[int, Staff]:
        return self.roster.staff

    @property
    def directory(self) -> dict[int, Staff]:
        return self.roster.directory

    @property
    def teams(self) -> dict[int, Team]:
        return self.roster.teams

    def user(self, uid: int) -> User:
        return User.objects.select_related("team__region").get(pk=uid)

    def agents(self, ticket: Ticket | None, priority: str, with_recent: bool = True) -> list[rt.Agent]:
        """Candidates with their presence, last assignment and load for ``priority`` read now
        and, if ``with_recent``, continuity with the ticket's organisation."""
        pool, found = _read(self, ticket, priority, everyone=with_recent and ticket is not None)
        org = frozenset({ticket.organisation_id}) if ticket is not None else frozenset()
        out = []
        for a in pool.roster.candidates.agents:
            presence, last, n = found.state.get(a.id, rt.NOBODY)
            out.append(
                replace(
                    a, presence=presence, load={priority: n} if n else {}, last_assigned_s=last,
                    recent_orgs=org if a.id in found.recent else frozenset(),
                )
            )
        return out


STALE_RETRIES = 3


def pool_at(t: datetime) -> Pool:
    """Who is on shift at ``t``, checked against the database's stamps now."""
    return Pool(t, _roster_at(t, stamps.refresh()))


def _read(pool: Pool, ticket: Ticket | None, priority: str, everyone: bool) -> tuple[Pool, loads.Fresh]:
    """Presence, last assignment and load of everyone in ``pool`` (and continuity for all of
    them if ``everyone``), in one statement that also reads the stamps; when those differ from
    the roster's (a staff member, schedule or team changed, here or in another process), the
    roster is rebuilt and read again (a few times at most: after that the latest is used)."""
    t = pool.at
    org = ticket.organisation_id if ticket is not None else None
    pk = ticket.pk if ticket is not None else None
    since = t - CONTINUITY_WINDOW
    for _ in range(STALE_RETRIES):
        roster = pool.roster
        ask = roster.ids if everyone else loads.id_list([], connection.vendor)
        found = loads.fresh(roster.ids, priority, org, since, pk, ask)
        if found.stamps == roster.stamped:
            break
        stamps.record(found.stamps)
        pool = Pool(t, _roster_at(t, found.stamps))
    return pool, found


BATCH = 8  # agents scored (and asked about continuity) at first
LIKELY = 24  # agents remembered as likely to be asked next time


def _decide(
    ticket: Ticket, when: datetime, claim: bool = False
) -> tuple[Pool, rt.TicketFacts, rt.Decision]:
    """One statement (``loads.fresh``) reads presence, last assignment and load of everyone
    on shift, the stamps, and continuity for the agents likely to be asked about: those the
    last decision about the same kind of ticket (priority, language, wanted skills,
    key-account team) ranked first, or else the first by the state the last decision of the
    same priority read (or, the first time, everyone on shift).  The chooser then scores only
    the agents that could win (``decision.scores``); should it need continuity of an agent
    not asked (the ranking moved since), a second statement asks about those.

    With ``claim`` (inside the transaction that writes the assignment) the chosen agent's
    counter is locked and read again (``loads.claim``) before the decision is returned: a
    decision made at the same moment in another transaction may have taken the agent's last
    place.  Under capacity, the choice stands (its reasons show the load read under the
    lock); at capacity, every agent's load is read again (a new statement sees what was
    committed meanwhile) and the chooser picks again, until a claimed agent can take the
    ticket or nobody can."""
    pool = Pool(when, _roster_at(when, stamps.seen()))
    org, pk, since, now_s = ticket.organisation_id, ticket.pk, when - CONTINUITY_WINDOW, when.timestamp()
    for _ in range(STALE_RETRIES):
        roster = pool.roster
        facts = ticket_facts(ticket, pool)
        kind = (facts.priority, facts.language, facts.wanted, facts.manager_team if facts.key_account else None)
        likely = roster.likely.get(kind)
        if likely is None and facts.priority in roster.seen:
            likely = rt.ranked_first(facts, roster.candidates, roster.seen[facts.priority], now_s, LIKELY)
        if likely is None:
            asked = None  # everyone
            ask = roster.ids
        else:
            asked = {*likely, *(i for i in (facts.manager_id, facts.backup_id) if i is not None)}
            ask = loads.id_list(list(asked), connection.vendor)
        found = loads.fresh(roster.ids, facts.priority, org, since, pk, ask)
        if found.stamps == roster.stamped:
            break
        stamps.record(found.stamps)
        pool = Pool(when, _roster_at(when, found.stamps))
    recent = set(found.recent)

    def recent_of(ids: list[int]) -> set[int]:
        if asked is not None:
            missing = [i for i in ids if i not in asked]
            if missing:
                recent.update(loads.recent(loads.id_list(missing, connection.vendor), org, since, pk))
                asked.update(missing)
        return recent

    d = rt.choose_from(facts, roster.candidates, found.state, now_s, recent_of, batch=BATCH, keep=LIKELY)
    state = found.state
    full: dict[int, int] = {}  # agents claimed and found at capacity: their count
    while claim and d.agent_id is not None:
        uid, p = d.agent_id, facts.priority
        n, cap = loads.claim(uid, p), roster.candidates.cap(uid, p)
        if n < cap:
            if n != state.get(uid, rt.NOBODY)[2]:
                d = rt.at_load(d, n, cap)
            break
        # Full since the loads were read: read them again (continuity as already asked; the
        # agents found full stay full while this transaction holds their counters) and
        # choose again, never one of them.
        full[uid] = n
        state = dict(loads.fresh(roster.ids, p, org, since, pk, loads.id_list([], connection.vendor)).state)
        for i, held in full.items():
            presence, last, _ = state.get(i, rt.NOBODY)
            state[i] = (presence, last, held)
        d = rt.choose_from(facts, roster.candidates, state, now_s, recent_of, batch=BATCH, keep=LIKELY)
    if len(roster.likely) >= 1024:
        roster.likely.clear()
    roster.likely[kind] = d.ranked
    roster.seen[facts.priority] = state
    return pool, facts, d


def decide(ticket: Ticket, now: datetime | None = None) -> rt.Decision:
    """The routing decision for ``ticket`` at ``now`` (reads only)."""
    return _decide(ticket, _now(now))[2]


def _apply(
    ticket: Ticket,
    *,
    agent: User | None,
    team: Team | None,
    rule: str,
    trigger: str,
    summary: str,
    reasons: list[str],
    scores: dict[str, Any],
    actor: User | None,
    now: datetime,
) -> Assignment:
    previous = Ticket.objects.filter(pk=ticket.pk).values_list("assignee_id", flat=True).first()
    token = _ROUTING.set(True)
    try:
        changes: dict[str, Any] = {"assignee": agent, "team": team}
        ticket_services.update_ticket(ticket, actor=actor, changes=changes, via="routing", now=now)  # type: ignore[arg-type]
    finally:
        _ROUTING.reset(token)
    # The caller's instance (e.g. the one create_ticket returns) shows the new owner too.
    ticket.assignee = agent
    ticket.team = team
    a = Assignment.objects.create(
        ticket=ticket,
        agent=agent,
        team=team,
        previous_agent_id=previous,
        rule=rule,
        trigger=trigger,
        summary=summary,
        reasons=reasons,
        scores=scores,
        actor=actor,
        created_at=now,
    )
    if agent is not None:
        updated = AgentProfile.objects.filter(user_id=agent.pk).update(last_assigned_at=now)
        if not updated:
            AgentProfile.objects.get_or_create(user=agent, defaults={"last_assigned_at": now})
    return a


def next_team(ticket: Ticket, now: datetime) -> tuple[Team | None, datetime | None]:
    """The team whose shift starts soonest (preferring teams that serve the organisation and
    speak its language)."""
    serving = set(ticket.organisation.support_teams.values_list("pk", flat=True))
    lang = ticket.organisation.language
    best: tuple[Any, ...] | None = None
    for team in schedules.teams_with(Rotation.KIND_SHIFT):
        start = schedules.next_on_shift(team, now)
        if start is None:
            continue
        key = (start, team.pk not in serving, lang not in (team.languages or []), team.pk)
        if best is None or key < best[0]:
            best = (key, team, start)
    if best is None:
        return None, None
    return best[1], best[2]


def route_ticket(
    ticket: Ticket, *, trigger: str = "created", now: datetime | None = None, actor: User | None = None
) -> Assignment:
    """Route ``ticket`` now: key account, best agent on shift, or the next team's queue (and a
    page for urgent work nobody on shift can take).  Runs inside the caller's transaction."""
    from . import paging

    when = _now(now)
    with transaction.atomic():
        pool, facts, decision = _decide(ticket, when, claim=True)
        scores = {str(k): v for k, v in decision.scores.items()}
        # A key account's manager hears of every routing (creation, customer reply, handover,
        # queue, re-route), but not twice in a row for the same trigger (a second customer
        # reply to a ticket still waiting in the queue says nothing new).
        previous_trigger = (
            Assignment.objects.filter(ticket=ticket).order_by("-created_at", "-id").values_list("trigger", flat=True).first()
            if facts.key_account
            else None
        )
        if decision.agent_id is not None:
            agent = pool.user(decision.agent_id)
            a = _apply(
                ticket, agent=agent, team=agent.team or pool.teams.get(pool.on_shift[agent.pk]), rule=decision.rule,
                trigger=trigger, summary=decision.summary, reasons=list(decision.reasons), scores=scores,
                actor=actor, now=when,
            )
        else:
            team, start = next_team(ticket, when)
            if team is not None and start is not None:
                summary = (
                    f"queued for team {team.name}: {decision.reasons[0]}; "
                    + ("on shift now" if start <= when else f"next on shift at {start.isoformat()}")
                )
            else:
                summary = f"unassigned: {decision.reasons[0]}; no team has a shift scheduled"
            urgent = paging.needs_page(ticket)
            oncall = paging.first_oncall(ticket, team, when) if urgent else None
            if oncall is not None:
                person, chain = oncall
                name = person.first_name or person.email
                summary = f"assigned to {name}: on call ({chain.name}); {decision.reasons[0]}"
                a = _apply(
                    ticket, agent=person, team=person.team or team, rule="on_call", trigger=trigger, summary=summary,
                    reasons=[f"assigned to {name}", f"on call ({chain.name})", *decision.reasons], scores=scores,
                    actor=actor, now=when,
                )
            else:
                a = _apply(
                    ticket, agent=None, team=team or ticket.team, rule="team_queue", trigger=trigger, summary=summary,
                    reasons=[*decision.reasons], scores=scores, actor=actor, now=when,
                )
            if urgent:
                paging.start_page(ticket, reason=summary, team=team, now=when)
        if facts.key_account and facts.manager_id is not None and previous_trigger != trigger:
            paging.tell_account_manager(ticket, a, now=when)
    return a


def assign_manually(ticket: Ticket, agent: User | None, *, actor: User, now: datetime | None = None) -> Assignment:
    when = _now(now)
    if agent is not None and (agent.kind != User.KIND_STAFF or agent.team_id is None):
        raise ticket_services.TicketError(
            f"{agent.email} cannot take tickets: give them a team first", field="agent_id"
        )
    with transaction.atomic():
        name = (agent.first_name or agent.email) if agent is not None else "nobody"
        return _apply(
            ticket, agent=agent, team=agent.team if agent is not None else ticket.team, rule="manual",
            trigger="manual", summary=f"assigned to {name} by {actor.first_name or actor.email}",
            reasons=["manual"], scores={}, actor=actor, now=when,
        )


def assign_on_call(ticket: Ticket, user: User, *, now: datetime) -> Assignment:
    """The on-call human who acknowledged a page of an unassigned ticket takes it."""
    name = user.first_name or user.email
    return _apply(
        ticket, agent=user, team=user.team, rule="on_call", trigger="page_ack",
        summary=f"assigned to {name}: acknowledged the page", reasons=[f"assigned to {name}", "acknowledged the page"],
        scores={}, actor=user, now=now,
    )


def assign_round_robin(ticket: Ticket, team: Team, *, actor: User | None, now: datetime | None = None) -> Assignment:
    """The team member on shift, present and under capacity who was assigned longest ago.
    Loads are read, and the pick's counter locked and read again (``loads.claim``), inside
    the transaction that writes the assignment, as in ``route_ticket``."""
    when = _now(now)
    p = ticket.priority
    with transaction.atomic():
        pool = pool_at(when)
        agents = [a for a in pool.agents(ticket, p, with_recent=False) if pool.on_shift.get(a.id) == team.pk]
        ok = sorted((a for a in agents if not rt._why_not(a, p)), key=lambda a: (a.last_assigned_s or 0.0, a.id))
        for pick in ok:
            n = loads.claim(pick.id, p)
            if n < pick.cap(p):
                break
        else:
            raise ticket_services.TicketError(f"nobody of team {team.name} can take it now", status=409, field="team_id")
        return _apply(
            ticket, agent=pool.user(pick.id), team=team, rule="round_robin", trigger="manual",
            summary=f"assigned to {pick.name}: round robin in {team.name}, load {n}/{pick.cap(p)}",
            reasons=["round robin", f"on shift {pick.team}"], scores={}, actor=actor, now=when,
        )


# -- signal receivers -----------------------------------------------------------------


def routing_configured() -> bool:
    """Routing acts only once some team has shift rotations; until then assignment stays
    manual (an installation that has not set up schedules sees no automatic changes)."""
    return bool(schedules.teams_with(Rotation.KIND_SHIFT))


def on_ticket_created(sender: Any, ticket: Ticket, actor: User | None = None, **kw: Any) -> None:
    if not routing_configured():
        return
    if ticket.assignee_id is None:
        route_ticket(ticket, trigger="created", now=ticket.created_at)
    else:
        Assignment.objects.create(
            ticket=ticket, agent_id=ticket.assignee_id, team_id=ticket.team_id, rule="manual", trigger="created",
            summary=f"assigned at creation to {ticket.assignee}", reasons=["manual"], actor=actor,
            created_at=ticket.created_at,
        )


def on_message_added(sender: Any, ticket: Ticket, message: Message, **kw: Any) -> None:
    from . import paging

    if message.counts_as_human_staff_reply and message.author_id is not None:
        paging.acknowledge_open_pages(ticket, message.author, via="reply", now=message.created_at)
        return
    if message.author_kind != Message.AUTHOR_CUSTOMER or not message.is_public or not routing_configured():
        return
    if ticket.status not in RUNNING_STATUSES:
        return
    if ticket.assignee_id is None:
        route_ticket(ticket, trigger="customer_reply", now=message.created_at)
        return
    # A ticket left with an agent while pending the customer follows routing once the
    # customer replies, if the agent is off shift by now.
    if ticket.assignee_id in schedules.scheduled_people() and ticket.assignee_id not in schedules.on_shift_at(message.created_at):
        _handover_one(ticket, message.created_at, trigger="customer_reply")


def on_ticket_changed(sender: Any, ticket: Ticket, actor: User | None = None, fields: set[str] | None = None, **kw: Any) -> None:
    from . import paging

    fields = fields or set()
    if "assignee" in fields and not routing_active():
        from relaydesk.tickets.models import AuditEntry

        who = ticket.assignee
        entry = AuditEntry.objects.filter(ticket=ticket, field="assignee").order_by("-id").first()
        Assignment.objects.create(
            ticket=ticket, agent=who, team_id=ticket.team_id, rule="manual", trigger="manual",
            summary=f"assigned to {(who.first_name or who.email) if who else 'nobody'} by {actor or 'system'}",
            reasons=["manual"], actor=actor, created_at=entry.at if entry is not None else datetime.now(UTC),
        )
    if "status" in fields and ticket.status in ("solved", "closed"):
        paging.resolve_open_pages(ticket, actor, via="ticket")


# -- handover and presence ---------------------------------------------------------------


def handover_note(ticket: Ticket, previous: User | None, now: datetime) -> str:
    last = ticket.messages.order_by("-created_at", "-id").first()
    if last is None:
        last_action = f"ticket opened {ticket.created_at:%Y-%m-%d %H:%M} UTC"
    else:
        kind = "public reply" if last.is_public else "internal note"
        last_action = f"{last.author_kind} {kind} at {last.created_at:%Y-%m-%d %H:%M} UTC"
    if ticket.frt_met_at is None and ticket.frt_due_at is not None:
        next_step = f"first response due {ticket.frt_due_at:%Y-%m-%d %H:%M} UTC"
    elif ticket.nrt_due_at is not None and ticket.nrt_state == "running":
        next_step = f"reply to the customer, due {ticket.nrt_due_at:%Y-%m-%d %H:%M} UTC"
    else:
        next_step = "continue the investigation and update the customer"
    name = (previous.first_name or previous.email) if previous is not None else "the previous shift"
    return (
        f"Handover from {name} (shift ended).\n"
        f"Summary: {ticket.priority} {ticket.get_category_display()}: {ticket.subject}\n"
        f"Last action: {last_action}\n"
        f"Next step: {next_step}"
    )


def _handover_one(ticket: Ticket, now: datetime, trigger: str = "handover") -> Assignment | None:
    previous = ticket.assignee
    ticket_services.add_message(ticket, author=None, body=handover_note(ticket, previous, now), is_public=False, channel="portal", now=now)
    return route_ticket(ticket, trigger=trigger, now=now)


def handover_sweep(now: datetime | None = None, limit: int = HANDOVER_BATCH) -> dict[str, int]:
    """Move running tickets away from scheduled agents who are off shift; presence follows
    shift ends (and starts) for agents who let it."""
    when = _now(now)
    on = schedules.on_shift_at(when)
    scheduled = schedules.scheduled_people()
    result = {"handed_over": 0, "presence_offline": 0, "presence_available": 0, "picked_up": 0}
    # Presence follows the shift: only profiles whose recorded state disagrees with the
    # schedule need a change (usually none, between shift boundaries).
    on_ids = list(on)
    disagree = Q(was_on_shift=True) & ~Q(user_id__in=on_ids) | Q(was_on_shift=False, user_id__in=on_ids)
    for prof in AgentProfile.objects.filter(disagree, user_id__in=scheduled, presence_follows_shift=True):
        now_on = prof.user_id in on
        if prof.was_on_shift and not now_on:
            AgentProfile.objects.filter(pk=prof.pk).update(presence="offline", presence_changed_at=when, was_on_shift=False)
            result["presence_offline"] += 1
        elif now_on and not prof.was_on_shift:
            fields: dict[str, Any] = {"was_on_shift": True}
            if prof.presence == "offline":
                fields |= {"presence": "available", "presence_changed_at": when}
                result["presence_available"] += 1
            AgentProfile.objects.filter(pk=prof.pk).update(**fields)
    result["picked_up"] = _pick_up_queue(when, bool(on), limit)
    off = scheduled - set(on)
    if not off:
        return result
    from .models import Page

    paged = Page.objects.exclude(status=Page.RESOLVED).values("ticket_id")
    ids = list(
        Ticket.objects.filter(assignee_id__in=off, status__in=RUNNING_STATUSES)
        .exclude(pk__in=paged)  # the on-call human who owns a page keeps it
        .order_by("sla_sort_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        with transaction.atomic():
            qs = Ticket.objects.filter(pk=pk, assignee_id__in=off, status__in=RUNNING_STATUSES)
            qs = qs.select_for_update(skip_locked=_skip_locked(), of=("self",))
            ticket = qs.select_related("organisation", "assignee", "region").first()
            if ticket is None:
                continue
            _handover_one(ticket, when)
            result["handed_over"] += 1
    return result


def _pick_up_queue(now: datetime, anyone_on: bool, limit: int) -> int:
    """Queued (unassigned) tickets whose clocks run go to someone as soon as anyone suitable is
    on shift, most urgent first."""
    if not anyone_on:
        return 0
    picked = 0
    rows = list(
        Ticket.objects.filter(assignee__isnull=True, status__in=RUNNING_STATUSES)
        .order_by("sla_sort_at", "id")
        .values_list("pk", "priority")[:limit]
    )
    # Whether anyone can take a ticket depends only on its priority (on shift, present, under
    # capacity for it), and taking tickets frees nobody: once a priority finds nobody, the
    # other queued tickets of that priority are not asked again in this sweep.
    nobody: set[str] = set()
    for pk, priority in rows:
        if priority in nobody:
            continue
        with transaction.atomic():
            qs = Ticket.objects.filter(pk=pk, assignee__isnull=True, status__in=RUNNING_STATUSES)
            qs = qs.select_for_update(skip_locked=_skip_locked(), of=("self",))
            ticket = qs.select_related("organisation__account_manager", "region", "sla_rule").first()
            if ticket is None:
                continue
            if decide(ticket, now).agent_id is None:
                nobody.add(ticket.priority)
                continue
            route_ticket(ticket, trigger="queue", now=now)
            picked += 1
    return picked


def _skip_locked() -> bool:
    from django.db import connection

    return bool(connection.features.has_select_for_update_skip_locked)


def set_presence(user: User, presence: str, *, now: datetime | None = None) -> AgentProfile:
    if presence not in rt.PRESENCES:
        raise ticket_services.TicketError(f"presence must be one of {', '.join(rt.PRESENCES)}", field="presence")
    prof, _ = AgentProfile.objects.get_or_create(user=user)
    prof.presence = presence
    prof.presence_changed_at = _now(now)
    prof.save(update_fields=["presence", "presence_changed_at"])
    return prof
