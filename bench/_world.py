"""A benchmark world and realistic bulk tickets (needs Django set up; see ``_common``).

``build_world`` creates what a small support organisation has: the shipped SLA policy
(plans × priorities), regions with business calendars (public holidays included), teams with
leads and agents, customer organisations on every plan, customers, tags and API tokens.

``TicketFactory`` makes unsaved ``Ticket`` objects whose columns are what the real code would
have written: the SLA rule is chosen by the real rule matcher, the three clocks are driven
through their life (start, first reply, pause, customer reply, solve, close) by the pure
``relaydesk.domain.clock.Clock`` on the real business calendar, and every warning or breach
whose instant has passed has been swept, exactly as the periodic sweep would have done. So
list and detail queries, and the sweep, see honest data; only the per-ticket side rows
(messages, audit, clock events, e-mail) are not written, which is why the bulk path is fast.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection, transaction

from relaydesk.core.models import ROLE_GROUPS, APIToken, Organisation, Region, Team, User
from relaydesk.domain import clock as clk
from relaydesk.domain.calendar import from_us, to_us
from relaydesk.sla import engine
from relaydesk.sla.defaults import install_default_policy
from relaydesk.sla.models import Plan, SLAPolicy, SLARule
from relaydesk.tickets.models import Tag, Ticket, TicketCounter

H_US = 3_600_000_000
MIN_US = 60_000_000
DAY_US = 24 * H_US

REGIONS = [
    # code, name, country, subdivision, tz, team
    ("sg", "Singapore", "SG", "", "Asia/Singapore", "APAC"),
    ("cn", "Shanghai", "CN", "", "Asia/Shanghai", "APAC"),
    ("de", "Frankfurt", "DE", "HE", "Europe/Berlin", "EMEA"),
    ("us", "Virginia", "US", "VA", "America/New_York", "AMER"),
    ("br", "São Paulo", "BR", "SP", "America/Sao_Paulo", "AMER"),
]
PLAN_MIX = [("enterprise", 4), ("business", 6), ("standard", 8), ("developer", 6)]
PRIORITY_WEIGHTS = [("P1", 4), ("P2", 16), ("P3", 55), ("P4", 25)]
CATEGORIES = ["stream_quality", "connection", "sdk_integration", "billing", "account", "other"]
CATEGORY_WEIGHTS = [30, 25, 20, 8, 7, 10]
CHANNELS = [("portal", 40), ("email", 35), ("api", 20), ("phone", 5)]
PLATFORMS = ["android", "ios", "web", "windows", "macos", "linux", "flutter", "unity"]
# (status, weight, min age, max age): a site with a history, most tickets long closed.
STATUS_MIX = [
    ("new", 5, 0, 2 * DAY_US),
    ("open", 13, H_US, 21 * DAY_US),
    ("pending_customer", 7, 2 * H_US, 21 * DAY_US),
    ("on_hold", 2, DAY_US, 45 * DAY_US),
    ("solved", 18, DAY_US, 30 * DAY_US),
    ("closed", 55, 3 * DAY_US, 365 * DAY_US),
]
TAGS = [
    "jitter",
    "packet-loss",
    "latency",
    "echo",
    "black-screen",
    "join-failure",
    "token-expired",
    "invoice",
    "sdk-upgrade",
    "cdn",
    "recording",
    "webhook",
]
SUBJECTS = [
    "Audio drops for users in {city}",
    "High latency on channel {chan}",
    "Video freezes after 10 minutes on {platform}",
    "Join fails with error 110 on {platform}",
    "Recording missing for channel {chan}",
    "Invoice question for {month}",
    "SDK crash after upgrading to {ver}",
    "Echo on {platform} when headphones are unplugged",
]
CITIES = ["Jakarta", "Manila", "Berlin", "São Paulo", "Dallas", "Shenzhen", "Mumbai", "Lagos"]


@dataclass
class World:
    policy: SLAPolicy
    rules: list[SLARule]
    regions: dict[str, Region]
    teams: dict[str, Team]
    orgs: list[Organisation]
    customers: dict[int, list[User]]  # organisation id -> customers
    agents: dict[str, list[User]]  # team name -> agents
    lead: User
    tags: list[Tag]
    tokens: dict[str, str] = field(default_factory=dict)  # role -> secret
    customer_tokens: list[str] = field(default_factory=list)


def _user(email: str, kind: str, **kw: Any) -> User:
    u = User(username=email, email=email, kind=kind, **kw)
    u.set_unusable_password()  # benches authenticate with API tokens only
    u.save()
    return u


@transaction.atomic
def build_world(n_orgs: int = 24, customers_per_org: int = 3, agents_per_team: int = 4) -> World:
    policy = install_default_policy()
    plans = {p.code: p for p in Plan.objects.all()}
    rules = list(policy.rules.select_related("plan", "calendar").order_by("order"))
    regions: dict[str, Region] = {}
    for code, name, country, subdiv, tz, _team in REGIONS:
        r = Region.objects.create(
            code=code, name=name, country=country, subdivision=subdiv, timezone=tz
        )
        engine.region_calendar(r)
        regions[code] = r
    groups = {role: Group.objects.get_or_create(name=name)[0] for role, name in ROLE_GROUPS.items()}
    teams: dict[str, Team] = {}
    agents: dict[str, list[User]] = {}
    lead = _user("lead@bench.test", User.KIND_STAFF, first_name="Lena", is_staff=True)
    lead.groups.add(groups["lead"])
    for code, _n, _c, _s, tz, team_name in REGIONS:
        if team_name in teams:
            continue
        team = Team.objects.create(name=team_name, region=regions[code], timezone=tz, lead=lead)
        teams[team_name] = team
        agents[team_name] = []
        for i in range(agents_per_team):
            a = _user(f"agent{i}.{team_name.lower()}@bench.test", User.KIND_STAFF, team=team)
            a.groups.add(groups["agent"])
            agents[team_name].append(a)
    lead.team = teams["APAC"]
    lead.save(update_fields=["team"])
    plan_cycle = [code for code, n in PLAN_MIX for _ in range(n)]
    orgs: list[Organisation] = []
    customers: dict[int, list[User]] = {}
    for i in range(n_orgs):
        code, _n, _c, _s, tz, team_name = REGIONS[i % len(REGIONS)]
        org = Organisation.objects.create(
            name=f"Bench Org {i:03d}",
            plan=plans[plan_cycle[i % len(plan_cycle)]],
            home_region=regions[code],
            timezone=tz,
            is_key_account=i % 7 == 0,
            email_domains=[f"org{i}.bench.test"],
        )
        org.support_teams.add(teams[team_name])
        orgs.append(org)
        customers[org.pk] = [
            _user(f"user{j}@org{i}.bench.test", User.KIND_CUSTOMER, organisation=org)
            for j in range(customers_per_org)
        ]
    tags = [Tag.objects.create(name=name) for name in TAGS]
    world = World(policy, rules, regions, teams, orgs, customers, agents, lead, tags)
    world.tokens["lead"] = APIToken.issue(lead, ["tickets:read", "tickets:write"], "bench")[1]
    world.tokens["agent"] = APIToken.issue(
        agents["APAC"][0], ["tickets:read", "tickets:write"], "bench"
    )[1]
    for org in orgs:
        cust = customers[org.pk][0]
        world.customer_tokens.append(
            APIToken.issue(cust, ["tickets:read", "tickets:write"], "bench")[1]
        )
    return world


def _weighted(rng: random.Random, pairs: list[tuple[Any, int]]) -> Any:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


class TicketFactory:
    """Unsaved, realistic tickets for bulk loading (see the module docstring)."""

    def __init__(self, world: World, now: datetime, seed: int = 1) -> None:
        self.world = world
        self.now_us = to_us(now)
        self.rng = random.Random(seed)
        self.dom_rules = [r.as_domain() for r in world.rules]
        self.rule_by_id = {r.pk: r for r in world.rules}
        self.team_of_org = {}
        for org in world.orgs:
            team = org.support_teams.all()[0]
            self.team_of_org[org.pk] = team
        # Business calendars of each region (stored rows and their pure counterparts).
        self.region_cal = {r.pk: r.calendar for r in world.regions.values()}
        self.dom_cal = {r.pk: engine.domain_calendar(r.calendar) for r in world.regions.values()}
        self.text_bytes = 0  # UTF-8 bytes of free text written (subject, description, context)

    # -- helpers -----------------------------------------------------------------------

    def _rule_for(self, org: Organisation, priority: str, category: str, channel: str) -> Any:
        chosen = clk.match_rule(
            self.dom_rules,
            plan=org.plan.code,
            priority=priority,
            category=category,
            channel=channel,
        )
        return None if chosen is None else self.rule_by_id[chosen.id]

    def _calendar(self, rule: SLARule | None, org: Organisation) -> tuple[Any, Any]:
        if rule is None or rule.calendar_mode == "24x7":
            return None, engine.always_open()
        if rule.calendar_mode == "calendar":
            return rule.calendar, engine.domain_calendar(rule.calendar)
        return self.region_cal[org.home_region_id], self.dom_cal[org.home_region_id]

    def _base(self, number: int, org: Organisation, priority: str, created_us: int) -> Ticket:
        rng = self.rng
        category = rng.choices(CATEGORIES, weights=CATEGORY_WEIGHTS)[0]
        channel = _weighted(rng, CHANNELS)
        platform = rng.choice(PLATFORMS)
        chan = f"live-{rng.randrange(10_000):04d}"
        subject = rng.choice(SUBJECTS).format(
            city=rng.choice(CITIES),
            chan=chan,
            platform=platform,
            month="October",
            ver=f"4.{rng.randrange(6)}.{rng.randrange(10)}",
        )
        description = "" if rng.random() < 0.5 else f"Seen since {from_us(created_us):%H:%M} UTC."
        app_id = f"app-{org.pk:03d}-{rng.randrange(50):02d}"
        affected = [f"u{rng.randrange(10**6)}" for _ in range(rng.choice((0, 0, 1, 3)))]
        t = Ticket(
            number=number,
            subject=subject,
            description=description,
            priority=priority,
            category=category,
            channel=channel,
            organisation=org,
            requester=rng.choice(self.world.customers[org.pk]),
            team=self.team_of_org[org.pk],
            app_id=app_id,
            channel_name=chan,
            sdk="rtc-sdk",
            sdk_version=f"4.{rng.randrange(6)}.{rng.randrange(10)}",
            platform=platform,
            region_id=org.home_region_id,
            affected_user_ids=affected,
            created_at=from_us(created_us),
            updated_at=from_us(created_us),
        )
        self.text_bytes += sum(
            len(s.encode())
            for s in (subject, description, app_id, chan, t.sdk, t.sdk_version, platform)
        ) + len(str(affected).encode())
        return t

    # -- tickets -----------------------------------------------------------------------

    def make(self, number: int) -> tuple[Ticket, list[Tag]]:
        """One ticket with a realistic history up to now; returns it and its tags."""
        rng = self.rng
        world = self.world
        org = rng.choice(world.orgs)
        priority = _weighted(rng, PRIORITY_WEIGHTS)
        status, _w, lo, hi = rng.choices(STATUS_MIX, weights=[s[1] for s in STATUS_MIX])[0]
        created = self.now_us - rng.randrange(lo, hi)
        t = self._base(number, org, priority, created)
        rule = self._rule_for(org, priority, t.category, t.channel)
        cal_row, cal = self._calendar(rule, org)
        t.sla_policy = world.policy
        t.sla_rule = rule
        t.sla_calendar = cal_row
        dom = rule.as_domain() if rule else None
        clocks = {
            m: clk.Clock(metric=m, warn_pct=rule.warn_pct if rule else 75) for m in clk.METRICS
        }

        def sweep_to(at: int) -> None:
            for c in clocks.values():
                c.sweep(at)

        def target(metric: str) -> int | None:
            return dom.target_us(metric) if dom else None

        for m in (clk.FIRST_RESPONSE, clk.RESOLUTION):
            clocks[m].start(cal, created, target(m))
        last = created
        agents = world.agents[t.team.name]
        if status != "new":
            # First human reply: usually within target, sometimes late.
            frt_target = target(clk.FIRST_RESPONSE) or 8 * H_US
            reply = cal.add_business_seconds(created, int(frt_target * rng.uniform(0.1, 1.4)))
            reply = min(reply, self.now_us - MIN_US)
            reply = max(reply, created + MIN_US)
            sweep_to(reply)
            clocks[clk.FIRST_RESPONSE].meet(cal, reply, by="message")
            t.assignee = rng.choice(agents)
            last = reply
            span = max(self.now_us - last, MIN_US)
            if status in ("open", "on_hold") and rng.random() < 0.6:
                # The customer answered; the next-response clock runs (or was met again).
                cust = last + rng.randrange(MIN_US, span + MIN_US)
                cust = min(cust, self.now_us - MIN_US // 2)
                sweep_to(cust)
                clocks[clk.NEXT_RESPONSE].start(
                    cal, cust, target(clk.NEXT_RESPONSE), new_cycle=True
                )
                last = cust
            if status == "pending_customer" or (
                status == "on_hold" and rule is not None and rule.pause_on_hold
            ):
                at = last + rng.randrange(0, max(1, (self.now_us - last) // 2))
                sweep_to(at)
                for c in clocks.values():
                    c.pause(cal, at, reason=status)
                last = at
            if status in ("solved", "closed"):
                solved = last + rng.randrange(MIN_US, max(2 * MIN_US, (self.now_us - last) // 2))
                sweep_to(solved)
                clocks[clk.RESOLUTION].meet(cal, solved, by="solved")
                for m in (clk.FIRST_RESPONSE, clk.NEXT_RESPONSE):
                    clocks[m].stop(cal, solved, reason="solved")
                t.solved_at = from_us(solved)
                last = solved
                if status == "closed":
                    closed = solved + rng.randrange(MIN_US, max(2 * MIN_US, self.now_us - solved))
                    closed = min(closed, self.now_us)
                    for c in clocks.values():
                        c.stop(cal, closed, reason="closed")
                    t.closed_at = from_us(closed)
                    last = closed
        elif rng.random() < 0.3:
            t.assignee = rng.choice(agents)
        # What the periodic sweep has done by now.
        sweep_to(self.now_us)
        t.status = status
        t.updated_at = from_us(last)
        engine.clocks_to_ticket(t, clocks)
        tags = rng.sample(world.tags, rng.choice((0, 0, 1, 1, 2)))
        return t, tags

    def make_due(self, number: int, kind: str) -> tuple[Ticket, int]:
        """A new ticket on a 24×7 rule whose first-response warning (``kind='warn'``) or
        warning and breach (``kind='breach'``) instant has passed and was not swept yet.
        Returns the ticket and the number of events one sweep at ``now`` must emit."""
        if kind not in ("warn", "breach"):
            raise ValueError(kind)
        rng = self.rng
        candidates = [
            (org, p)
            for org in self.world.orgs
            for p in ("P1", "P2")
            if (r := self._rule_for(org, p, "connection", "api")) is not None
            and r.calendar_mode == "24x7"
            and r.first_response_minutes
            and r.resolution_minutes
        ]
        org, priority = rng.choice(candidates)
        rule = self._rule_for(org, priority, "connection", "api")
        assert rule is not None
        dom = rule.as_domain()
        frt = dom.target_us(clk.FIRST_RESPONSE) or 0
        warn = frt * rule.warn_pct // 100
        ttr_warn = (dom.target_us(clk.RESOLUTION) or 0) * rule.warn_pct // 100
        if kind == "warn":
            age = warn + rng.randrange(1_000_000, max(2_000_000, (frt - warn) * 9 // 10))
        else:
            age = frt + rng.randrange(1_000_000, max(2_000_000, min(ttr_warn - frt, H_US) // 2))
        created = self.now_us - age
        t = self._base(number, org, priority, created)
        t.category, t.channel, t.status = "connection", "api", "new"
        t.sla_policy, t.sla_rule, t.sla_calendar = self.world.policy, rule, None
        cal = engine.always_open()
        clocks = {m: clk.Clock(metric=m, warn_pct=rule.warn_pct) for m in clk.METRICS}
        for m in (clk.FIRST_RESPONSE, clk.RESOLUTION):
            clocks[m].start(cal, created, dom.target_us(m))
        engine.clocks_to_ticket(t, clocks)
        expected = sum(len(c.sweep(self.now_us)) for c in copy.deepcopy(clocks).values())
        return t, expected


def set_counter(value: int) -> None:
    """Move the human ticket number counter past bulk-loaded numbers."""
    TicketCounter.objects.update_or_create(pk=1, defaults={"value": value})


def max_number() -> int:
    last = Ticket.objects.order_by("-number").values_list("number", flat=True).first()
    return int(last or 1000)


def _columns() -> list[Any]:
    return [f for f in Ticket._meta.concrete_fields if not f.primary_key]


def _row_converter() -> Any:
    """A fast ``Ticket -> tuple`` for raw inserts, equivalent to what ``bulk_create`` sends
    (Django's per-value preparation costs more than the insert itself)."""
    fields = _columns()
    sqlite = connection.vendor == "sqlite"
    convs: list[Any] = []
    for f in fields:
        kind = f.get_internal_type()
        if kind == "JSONField":
            convs.append(lambda v: json.dumps(v))
        elif kind == "DateTimeField" and sqlite:
            # Django's SQLite adapter: naive UTC, str() of the datetime.
            convs.append(
                lambda v: None if v is None else str(v.astimezone(UTC).replace(tzinfo=None))
            )
        else:
            convs.append(None)
    names = [f.attname for f in fields]
    pairs = list(zip(names, convs, strict=True))

    def convert(t: Ticket) -> tuple[Any, ...]:
        d = t.__dict__
        return tuple(d[n] if c is None else c(d[n]) for n, c in pairs)

    return convert


def insert_tickets(rows: list[tuple[Ticket, list[Tag]]]) -> None:
    """Insert tickets (numbers must be unused) and their tag links in one transaction: COPY on
    PostgreSQL, one multi-row statement batch on SQLite. Sets ``pk`` on the objects."""
    if not rows:
        return
    fields = _columns()
    table = Ticket._meta.db_table
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    convert = _row_converter()
    numbers = [t.number for t, _ in rows]
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
                for t, _ in rows:
                    cp.write_row(convert(t))
        else:
            marks = ", ".join(["%s"] * len(fields))
            cur.executemany(
                f"INSERT INTO {table} ({cols}) VALUES ({marks})", [convert(t) for t, _ in rows]
            )
        ids = dict(
            Ticket.objects.filter(number__gte=min(numbers), number__lte=max(numbers)).values_list(
                "number", "pk"
            )
        )
        for t, _ in rows:
            t.pk = ids[t.number]
        through = Ticket.tags.through
        links = [through(ticket_id=t.pk, tag_id=tag.pk) for t, tags in rows for tag in tags]
        through.objects.bulk_create(links, batch_size=2000)


def bulk_load(factory: TicketFactory, n: int, start_number: int, batch: int = 5000) -> int:
    """Insert ``n`` realistic tickets numbered from ``start_number`` (with their tag links)
    and move the ticket counter past them; returns the last number used."""
    number = start_number
    done = 0
    while done < n:
        size = min(batch, n - done)
        insert_tickets([factory.make(number + i) for i in range(size)])
        number += size
        done += size
    set_counter(number - 1)
    return number - 1


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
