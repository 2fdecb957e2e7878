"""The demo world: regions with business calendars, services, plans, teams, staff and
customer organisations. Everything is fixed data (names, shifts, languages), so building
it twice gives the same world; only ticket history (``history.py``) uses the seed.

All e-mail addresses use the reserved ``.example`` top-level domain: nothing here can
reach a real mailbox.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from relaydesk.core.models import (
    ROLE_ADMIN,
    ROLE_AGENT,
    ROLE_GROUPS,
    ROLE_LEAD,
    Organisation,
    Region,
    Service,
    Team,
    User,
)
from relaydesk.sla.defaults import install_default_policy
from relaydesk.sla.models import BusinessCalendar, Plan

PASSWORD = "relaydesk-demo"  # noqa: S105 - the published password of the local demo
STAFF_DOMAIN = "relaydesk.example"
ADMIN_EMAIL = f"admin@{STAFF_DOMAIN}"
AUTOMATION_EMAIL = f"automation@{STAFF_DOMAIN}"
LOGIN_LEAD = f"lena@{STAFF_DOMAIN}"
LOGIN_AGENT = f"mei@{STAFF_DOMAIN}"
LOGIN_CUSTOMER = "darren.lim@nimbuslive.example"
LOGIN_CUSTOMER_ZH = "wang.lei@starriver.example"

WEEKDAYS_MON_FRI = {
    "mon": ["09:00-18:00"],
    "tue": ["09:00-18:00"],
    "wed": ["09:00-18:00"],
    "thu": ["09:00-18:00"],
    "fri": ["09:00-18:00"],
}


# -- regions and services -----------------------------------------------------------------


@dataclass(frozen=True)
class RegionSpec:
    code: str
    name: str
    country: str
    subdivision: str
    timezone: str
    carriers: tuple[str, ...]
    note: str = ""


REGIONS = [
    RegionSpec("sg", "Singapore", "SG", "", "Asia/Singapore", ("Singtel", "StarHub", "M1")),
    RegionSpec("id", "Jakarta", "ID", "", "Asia/Jakarta", ("Telkomsel", "Indosat", "XL")),
    RegionSpec(
        "de", "Frankfurt", "DE", "HE", "Europe/Berlin", ("Deutsche Telekom", "Vodafone", "O2")
    ),
    RegionSpec("br", "São Paulo", "BR", "SP", "America/Sao_Paulo", ("Vivo", "Claro", "TIM")),
    RegionSpec("us", "Virginia", "US", "VA", "America/New_York", ("Verizon", "AT&T", "T-Mobile")),
    RegionSpec(
        "ae",
        "Dubai",
        "AE",
        "",
        "Asia/Dubai",
        ("e&", "du", "STC", "Mobily"),
        note="The UAE moved to a Monday–Friday working week in January 2022.",
    ),
]

SERVICES = [
    ("rtc", "Real-time audio & video", "1-on-1 and group calls, voice rooms, co-hosting."),
    ("live-delivery", "Live-streaming delivery", "Edge delivery of live shows to large audiences."),
    ("signalling", "Signalling", "Real-time messaging: invitations, room state, gifts and chat."),
    (
        "cloud-recording",
        "Cloud recording",
        "Server-side recording of channels to the customer's storage.",
    ),
]


# -- staff ------------------------------------------------------------------------------------

DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def _days(spec: str) -> frozenset[int]:
    """'mon-fri' or 'sat' or 'tue-sat' -> weekday numbers."""
    if "-" in spec:
        a, b = (DAYS[p] for p in spec.split("-"))
        return frozenset(range(a, b + 1))
    return frozenset({DAYS[spec]})


@dataclass(frozen=True)
class StaffSpec:
    key: str  # e-mail local part
    first: str
    last: str
    role: str
    team: str | None
    timezone: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    shifts: tuple[tuple[str, int, int], ...] = ()  # (days, start hour, end hour) local

    @property
    def email(self) -> str:
        return f"{self.key}@{STAFF_DOMAIN}"

    def on_shift(self, t: datetime) -> bool:
        local = t.astimezone(ZoneInfo(self.timezone))
        return any(
            local.weekday() in _days(days) and start <= local.hour < end
            for days, start, end in self.shifts
        )


@dataclass(frozen=True)
class TeamSpec:
    name: str
    region: str
    timezone: str
    languages: tuple[str, ...]


TEAMS = [
    TeamSpec("APAC", "sg", "Asia/Singapore", ("en", "zh-Hans", "id", "ms")),
    TeamSpec("EMEA", "de", "Europe/Berlin", ("en", "de", "ar", "zh-Hans")),
    TeamSpec("Americas", "br", "America/Sao_Paulo", ("en", "pt", "es", "zh-Hans")),
]
TEAM_OF_REGION = {
    "sg": "APAC",
    "id": "APAC",
    "de": "EMEA",
    "ae": "EMEA",
    "br": "Americas",
    "us": "Americas",
}

# Tables of fixed data: one row a line reads better than one field a line.
# fmt: off
STAFF = [
    # APAC — Singapore
    StaffSpec("lena", "Lena", "Koh", ROLE_LEAD, "APAC", "Asia/Singapore", ("en", "zh-Hans", "ms"),
              ("escalation", "live-streaming", "rtc"), (("mon-fri", 9, 18),)),
    StaffSpec("mei", "Mei", "Tan", ROLE_AGENT, "APAC", "Asia/Singapore", ("en", "zh-Hans"),
              ("rtc", "live-streaming", "android", "ios"), (("mon-fri", 12, 21),)),
    StaffSpec("wei", "Wei", "Zhang", ROLE_AGENT, "APAC", "Asia/Shanghai", ("zh-Hans", "en"),
              ("web", "electron", "billing", "live-streaming"), (("mon-fri", 9, 18), ("sun", 13, 21))),
    StaffSpec("putri", "Putri", "Hidayat", ROLE_AGENT, "APAC", "Asia/Jakarta", ("en", "id"),
              ("networking", "android", "flutter"), (("mon-fri", 8, 17), ("sat", 10, 18))),
    StaffSpec("arjun", "Arjun", "Nair", ROLE_AGENT, "APAC", "Asia/Singapore", ("en", "hi"),
              ("unity", "ios", "cloud-recording"), (("tue-sat", 10, 19),)),
    # EMEA — Frankfurt (and Dubai)
    StaffSpec("katrin", "Katrin", "Vogel", ROLE_LEAD, "EMEA", "Europe/Berlin", ("en", "de"),
              ("escalation", "networking"), (("mon-fri", 9, 18),)),
    StaffSpec("jonas", "Jonas", "Weber", ROLE_AGENT, "EMEA", "Europe/Berlin", ("en", "de"),
              ("web", "electron", "live-streaming"), (("mon-fri", 7, 16),)),
    StaffSpec("yue", "Yue", "Liu", ROLE_AGENT, "EMEA", "Europe/Berlin", ("en", "zh-Hans", "de"),
              ("ios", "flutter", "unity"), (("mon-fri", 10, 19),)),
    StaffSpec("fatima", "Fatima", "Al Mansoori", ROLE_AGENT, "EMEA", "Asia/Dubai", ("en", "ar"),
              ("rtc", "android", "billing"), (("mon-fri", 9, 18), ("sat", 10, 16))),
    StaffSpec("omar", "Omar", "Farouk", ROLE_AGENT, "EMEA", "Asia/Dubai", ("ar", "en"),
              ("networking", "live-streaming"), (("mon-fri", 15, 24),)),
    # Americas — São Paulo (and New York)
    StaffSpec("rafael", "Rafael", "Costa", ROLE_LEAD, "Americas", "America/Sao_Paulo", ("pt", "en", "es"),
              ("escalation", "live-streaming"), (("mon-fri", 9, 18),)),
    StaffSpec("camila", "Camila", "Souza", ROLE_AGENT, "Americas", "America/Sao_Paulo", ("pt", "en", "es"),
              ("android", "web", "cloud-recording"), (("mon-fri", 9, 18), ("sun", 10, 18))),
    StaffSpec("diego", "Diego", "Ramírez", ROLE_AGENT, "Americas", "America/Sao_Paulo", ("es", "pt", "en"),
              ("networking", "unity"), (("mon-fri", 14, 23),)),
    StaffSpec("ethan", "Ethan", "Brooks", ROLE_AGENT, "Americas", "America/New_York", ("en",),
              ("ios", "electron", "billing"), (("mon-fri", 9, 18), ("sat", 10, 16))),
    StaffSpec("ana", "Ana", "Li", ROLE_AGENT, "Americas", "America/New_York", ("en", "zh-Hans", "es"),
              ("flutter", "rtc"), (("mon-fri", 12, 21),)),
    # Administration
    StaffSpec("admin", "Ada", "Okafor", ROLE_ADMIN, None, "Europe/London", ("en",), ("administration",)),
]
# fmt: on


# -- customers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgSpec:
    name: str
    app: str  # how the customer calls its app in conversation
    slug: str
    kind: str  # live | social | edtech | gaming | voice | fitness
    plan: str
    region: str
    language: str
    timezone: str
    weight: int  # relative ticket volume
    people: tuple[tuple[str, str, str], ...]  # (first, last, e-mail local part)
    manager: str | None = None  # staff key of the named account manager
    platforms: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()  # other regions with traffic

    @property
    def domain(self) -> str:
        return f"{self.slug}.example"


KIND_PLATFORMS = {
    "live": ("android", "ios", "web"),
    "social": ("android", "ios", "flutter"),
    "edtech": ("web", "electron", "ios", "android"),
    "gaming": ("unity", "android", "ios"),
    "voice": ("android", "ios", "flutter"),
    "fitness": ("ios", "web", "android", "react_native"),
}

# fmt: off
ORGS = [
    OrgSpec("Nimbus Live", "Nimbus Live", "nimbuslive", "live", "enterprise", "sg", "en", "Asia/Singapore", 10,
            (("Darren", "Lim", "darren.lim"), ("Priya", "Raman", "priya"), ("Marcus", "Tan", "marcus.tan")),
            manager="mei", markets=("id", "ae")),
    OrgSpec("KiteChat", "KiteChat", "kitechat", "social", "business", "id", "en", "Asia/Jakarta", 7,
            (("Rizky", "Pratama", "rizky"), ("Sari", "Wulandari", "sari")), markets=("sg",)),
    OrgSpec("Lumen Academy", "Lumen", "lumenacademy", "edtech", "standard", "us", "en", "America/New_York", 4,
            (("Megan", "Carter", "megan"), ("Josh", "Rivera", "josh.rivera"))),
    OrgSpec("Arcade Forge", "Arcade Forge", "arcadeforge", "gaming", "business", "de", "en", "Europe/Berlin", 5,
            (("Lukas", "Becker", "lukas"), ("Hannah", "Schmidt", "hannah")), markets=("us", "br")),
    OrgSpec("Samba Stream", "Samba Stream", "sambastream", "live", "enterprise", "br", "en", "America/Sao_Paulo", 9,
            (("Thiago", "Oliveira", "thiago"), ("Juliana", "Santos", "juliana"), ("Bruno", "Almeida", "bruno")),
            manager="camila", markets=("us",)),
    OrgSpec("Oasis Voice", "Oasis", "oasisvoice", "voice", "enterprise", "ae", "en", "Asia/Dubai", 8,
            (("Khalid", "Al Hashimi", "khalid"), ("Noura", "Saeed", "noura")), manager="fatima", markets=("de",)),
    OrgSpec("Pelican Tutors", "Pelican", "pelicantutors", "edtech", "developer", "us", "en", "America/New_York", 2,
            (("Ryan", "Mitchell", "ryan"),)),
    OrgSpec("FrameRate Esports", "FrameRate", "framerate", "live", "standard", "de", "en", "Europe/Berlin", 4,
            (("Felix", "Wagner", "felix"), ("Sophie", "Klein", "sophie"))),
    OrgSpec("Batik Social", "Batik", "batiksocial", "social", "standard", "id", "en", "Asia/Jakarta", 4,
            (("Dewi", "Lestari", "dewi"), ("Agus", "Setiawan", "agus"))),
    OrgSpec("Dune Meet", "Dune Meet", "dunemeet", "social", "developer", "ae", "en", "Asia/Dubai", 2,
            (("Omar", "Haddad", "omar.haddad"),)),
    OrgSpec("Carnaval Party", "Carnaval", "carnavalparty", "voice", "standard", "br", "en", "America/Sao_Paulo", 4,
            (("Larissa", "Costa", "larissa"), ("Pedro", "Lima", "pedro"))),
    OrgSpec("Harbor Fitness Live", "Harbor Fitness", "harborfitness", "fitness", "business", "us", "en",
            "America/New_York", 5, (("Ashley", "Brooks", "ashley"), ("Kevin", "Nguyen", "kevin")), markets=("br",)),
    OrgSpec("Merlion Match", "Merlion Match", "merlionmatch", "social", "standard", "sg", "en", "Asia/Singapore", 3,
            (("Jia Hui", "Ong", "jiahui"),)),
    OrgSpec("星河互娱 StarRiver Live", "星河直播", "starriver", "live", "enterprise", "sg", "zh-Hans", "Asia/Shanghai", 10,
            (("王磊", "", "wang.lei"), ("陈静", "", "chen.jing"), ("刘洋", "", "liu.yang")),
            manager="wei", markets=("id", "ae")),
    OrgSpec("遇见 Meetu", "遇见", "meetu", "social", "business", "id", "zh-Hans", "Asia/Shanghai", 7,
            (("赵敏", "", "zhao.min"), ("孙浩", "", "sun.hao")), markets=("sg",)),
    OrgSpec("沙漠之声 DuneVox", "沙漠之声", "dunevox", "voice", "business", "ae", "zh-Hans", "Asia/Dubai", 6,
            (("马超", "", "ma.chao"), ("何雪", "", "he.xue"))),
    OrgSpec("乐学课堂 LeXue Classroom", "乐学课堂", "lexue", "edtech", "standard", "sg", "zh-Hans", "Asia/Shanghai", 4,
            (("周婷", "", "zhou.ting"), ("吴斌", "", "wu.bin"))),
    OrgSpec("火箭电竞 RocketPlay", "火箭电竞", "rocketplay", "gaming", "standard", "de", "zh-Hans", "Europe/Berlin", 3,
            (("郑凯", "", "zheng.kai"),)),
    OrgSpec("桑巴派对 SambaParty", "桑巴派对", "sambaparty", "voice", "business", "br", "zh-Hans", "America/Sao_Paulo", 5,
            (("林峰", "", "lin.feng"), ("黄蕾", "", "huang.lei"))),
    OrgSpec("青柠视频 LimeVideo", "青柠视频", "limevideo", "social", "developer", "us", "zh-Hans", "America/Los_Angeles", 2,
            (("徐晨", "", "xu.chen"),)),
    OrgSpec("云端K歌 CloudKTV", "云端K歌", "cloudktv", "live", "standard", "id", "zh-Hans", "Asia/Jakarta", 4,
            (("高远", "", "gao.yuan"), ("罗丹", "", "luo.dan"))),
    OrgSpec("拾光约 Glimmer", "拾光约", "glimmer", "social", "enterprise", "ae", "zh-Hans", "Asia/Shanghai", 8,
            (("杨帆", "", "yang.fan"), ("朱莉", "", "zhu.li"), ("韩冰", "", "han.bing")),
            manager="yue", markets=("sg", "id")),
    OrgSpec("小鹿互动 FawnPlay", "小鹿互动", "fawnplay", "gaming", "developer", "sg", "zh-Hans", "Asia/Shanghai", 2,
            (("唐宁", "", "tang.ning"),)),
    OrgSpec("晨光健身 DawnFit", "晨光健身", "dawnfit", "fitness", "standard", "us", "zh-Hans", "America/New_York", 2,
            (("邓琳", "", "deng.lin"),)),
]
# fmt: on


# -- the built world (database rows plus the specs they came from) -----------------------------


@dataclass
class DemoOrg:
    spec: OrgSpec
    row: Organisation
    customers: list[User]
    app_id: str
    platforms: tuple[str, ...]


@dataclass
class DemoAgent:
    spec: StaffSpec
    row: User


@dataclass
class World:
    regions: dict[str, Region] = field(default_factory=dict)
    region_specs: dict[str, RegionSpec] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    staff: dict[str, DemoAgent] = field(default_factory=dict)
    orgs: list[DemoOrg] = field(default_factory=list)
    automation: User | None = None

    @property
    def agents(self) -> list[DemoAgent]:
        """Staff who answer tickets: the agents of the three teams (leads supervise)."""
        return [
            a for a in self.staff.values() if a.spec.team is not None and a.spec.role == ROLE_AGENT
        ]


def is_loaded() -> bool:
    """A finished demo load leaves its admin behind (the load is one transaction)."""
    return User.objects.filter(email__iexact=ADMIN_EMAIL).exists()


def _app_id(seed: int, slug: str) -> str:
    return hashlib.sha256(f"relaydesk-demo:{seed}:{slug}".encode()).hexdigest()[:32]


def _calendar(spec: RegionSpec) -> BusinessCalendar:
    name = f"{spec.name} business hours"
    cal, _ = BusinessCalendar.objects.get_or_create(
        name=name,
        defaults={
            "spec": {
                "tz": spec.timezone,
                "hours": WEEKDAYS_MON_FRI,
                "holidays": {"country": spec.country, "subdiv": spec.subdivision or None},
                "name": name,
            },
            "description": (
                f"Monday–Friday 09:00–18:00 {spec.timezone}, public holidays of {spec.country}"
                + (f"-{spec.subdivision}" if spec.subdivision else "")
                + (f". {spec.note}" if spec.note else "")
            ),
        },
    )
    return cal


def build(seed: int) -> World:
    """Create (or find) every row of the world. Call inside a transaction."""
    w = World()
    for spec in REGIONS:
        region, _ = Region.objects.get_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "country": spec.country,
                "subdivision": spec.subdivision,
                "timezone": spec.timezone,
            },
        )
        if region.calendar_id is None:
            region.calendar = _calendar(spec)
            region.save(update_fields=["calendar"])
        w.regions[spec.code] = region
        w.region_specs[spec.code] = spec
    for code, name, description in SERVICES:
        Service.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )
    install_default_policy()
    w.plans = {p.code: p for p in Plan.objects.all()}

    groups = {role: Group.objects.get_or_create(name=name)[0] for role, name in ROLE_GROUPS.items()}
    for ts in TEAMS:
        team, _ = Team.objects.get_or_create(
            name=ts.name,
            defaults={
                "region": w.regions[ts.region],
                "timezone": ts.timezone,
                "languages": list(ts.languages),
                "email": f"{ts.name.lower()}@{STAFF_DOMAIN}",
            },
        )
        w.teams[ts.name] = team

    # One password hash for every demo login: hashing dozens of times with Argon2 would
    # cost seconds for nothing.
    password = make_password(PASSWORD)
    for ss in STAFF:
        user, created = User.objects.get_or_create(
            email=ss.email,
            defaults={
                "username": ss.email,
                "first_name": ss.first,
                "last_name": ss.last,
                "kind": User.KIND_STAFF,
                "team": w.teams[ss.team] if ss.team else None,
                "timezone": ss.timezone,
                "language": "zh-Hans" if ss.languages[0] == "zh-Hans" else "en",
                "languages": list(ss.languages),
                "skills": list(ss.skills),
                "is_staff": ss.role in (ROLE_LEAD, ROLE_ADMIN),
                "is_superuser": ss.role == ROLE_ADMIN,
                "password": password,
            },
        )
        if created:
            user.groups.add(groups[ss.role])
        w.staff[ss.key] = DemoAgent(ss, user)
        if ss.role == ROLE_LEAD and ss.team and w.teams[ss.team].lead_id is None:
            team = w.teams[ss.team]
            team.lead = user
            team.save(update_fields=["lead"])

    w.automation, _ = User.objects.get_or_create(
        email=AUTOMATION_EMAIL,
        defaults={
            "username": AUTOMATION_EMAIL,
            "first_name": "RelayDesk",
            "last_name": "automation",
            "kind": User.KIND_SYSTEM,
            "password": make_password(None),
        },
    )

    for os_ in ORGS:
        manager = w.staff[os_.manager].row if os_.manager else None
        org, created = Organisation.objects.get_or_create(
            name=os_.name,
            defaults={
                "plan": w.plans[os_.plan],
                "home_region": w.regions[os_.region],
                "language": os_.language,
                "timezone": os_.timezone,
                "is_key_account": manager is not None,
                "account_manager": manager,
                "email_domains": [os_.domain],
            },
        )
        if created:
            org.support_teams.add(w.teams[TEAM_OF_REGION[os_.region]])
        customers = []
        for first, last, local in os_.people:
            email = f"{local}@{os_.domain}"
            user, _ = User.objects.get_or_create(
                email=email,
                defaults={
                    "username": email,
                    "first_name": first,
                    "last_name": last,
                    "kind": User.KIND_CUSTOMER,
                    "organisation": org,
                    "language": os_.language,
                    "timezone": os_.timezone,
                    "password": password,
                },
            )
            customers.append(user)
        w.orgs.append(
            DemoOrg(
                spec=os_,
                row=org,
                customers=customers,
                app_id=_app_id(seed, os_.slug),
                platforms=os_.platforms or KIND_PLATFORMS[os_.kind],
            )
        )
    return w
