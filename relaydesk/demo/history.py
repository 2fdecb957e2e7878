"""Back-dated ticket history for the demo world.

Every ticket goes through :mod:`relaydesk.tickets.services` with ``now=`` set to a moment in
the past, so SLA clocks, the audit trail and clock events are exactly what the product
would have recorded. Between two actions on a ticket the simulator plays the role of the
periodic SLA sweep (warnings and breaches at their due instants), so a late reply shows a
warning, a breach and then a late ``met``, in that order.

What happens and when is decided by a ``random.Random`` seeded per ticket, so the same
seed gives the same conversations; absolute times are anchored to the moment of the load.

Notifications caused by history (acknowledgements, reply mails, SLA warnings) are written
by the product as usual and then marked as belonging to the past — see
:func:`historical_notices`.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from relaydesk.domain.calendar import from_us, to_us
from relaydesk.notify import notices, outbox
from relaydesk.notify.models import Notification, OutboundEmail
from relaydesk.sla import engine
from relaydesk.sla.models import BusinessCalendar
from relaydesk.tickets import services
from relaydesk.tickets.models import STATUS_ON_HOLD, STATUS_PENDING, STATUS_SOLVED, Ticket

from . import conversations as cv
from .world import TEAM_OF_REGION, DemoAgent, DemoOrg, World

HISTORY_DAYS = 60


# -- what customers write about ------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    category: str
    profile: str  # arrival pattern over the local day: evening | day | office
    priorities: dict[str, int]
    tags: tuple[str, ...]
    sdk: str  # "" for tickets without a technical context
    network: bool = False  # names a carrier
    can_hold: bool = False  # may wait for an SDK release


# Tables of fixed data, one row a line.
# fmt: off
SCENARIOS = {
    "live_stutter": Scenario("stream_quality", "evening", {"P1": 35, "P2": 40, "P3": 25},
                             ("stutter", "rebuffering"), "RelayLive", network=True),
    "join_failure": Scenario("connection", "evening", {"P1": 30, "P2": 40, "P3": 30},
                             ("join-failure",), "RelayRTC", network=True),
    "audio_echo": Scenario("stream_quality", "day", {"P2": 20, "P3": 65, "P4": 15},
                           ("echo", "audio-quality"), "RelayRTC", can_hold=True),
    "first_frame": Scenario("stream_quality", "evening", {"P2": 30, "P3": 60, "P4": 10},
                            ("first-frame",), "RelayRTC", can_hold=True),
    "av_sync": Scenario("stream_quality", "evening", {"P2": 35, "P3": 60, "P4": 5},
                        ("av-sync",), "RelayLive", can_hold=True),
    "recording": Scenario("other", "day", {"P2": 35, "P3": 55, "P4": 10},
                          ("cloud-recording",), "RelayRTC"),
    "sdk": Scenario("sdk_integration", "office", {"P2": 5, "P3": 45, "P4": 50}, ("sdk",), "RelayRTC"),
    "billing": Scenario("billing", "office", {"P3": 30, "P4": 70}, ("billing",), ""),
    "account": Scenario("account", "office", {"P2": 10, "P3": 40, "P4": 50}, ("account",), ""),
}

# Which problems each kind of app reports, relatively.
KIND_SCENARIOS: dict[str, dict[str, int]] = {
    "live": {"live_stutter": 30, "join_failure": 10, "first_frame": 10, "av_sync": 8, "audio_echo": 4,
             "sdk": 15, "billing": 6, "account": 3, "recording": 2},
    "social": {"join_failure": 28, "first_frame": 16, "live_stutter": 6, "audio_echo": 8, "av_sync": 3,
               "sdk": 18, "billing": 6, "account": 3},
    "edtech": {"recording": 14, "audio_echo": 12, "join_failure": 12, "live_stutter": 6, "sdk": 22,
               "billing": 8, "account": 5, "first_frame": 4},
    "gaming": {"audio_echo": 16, "join_failure": 16, "sdk": 26, "live_stutter": 4, "billing": 6,
               "account": 4, "first_frame": 4},
    "voice": {"audio_echo": 22, "join_failure": 18, "live_stutter": 8, "sdk": 18, "billing": 6, "account": 4},
    "fitness": {"live_stutter": 18, "av_sync": 10, "recording": 8, "join_failure": 10, "sdk": 16,
                "billing": 8, "account": 4, "first_frame": 6},
}

# Relative arrivals per local hour 00..23 (live shows peak 20:00–24:00; questions come in
# office hours), and the weight of a weekend day.
HOURLY: dict[str, list[float]] = {
    "evening": [5, 3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 6, 6, 6, 7, 8, 10, 13, 17, 19, 18, 11],
    "day": [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 3, 6, 8, 9, 9, 8, 9, 10, 10, 10, 9, 8, 8, 7, 5, 3, 2],
    "office": [0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 0.6, 1.5, 4, 8, 10, 10, 8, 9, 10, 10, 9, 7, 4, 2.5,
               1.5, 1, 0.7, 0.5],
}
# fmt: on
WEEKEND = {"evening": 1.25, "day": 0.6, "office": 0.15}

SDK_VERSIONS = {
    "android": ("4.3.2", "4.4.1", "4.5.0", "4.5.1"),
    "ios": ("4.3.2", "4.4.1", "4.5.0", "4.5.1"),
    "web": ("4.20.2", "4.21.0", "4.22.1"),
    "flutter": ("6.2.4", "6.3.2", "6.4.0"),
    "unity": ("4.3.0", "4.4.0"),
    "electron": ("4.3.1", "4.4.0"),
    "react_native": ("4.3.0", "4.4.2"),
}


VIEW_FIELDS = (
    "channel",
    "sla_calendar",
    "sla_next_event_at",
    *(
        f"{p}_{f}"
        for p in ("frt", "nrt")
        for f in ("state", "target_us", "spent_us", "running_since", "breached")
    ),
)


def _tag(text: str) -> str:
    return text.lower().replace("&", "-and").replace(" ", "-")


# -- arrivals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    at: datetime
    org: DemoOrg
    scenario: str
    seed: str


def _arrival_time(rng: random.Random, tz: ZoneInfo, profile: str, now: datetime) -> datetime:
    today = now.astimezone(tz).date()
    top = max(1.0, WEEKEND[profile])
    hours = list(range(24))
    while True:
        # A little more recent traffic than old (the customer base grows).
        days = (
            int(rng.triangular(0, HISTORY_DAYS, 0))
            if rng.random() < 0.3
            else rng.randrange(HISTORY_DAYS)
        )
        day = today - timedelta(days=days)
        weight = WEEKEND[profile] if day.weekday() >= 5 else 1.0
        if rng.random() * top > weight:
            continue
        hour = rng.choices(hours, HOURLY[profile])[0]
        local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=tz)
        at = local.astimezone(UTC)
        if now - timedelta(days=HISTORY_DAYS) <= at <= now - timedelta(minutes=5):
            return at


def plan_arrivals(world: World, count: int, seed: int, now: datetime) -> list[Arrival]:
    """``count`` tickets over the last 60 days, in the order they arrived."""
    rng = random.Random(f"relaydesk-demo:{seed}:arrivals")
    orgs = world.orgs
    weights = [o.spec.weight for o in orgs]
    out = []
    for i in range(count):
        org = rng.choices(orgs, weights)[0]
        mix = KIND_SCENARIOS[org.spec.kind]
        scenario = rng.choices(list(mix), list(mix.values()))[0]
        at = _arrival_time(rng, ZoneInfo(org.spec.timezone), SCENARIOS[scenario].profile, now)
        out.append(Arrival(at, org, scenario, f"relaydesk-demo:{seed}:ticket:{i}"))
    out.sort(key=lambda a: (a.at, a.seed))
    return out


# -- historical notifications ---------------------------------------------------------------


@contextmanager
def historical_notices() -> Iterator[None]:
    """Write history without asking for delivery.

    The product writes outbox rows and in-app notices for historical steps exactly as for
    live ones — they are part of what happened. Two things must not happen for the past:
    (1) delivering those mails: the simulator marks each row as sent at its historical
    moment right after the step that wrote it (``Simulator._dated``), so nothing is left
    pending; (2) enqueueing delivery jobs: ``queue_email`` registers the outbox's ``_kick``
    on commit, which enqueues a ``deliver_outbox`` job row. Inside this block ``_kick`` is
    a no-op, so the load enqueues no job at all. Only the loading process is affected, and
    only while the block runs."""
    original = outbox._kick
    outbox._kick = _no_kick
    try:
        yield
    finally:
        outbox._kick = original


def _no_kick() -> None:
    return None


# -- the simulator -------------------------------------------------------------------------


class _Later(Exception):
    """The next step of a ticket's life lies in the future: it stays as it is now."""


