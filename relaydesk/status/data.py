"""What the public status page shows, read from the incidents capability: the component grid,
active incidents and maintenance, 90-day uptime per component, incident history. Only
public fields leave this module (no internal notes, no affected organisations)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from relaydesk.core.models import Region, Service
from relaydesk.incidents import lifecycle as lc
from relaydesk.incidents.models import (
    Component,
    ComponentStatusChange,
    Incident,
    IncidentUpdate,
    Maintenance,
)
from relaydesk.incidents.text import lang_of, word

# The page's own words go through gettext (relaydesk/status/locale); incident and component
# status words are bilingual data of the incidents capability (relaydesk.incidents.text).
UI = {
    "title": _("RelayDesk network status"),
    "all_ok": _("All systems operational"),
    "degraded": _("Some systems are degraded"),
    "outage": _("Partial outage"),
    "major": _("Major outage"),
    "maintenance": _("Maintenance in progress"),
    "uptime": _("Uptime, last 90 days"),
}


def django_language(lang: str) -> str:
    """The Django language code of a status language ("en" or "zh-Hans")."""
    return "zh-hans" if lang == "zh-Hans" else "en"


def text(key: str, lang: str) -> str:
    """One of the page's phrases in ``lang``."""
    with translation.override(django_language(lang)):
        return str(UI[key])


def viewer_zone(value: str | None) -> ZoneInfo | None:
    """The ``?tz=`` time zone, when it names a real IANA zone (else None: UTC is shown)."""
    name = (value or "").strip()
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


COLOURS = {
    lc.OPERATIONAL: "#2f9e44",
    lc.DEGRADED: "#f0b400",
    lc.PARTIAL: "#f76707",
    lc.MAJOR_OUTAGE: "#e03131",
    lc.MAINTENANCE: "#1c7ed6",
}
NO_DATA = "#ced4da"


def pick_language(query: str | None, accept: str | None) -> str:
    """``?lang=`` wins; then the first of Accept-Language that we have; English otherwise."""
    if query:
        return lang_of(query)
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-Hans"
        if tag.startswith("en"):
            return "en"
    return "en"


def overall(statuses: list[str]) -> tuple[str, str]:
    """(indicator, ui key) of the whole page."""
    w = lc.worst(statuses)
    return {
        lc.OPERATIONAL: ("none", "all_ok"),
        lc.MAINTENANCE: ("maintenance", "maintenance"),
        lc.DEGRADED: ("minor", "degraded"),
        lc.PARTIAL: ("major", "outage"),
        lc.MAJOR_OUTAGE: ("critical", "major"),
    }[w]


@dataclass
class Cell:
    service: str
    service_name: str
    region: str
    region_name: str
    status: str
    label: str
    colour: str
    uptime: float | None = None
    days: list[tuple[float, str, str]] = field(default_factory=list)  # uptime, status, date
    svg: str = ""
    uptime_pct: str = ""


def grid(lang: str, with_uptime: bool = True, now: datetime | None = None) -> list[Cell]:
    """Every service × region that has a component (any incident or maintenance ever made
    one), with its status and, optionally, its 90 daily uptime bars."""
    when = now or timezone.now()
    comps = list(Component.objects.select_related("service", "region").order_by("service__code", "region__code"))
    cells = [
        Cell(
            c.service.code, c.service.name, c.region.code, c.region.name, c.status,
            word(lang, c.status), COLOURS[c.status],
        )
        for c in comps
    ]
    if with_uptime and comps:
        today = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        first = today - timedelta(days=89)
        starts = [(first + timedelta(days=i)) for i in range(90)]
        day_starts = [d.timestamp() for d in starts]
        before = dict(
            ComponentStatusChange.objects.filter(at__lt=first)
            .values_list("component_id")
            .annotate(last=Max("id"))
            .values_list("component_id", "last")
        )
        initial = dict(
            ComponentStatusChange.objects.filter(pk__in=list(before.values())).values_list(
                "component_id", "status"
            )
        )
        changes: dict[int, list[tuple[float, str]]] = {}
        for cid, status, at in ComponentStatusChange.objects.filter(at__gte=first).values_list(
            "component_id", "status", "at"
        ).order_by("at", "id"):
            changes.setdefault(cid, []).append((at.timestamp(), status))
        for c, cell in zip(comps, cells, strict=True):
            hist = changes.get(c.pk, [])
            if c.pk in initial:
                hist = [(first.timestamp() - 1, initial[c.pk]), *hist]
            summaries = lc.day_summaries(hist, day_starts)
            # today's bar covers only the part of the day that has passed
            elapsed = (when - today).total_seconds()
            if hist or c.status != lc.OPERATIONAL:
                last = lc.day_summaries(hist, [today.timestamp()], max(elapsed, 1.0))
                summaries[-1] = last[0]
            cell.days = [
                (u, s, d.strftime("%Y-%m-%d")) for (u, s), d in zip(summaries, starts, strict=True)
            ]
            cell.uptime = sum(u for u, _s in summaries) / len(summaries)
    return cells