@dataclass
class _State:
    ticket_id: int
    org: DemoOrg
    requester: Any
    assignee: DemoAgent
    lang: str
    priority: str
    urgent: bool
    ctx: dict[str, Any]
    rng: random.Random
    seed: str
    problem_start: datetime
    email_seq: int = 0
    view: Ticket | None = None


def _minutes(m: float) -> timedelta:
    return timedelta(seconds=int(m * 60))


class Simulator:
    def __init__(self, world: World, now: datetime, seed: int) -> None:
        self.world = world
        self.now = now
        self.seed = seed
        self.wall_start = datetime.now(UTC)
        self.region_cals = {
            code: engine.domain_calendar(engine.region_calendar(r))
            for code, r in world.regions.items()
        }
        self.calendars: dict[int, Any] = {}

    # -- the product's side effects, dated in the past ------------------------------------

    def _fetch(self, pk: int) -> Ticket:
        """The ticket with everything the SLA sweep and its notices read."""
        return Ticket.objects.select_related(
            "organisation", "sla_rule", "sla_calendar", "team__lead", "assignee", "requester"
        ).get(pk=pk)

    def _view(self, s: _State) -> Ticket:
        """The few columns planning needs (clock state), read once after each step."""
        if s.view is None:
            s.view = Ticket.objects.only(*VIEW_FIELDS).get(pk=s.ticket_id)
        return s.view

    def _calendar(self, t: Ticket) -> Any:
        if t.sla_calendar_id is None:
            return engine.always_open()
        cal = self.calendars.get(t.sla_calendar_id)
        if cal is None:
            cal = self.calendars[t.sla_calendar_id] = engine.domain_calendar(
                BusinessCalendar.objects.get(pk=t.sla_calendar_id)
            )
        return cal

    def _dated(
        self, ticket_id: int, when: datetime, *, mail: bool = True, notes: bool = True
    ) -> None:
        """Outbox rows and in-app notices just caused by a historical step happened then:
        the mail counts as sent at that moment, the notice as read shortly after (except
        for the last half day, which staff have not looked at yet).

        ``mail``/``notes`` say whether the step can have written either (see
        ``relaydesk.notify.notices``): agents' public replies and solves mail the customer;
        customer replies mail and notify the assignee; a new ticket acknowledges and
        notifies its assignee; SLA warnings and breaches do both; internal notes only
        notify (when written by someone else than the assignee); updates do neither. A
        late reply never causes a breach notice here, because the sweep ran up to it first.
        """
        if mail:
            OutboundEmail.objects.filter(ticket_id=ticket_id, status=OutboundEmail.PENDING).update(
                status=OutboundEmail.SENT,
                attempts=1,
                created_at=when,
                next_attempt_at=when,
                sent_at=when,
            )
        if notes:
            read = when + timedelta(minutes=12) if when < self.now - timedelta(hours=12) else None
            Notification.objects.filter(
                ticket_id=ticket_id, created_at__gte=self.wall_start
            ).update(created_at=when, read_at=read)

    def _sweep(self, t: Ticket, until: datetime) -> None:
        """What the periodic SLA sweep would have emitted for this ticket up to ``until``,
        each event at its own instant (see ``relaydesk.sla.sweep``)."""
        for _ in range(12):
            at = t.sla_next_event_at
            if at is None or at > until:
                return
            clocks = engine.clocks_from_ticket(t)
            events = [ev for c in clocks.values() for ev in c.sweep(engine.now_us(at))]
            fields = engine.clocks_to_ticket(t, clocks)
            t.save(update_fields=fields)
            stored = engine.record_events(t, events)
            notices.clock_events(t, stored)
            self._dated(t.pk, at)

    def _advance(self, s: _State, when: datetime) -> Ticket:
        """Move the ticket's clock world to ``when`` (or stop: ``when`` is in the future)."""
        if when > self.now:
            raise _Later
        t = self._view(s)
        s.view = None  # the step about to happen changes the ticket
        due = t.sla_next_event_at
        if due is not None and due <= when:
            self._sweep(self._fetch(s.ticket_id), when)
        return t

    def _staff_says(
        self,
        s: _State,
        when: datetime,
        agent: DemoAgent,
        body: str,
        *,
        status: str | None = None,
        public: bool = True,
    ) -> None:
        t = self._advance(s, when)
        services.add_message(
            t, author=agent.row, body=body, is_public=public, status=status, now=when
        )
        self._dated(s.ticket_id, when, mail=public, notes=not public and agent != s.assignee)

    def _customer_says(self, s: _State, when: datetime, body: str) -> None:
        t = self._advance(s, when)
        channel = t.channel if t.channel in ("email", "api") else "portal"
        mid = None
        if channel == "email":
            s.email_seq += 1
            digest = hashlib.sha256(f"{s.seed}:{s.email_seq}".encode()).hexdigest()[:24]
            mid = f"<{digest}@mail.{s.org.spec.domain}>"
        services.add_message(
            t, author=s.requester, body=body, channel=channel, email_message_id=mid, now=when
        )
        self._dated(s.ticket_id, when)

    def _update(
        self, s: _State, when: datetime, actor: Any, changes: dict[str, Any], via: str
    ) -> None:
        t = self._advance(s, when)
        s.view = services.update_ticket(t, actor=actor, changes=changes, via=via, now=when)

    # -- who answers, and when ----------------------------------------------------------

    def _speakers(self, lang: str) -> list[DemoAgent]:
        return [a for a in self.world.agents if lang in a.spec.languages]

    def _route(self, rng: random.Random, org: DemoOrg, at: datetime) -> tuple[DemoAgent, bool]:
        """The agent a new ticket goes to: the named manager of a key account when on shift,
        else someone on shift who speaks the customer's language (home team first), else
        the home team's on-call person of the day. Returns (agent, someone was on shift)."""
        if org.spec.manager:
            manager = self.world.staff[org.spec.manager]
            if manager.spec.on_shift(at):
                return manager, True
        speakers = self._speakers(org.spec.language)
        home = TEAM_OF_REGION[org.spec.region]
        on = [a for a in speakers if a.spec.on_shift(at)]
        if on:
            return rng.choice([a for a in on if a.spec.team == home] or on), True
        pool = [a for a in speakers if a.spec.team == home] or speakers
        return pool[at.toordinal() % len(pool)], False

    def _responder(self, s: _State, when: datetime) -> DemoAgent:
        """The assignee if on shift; otherwise a colleague on shift answers — and takes
        the ticket over when it is urgent (follow the sun), or now and then anyway."""
        if s.assignee.spec.on_shift(when):
            return s.assignee
        on = [a for a in self._speakers(s.lang) if a.spec.on_shift(when)]
        if not on:
            return s.assignee  # the on-call person answers from home
        same_team = [a for a in on if a.spec.team == s.assignee.spec.team]
        taker = s.rng.choice(same_team or on)
        if not s.urgent and s.rng.random() < 0.7:
            return taker
        self._update(
            s,
            when - timedelta(seconds=30),
            taker.row,
            {"assignee": taker.row, "team": self.world.teams[taker.spec.team or ""]},
            "portal",
        )
        s.assignee = taker
        return taker

    def _next_on_shift(self, agent: DemoAgent, t: datetime) -> datetime:
        for _ in range(4 * 24 * 2):
            if agent.spec.on_shift(t):
                return t
            t += timedelta(minutes=30)
        return t

    def _breach_chance(self, t: Ticket, s: _State, start: datetime) -> float:
        covered = any(a.spec.on_shift(start) for a in self._speakers(s.lang))
        if t.sla_calendar_id is None:  # a 24×7 clock
            chance = 0.07 if covered else (0.4 if s.priority == "P1" else 0.28)
        else:
            chance = 0.08
        local = start.astimezone(ZoneInfo(s.org.spec.timezone))
        if s.urgent and 20 <= local.hour <= 23:
            chance += 0.05  # evening peak: the queue is long
        return chance

    def _staff_time(
        self, s: _State, t: Ticket, prefix: str, not_before: datetime, late_factor: float = 1.0
    ) -> datetime:
        """When a human answers the running clock ``prefix`` (frt or nrt): usually well
        inside the target, sometimes after it (more often off shift), measured in the
        clock's own business time."""
        rng = s.rng
        state = getattr(t, f"{prefix}_state")
        target = getattr(t, f"{prefix}_target_us")
        since = getattr(t, f"{prefix}_running_since")
        if state != "running" or target is None or since is None:
            # No promise: best effort within the customer's region business hours.
            cal = self.region_cals[s.org.spec.region]
            hours = rng.uniform(0.5, 9.0) if s.priority in ("P1", "P2") else rng.uniform(2.0, 16.0)
            at = from_us(cal.add_business_seconds(to_us(not_before), int(hours * 3600e6)))
            return max(at, not_before + _minutes(rng.uniform(2, 20)))
        cal = self._calendar(t)
        remaining = max(0, target - getattr(t, f"{prefix}_spent_us"))
        if rng.random() < self._breach_chance(t, s, since) * late_factor:
            amount = remaining + int(target * rng.uniform(0.1, 1.5)) + 60_000_000
        else:
            amount = int(remaining * min(0.92, max(0.06, rng.betavariate(1.4, 3.0))))
        at = from_us(cal.add_business_seconds(to_us(since), amount))
        return max(at, not_before + _minutes(rng.uniform(1, 6)))

    def _customer_time(self, s: _State, after: datetime, urgent: bool) -> datetime:
        rng = s.rng
        if urgent:
            minutes = min(360.0, max(2.0, rng.lognormvariate(math.log(15), 0.9)))
        else:
            minutes = min(4 * 24 * 60.0, max(8.0, rng.lognormvariate(math.log(200), 1.1)))
        at = after + _minutes(minutes)
        tz = ZoneInfo(s.org.spec.timezone)
        local = at.astimezone(tz)
        if not urgent and local.hour < 8:
            morning = datetime.combine(local.date(), time(8), tzinfo=tz)
            at = (morning + _minutes(rng.uniform(0, 150))).astimezone(UTC)
        return at

    # -- text ------------------------------------------------------------------------------

    def _staff_text(self, s: _State, agent: DemoAgent, body: str) -> str:
        ctx = s.ctx | {"agent": agent.spec.first, "team": agent.spec.team or "RelayDesk"}
        return "\n\n".join(
            (
                cv.pick(s.rng, cv.GREETING[s.lang], ctx),
                cv.fill(body, ctx),
                cv.pick(s.rng, cv.SIGNOFF[s.lang], ctx),
            )
        )

    def _customer_text(self, s: _State, body: str) -> str:
        return cv.fill(body, s.ctx) + "\n\n" + cv.pick(s.rng, cv.CUSTOMER_SIGN[s.lang], s.ctx)

    def _context(
        self, rng: random.Random, a: Arrival, requester: Any, scenario: Scenario
    ) -> tuple[dict[str, Any], dict[str, Any], datetime]:
        """(the ticket's typed RTC context, the placeholders for its text, problem start)."""
        org = a.org
        lang = org.spec.language
        tz = ZoneInfo(org.spec.timezone)
        markets = (org.spec.region,) * 3 + org.spec.markets
        region_code = rng.choice(markets)
        region_spec = self.world.region_specs[region_code]
        platforms = [
            p for p in org.platforms if scenario.category != "sdk_integration" or p in cv.SDK_TOPICS
        ]
        platform = rng.choice(platforms or list(cv.SDK_TOPICS))
        version = rng.choice(SDK_VERSIONS.get(platform, SDK_VERSIONS["android"]))
        major, minor, patch = (int(x) for x in version.split("."))
        kind = org.spec.kind
        n = rng.randrange(100, 9999)
        channel = {
            "live": f"live_room_{n}",
            "social": f"call_{rng.randrange(10**7, 10**8)}_{rng.randrange(10**7, 10**8)}",
            "edtech": f"class_{rng.choice(['math', 'english', 'coding', 'piano'])}_{n}",
            "gaming": f"match_{n}",
            "voice": f"voiceroom_{n}",
            "fitness": f"studio_{rng.choice(['hiit', 'yoga', 'spin'])}_{n}",
        }[kind]
        uids = [str(rng.randrange(10**7, 10**9)) for _ in range(rng.randint(1, 4))]
        if scenario.profile != "office" and scenario.category != "other" and rng.random() < 0.85:
            start = a.at - _minutes(
                rng.uniform(3, 45) if scenario.network else rng.uniform(30, 3 * 24 * 60)
            )
        else:
            start = a.at - _minutes(rng.uniform(60, 5 * 24 * 60))
        end = start + _minutes(rng.uniform(8, 70))
        ended = end < a.at and rng.random() < 0.4
        local_start = start.astimezone(tz)
        # As the customer reports it, the problem window lies before the ticket.
        local_end = min(end, a.at - timedelta(minutes=2)).astimezone(tz)
        month_index = (a.at.astimezone(tz).month - 2) % 12
        text = {
            "name": requester.first_name,
            "customer": requester.get_full_name() or requester.email,
            "app": org.spec.app,
            "plan": org.row.plan.name,
            "region": cv.REGION_NAMES[lang][region_code],
            "carrier": rng.choice(region_spec.carriers),
            "channel": channel,
            "platform": cv.PLATFORM_NAMES.get(platform, platform),
            "sdk": scenario.sdk or "RelayRTC",
            "sdk_version": version,
            "fixed_version": f"{major}.{minor}.{patch + 1}",
            "users": f"{rng.randrange(3, 120) * 50:,}"
            if lang == cv.EN
            else str(rng.randrange(3, 120) * 50),
            "uids": ", ".join(uids),
            "start": local_start.strftime("%H:%M"),
            "end": local_end.strftime("%H:%M"),
            "day": (
                local_start.strftime("%b %d").replace(" 0", " ")
                if lang == cv.EN
                else f"{local_start.month}月{local_start.day}日"
            ),
            "pct": f"{rng.uniform(3.5, 14):.1f}",
            "rtt": str(rng.randrange(180, 650)),
            "node": f"{region_code}-edge-{rng.randrange(1, 24):02d}",
            "month": cv.MONTHS[lang][month_index],
        }
        if not scenario.sdk:  # billing and account questions: only the app
            return {"app_id": org.app_id}, text, start
        context: dict[str, Any] = {
            "app_id": org.app_id,
            "sdk": scenario.sdk,
            "sdk_version": version,
            "platform": platform,
        }
        if scenario.category != "sdk_integration":
            context |= {
                "channel_name": channel,
                "region": self.world.regions[region_code],
                "affected_user_ids": uids,
                "problem_start": start,
                "problem_end": end if ended else None,
            }
        return context, text, start

    # -- one ticket ----------------------------------------------------------------------

    def simulate(self, a: Arrival) -> None:
        rng = random.Random(a.seed)
        org = a.org
        lang = org.spec.language
        scenario = SCENARIOS[a.scenario]
        requester = rng.choice(org.customers)
        priority = rng.choices(list(scenario.priorities), list(scenario.priorities.values()))[0]
        if priority == "P1" and org.spec.plan == "developer" and rng.random() < 0.6:
            priority = "P2"
        context, text, problem_start = self._context(rng, a, requester, scenario)
        assignee, _ = self._route(rng, org, a.at)

        # What is said: an incident with causes, or a question with its answer.
        if a.scenario in cv.INCIDENTS:
            script: dict[str, Any] = cv.INCIDENTS[a.scenario][lang]
            cause = rng.choice(script["causes"])
        else:
            if a.scenario == "sdk":
                platform = context["platform"]
                topics = cv.SDK_TOPICS[platform][lang]
            elif a.scenario == "billing":
                topics = cv.BILLING_TOPICS[lang]
            else:
                topics = cv.ACCOUNT_TOPICS[lang]
            plan = org.spec.plan
            script = rng.choice([t for t in topics if plan not in t.get("not_for", ())])
            cause = {}

        tags = [*scenario.tags]
        if context.get("platform"):
            tags.append(context["platform"].replace("_", "-"))
        if scenario.network:
            tags.append(_tag(text["carrier"]))
        if (
            scenario.profile == "evening"
            and a.at.astimezone(ZoneInfo(org.spec.timezone)).hour >= 19
        ):
            tags.append("peak-hour")
        if org.row.is_key_account:
            tags.append("key-account")

        subject = cv.pick(rng, script["subject"], text)[:250]
        body_key = "description" if "description" in script else "question"
        description = cv.pick(rng, script[body_key], text)

        roll = rng.random()
        if priority in ("P1", "P2") and roll < 0.05:
            channel, actor = "phone", assignee.row
            description = cv.fill(cv.PHONE_PREFIX[lang], text) + description
        elif roll < 0.35:
            channel, actor = "email", requester
        elif roll < 0.5:
            channel, actor = "api", requester
        else:
            channel, actor = "portal", requester
        email_id = None
        if channel == "email":
            digest = hashlib.sha256(a.seed.encode()).hexdigest()[:24]
            email_id = f"<{digest}@mail.{org.spec.domain}>"
            description = self._with_sign(rng, lang, description, text)

        ticket = services.create_ticket(
            actor=actor,
            requester=requester,
            subject=subject,
            description=description,
            priority=priority,
            category=scenario.category,
            channel=channel,
            tags=tags,
            context=context,
            assignee=assignee.row,
            team=self.world.teams[assignee.spec.team or ""],
            email_message_id=email_id,
            now=a.at,
        )
        self._dated(ticket.pk, a.at)
        s = _State(
            ticket_id=ticket.pk,
            org=org,
            requester=requester,
            assignee=assignee,
            lang=lang,
            priority=priority,
            urgent=priority in ("P1", "P2"),
            ctx=text,
            rng=rng,
            seed=a.seed,
            problem_start=problem_start,
        )
        s.view = ticket  # fresh from create_ticket: no need to read it again
        try:
            if a.scenario in cv.INCIDENTS:
                self._incident(s, a, script, cause, scenario, phone=channel == "phone")
            else:
                self._question(s, a, script)
        except _Later:
            pass
        due = self._view(s).sla_next_event_at
        if due is not None and due <= self.now:  # warnings and breaches up to the present
            self._sweep(self._fetch(ticket.pk), self.now)

    def _fixed(self, s: _State, reply_at: datetime) -> None:
        """A fix message names the time the fix took effect: shortly before it is written."""
        at = max(s.problem_start, reply_at - _minutes(s.rng.uniform(3, 25)))
        s.ctx["end"] = at.astimezone(ZoneInfo(s.org.spec.timezone)).strftime("%H:%M")

    def _with_sign(self, rng: random.Random, lang: str, body: str, text: dict[str, Any]) -> str:
        return body + "\n\n" + cv.pick(rng, cv.CUSTOMER_SIGN[lang], text)

    def _first_reply(self, s: _State, created: datetime, phone: bool) -> tuple[datetime, DemoAgent]:
        t = self._view(s)
        if phone:  # the call itself was the contact; the written summary follows quickly
            when = created + _minutes(s.rng.uniform(2, 9))
        else:
            when = self._staff_time(s, t, "frt", created)
        return when, self._responder(s, when)

    def _breach_review(self, s: _State, when: datetime) -> None:
        t = self._view(s)
        if not (t.frt_breached and s.priority == "P1" and s.rng.random() < 0.6):
            return
        lead = self.world.teams[s.assignee.spec.team or ""].lead
        if lead is None:
            return
        note = cv.pick(s.rng, cv.BREACH_REVIEW, {"priority": s.priority})
        at = when + _minutes(s.rng.uniform(20, 180))
        t = self._advance(s, at)
        services.add_message(t, author=lead, body=note, is_public=False, now=at)
        self._dated(s.ticket_id, at)

    def _incident(
        self,
        s: _State,
        a: Arrival,
        script: dict[str, Any],
        cause: dict[str, Any],
        scenario: Scenario,
        *,
        phone: bool,
    ) -> None:
        rng = s.rng
        generic = cv.GENERIC[s.lang]
        reply_at, agent = self._first_reply(s, a.at, phone)
        if s.urgent and not phone and rng.random() < 0.3:
            update_at = a.at + _minutes(rng.uniform(4, 30))
            if update_at < reply_at - timedelta(minutes=1):
                self._customer_says(
                    s, update_at, self._customer_text(s, rng.choice(script["update"]))
                )
        # Decided up front, so the early internal note does not name a cause that the hold
        # (an SDK defect) contradicts.
        hold = scenario.can_hold and rng.random() < 0.08
        quick_fix = not hold and rng.random() < 0.25
        if quick_fix:
            self._fixed(s, reply_at)
        first = rng.choice(cause["fix"] if quick_fix else script["ask"])
        self._staff_says(
            s, reply_at, agent, self._staff_text(s, agent, first), status=STATUS_PENDING
        )
        last = reply_at
        if not hold and rng.random() < 0.45:
            last = reply_at + _minutes(rng.uniform(2, 25))
            self._staff_says(s, last, agent, cv.pick(rng, cause["note"], s.ctx), public=False)
        self._breach_review(s, reply_at)

        if not quick_fix:
            info_at = self._customer_time(s, last, s.urgent)
            self._customer_says(s, info_at, self._customer_text(s, rng.choice(script["info"])))
            t = self._view(s)
            if hold:
                hold_at = self._staff_time(s, t, "nrt", info_at)
                agent = self._responder(s, hold_at)
                self._staff_says(
                    s,
                    hold_at,
                    agent,
                    self._staff_text(s, agent, rng.choice(generic["hold_public"])),
                    status=STATUS_ON_HOLD,
                )
                self._staff_says(
                    s,
                    hold_at + _minutes(3),
                    agent,
                    cv.pick(rng, generic["hold_note"], s.ctx),
                    public=False,
                )
                release_at = self._next_on_shift(
                    s.assignee, hold_at + timedelta(days=rng.uniform(6, 20))
                )
                agent = self._responder(s, release_at)
                self._staff_says(
                    s,
                    release_at,
                    agent,
                    self._staff_text(s, agent, rng.choice(generic["hold_release"])),
                    status=STATUS_PENDING,
                )
                last = release_at
            else:
                answer_at = self._staff_time(s, t, "nrt", info_at)
                agent = self._responder(s, answer_at)
                if s.urgent and rng.random() < 0.55:
                    self._staff_says(
                        s,
                        answer_at,
                        agent,
                        self._staff_text(s, agent, rng.choice(script["interim"])),
                    )
                    hours = rng.uniform(0.4, 3.0) if s.priority == "P1" else rng.uniform(1, 10)
                    if rng.random() < 0.2:  # a hard one: several teams, a carrier, a vendor
                        hours *= rng.uniform(2.0, 4.0)
                    answer_at = answer_at + timedelta(hours=hours)
                    agent = self._responder(s, answer_at)
                    if rng.random() < 0.5:
                        self._staff_says(
                            s,
                            answer_at - _minutes(5),
                            agent,
                            cv.pick(rng, cause["note"], s.ctx),
                            public=False,
                        )
                self._fixed(s, answer_at)
                self._staff_says(
                    s,
                    answer_at,
                    agent,
                    self._staff_text(s, agent, rng.choice(cause["fix"])),
                    status=STATUS_PENDING,
                )
                last = answer_at
        self._wrap_up(s, last, generic)

    def _question(self, s: _State, a: Arrival, script: dict[str, Any]) -> None:
        rng = s.rng
        reply_at, agent = self._first_reply(s, a.at, phone=False)
        direct = rng.random() < 0.45
        self._staff_says(
            s,
            reply_at,
            agent,
            self._staff_text(s, agent, rng.choice(script["answer"])),
            status=STATUS_SOLVED if direct else STATUS_PENDING,
        )
        self._breach_review(s, reply_at)
        if direct:
            self._close(s, reply_at)
            return
        if rng.random() < 0.8:
            follow_at = self._customer_time(s, reply_at, urgent=False)
            self._customer_says(
                s, follow_at, self._customer_text(s, rng.choice(script["followup"]))
            )
            t = self._view(s)
            final_at = self._staff_time(s, t, "nrt", follow_at, late_factor=0.6)
            agent = self._responder(s, final_at)
            self._staff_says(
                s,
                final_at,
                agent,
                self._staff_text(s, agent, rng.choice(script["final"])),
                status=STATUS_SOLVED,
            )
            self._close(s, final_at)
        else:
            self._solve_silently(s, reply_at, cv.GENERIC[s.lang])

    def _wrap_up(self, s: _State, last: datetime, generic: dict[str, list[str]]) -> None:
        """After a proposed fix: the customer confirms (or goes quiet), the ticket is
        solved, sometimes reopened, and closed a few days later."""
        rng = s.rng
        if rng.random() < 0.78:
            confirm_at = self._customer_time(s, last, urgent=False)
            self._customer_says(
                s, confirm_at, self._customer_text(s, rng.choice(generic["confirm"]))
            )
            t = self._view(s)
            solve_at = self._staff_time(s, t, "nrt", confirm_at, late_factor=0.5)
            agent = self._responder(s, solve_at)
            self._staff_says(
                s,
                solve_at,
                agent,
                self._staff_text(s, agent, rng.choice(generic["solve_after_confirm"])),
                status=STATUS_SOLVED,
            )
        else:
            solve_at = self._solve_silently(s, last, generic, close=False)
        if rng.random() < 0.06:
            reopen_at = solve_at + timedelta(hours=rng.uniform(6, 60))
            again = reopen_at - _minutes(rng.uniform(15, 90))
            s.ctx["start"] = again.astimezone(ZoneInfo(s.org.spec.timezone)).strftime("%H:%M")
            self._customer_says(s, reopen_at, self._customer_text(s, rng.choice(generic["reopen"])))
            t = self._view(s)
            solve_at = self._staff_time(s, t, "nrt", reopen_at)
            agent = self._responder(s, solve_at)
            self._staff_says(
                s,
                solve_at,
                agent,
                self._staff_text(s, agent, rng.choice(generic["reopen_answer"])),
                status=STATUS_SOLVED,
            )
        self._close(s, solve_at)

    def _solve_silently(
        self, s: _State, last: datetime, generic: dict[str, list[str]], close: bool = True
    ) -> datetime:
        when = self._next_on_shift(s.assignee, last + timedelta(days=3, hours=s.rng.uniform(0, 8)))
        agent = self._responder(s, when)
        self._staff_says(
            s,
            when,
            agent,
            self._staff_text(s, agent, s.rng.choice(generic["solve_silent"])),
            status=STATUS_SOLVED,
        )
        if close:
            self._close(s, when)
        return when

    def _close(self, s: _State, solved_at: datetime) -> None:
        when = solved_at + timedelta(days=4, hours=s.rng.uniform(0, 6))
        self._update(s, when, self.world.automation, {"status": "closed"}, "system")