def bars_svg(cell: Cell, lang: str) -> str:
    """90 bars as inline SVG (no script, no external asset); each has a <title> tooltip."""
    w, gap, h = 6, 2, 28
    label = escape(text("uptime", lang), {'"': "&quot;"})
    parts = [
        f'<svg class="bars" viewBox="0 0 {90 * (w + gap)} {h}" width="100%" height="{h}" '
        f'role="img" aria-label="{label}" preserveAspectRatio="none">'
    ]
    for i, (u, s, d) in enumerate(cell.days):
        colour = COLOURS[s] if s != lc.OPERATIONAL or u >= 1.0 else COLOURS[lc.DEGRADED]
        parts.append(
            f'<rect x="{i * (w + gap)}" y="0" width="{w}" height="{h}" rx="1" fill="{colour}">'
            f"<title>{d}: {u * 100:.2f}% — {word(lang, s)}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def active_incidents(lang: str) -> list[dict[str, Any]]:
    incs = list(
        Incident.objects.filter(status__in=lc.ACTIVE_STATUSES)
        .select_related("service", "region")
        .order_by("-started_at")
    )
    return [incident_public(i, lang) for i in incs]


def incident_public(inc: Incident, lang: str, updates: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": inc.pk,
        "title": inc.title(lang),
        "status": inc.status,
        "status_label": word(lang, inc.status),
        "impact": inc.impact,
        "impact_label": word(lang, inc.impact),
        "colour": COLOURS[inc.impact] if inc.is_active else COLOURS[lc.OPERATIONAL],
        "service": inc.service.code,
        "service_name": inc.service.name,
        "region": inc.region.code,
        "region_name": inc.region.name,
        "carriers": [str(c) for c in inc.carriers],
        "started_at": inc.started_at,
        "resolved_at": inc.resolved_at,
    }
    if updates:
        out["updates"] = [
            {
                "id": u.pk,
                "status": u.status,
                "status_label": word(lang, u.status),
                "body": u.body(lang),
                "created_at": u.created_at,
            }
            for u in IncidentUpdate.objects.filter(incident=inc).order_by("-created_at", "-id")
        ]
    return out


def maintenances(lang: str, now: datetime | None = None) -> list[dict[str, Any]]:
    when = now or timezone.now()
    rows = Maintenance.objects.filter(cancelled_at__isnull=True, ends_at__gt=when).select_related(
        "service", "region"
    )
    return [
        {
            "id": m.pk,
            "title": m.title(lang),
            "body": m.body(lang),
            "service": m.service.code,
            "service_name": m.service.name,
            "region": m.region.code,
            "region_name": m.region.name,
            "starts_at": m.starts_at,
            "ends_at": m.ends_at,
            "state": m.state(when),
            "state_label": word(lang, m.state(when)),
        }
        for m in rows.order_by("starts_at")[:50]
    ]


def history(lang: str, days: int = 90, now: datetime | None = None) -> list[dict[str, Any]]:
    when = now or timezone.now()
    incs = (
        Incident.objects.filter(started_at__gte=when - timedelta(days=days))
        .select_related("service", "region")
        .order_by("-started_at")[:200]
    )
    return [incident_public(i, lang, updates=False) for i in incs]


def known_places() -> tuple[list[Service], list[Region]]:
    return list(Service.objects.all()), list(Region.objects.all())
