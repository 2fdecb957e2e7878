"""The console's customer context panel: where the organisation has traffic (the monitoring
footprint: sessions and session-minutes per service × region over the last days), the regions
it uses (home region and those with traffic in that window), and the active incidents that touch it (named as affected, or on a service × region
where it had traffic). Everything is read for one organisation id; nothing of another
organisation can reach the panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone, translation

from relaydesk.core.models import Organisation

FOOTPRINT_DAYS = 7
MAX_ROWS = 12


@dataclass
class Place:
    service: str
    service_name: str
    region: str
    region_name: str
    sessions: int
    minutes: float


def footprint(org_id: int, *, days: int = FOOTPRINT_DAYS, now: datetime | None = None) -> list[Place]:
    """Traffic per service × region over the last ``days`` days, largest first (region totals,
    not the per-carrier breakdown, so nothing is counted twice)."""
    try:
        from relaydesk.monitoring.models import FootprintHour
    except ImportError:  # pragma: no cover - monitoring is another capability
        return []
    since = (now or timezone.now()) - timedelta(days=days)
    rows = (
        FootprintHour.objects.filter(organisation_id=org_id, carrier_key=0, hour__gte=since)
        .values("service__code", "service__name", "region__code", "region__name")
        .annotate(s=Sum("sessions"), m=Sum("minutes"))
        .order_by("-m", "service__code", "region__code")
    )
    return [
        Place(r["service__code"], r["service__name"], r["region__code"], r["region__name"], int(r["s"] or 0), float(r["m"] or 0.0))
        for r in rows
    ]


def regions_used(org: Organisation, places: list[Place]) -> list[str]:
    """The home region first, then the other regions where the footprint has traffic."""
    names = [org.home_region.name]
    for name in sorted({p.region_name for p in places}):
        if name not in names:
            names.append(name)
    return names


def active_incidents(org_id: int, places: list[Place]) -> list[dict[str, Any]]:
    """Active incidents affecting the organisation: listed as affected, or on a service ×
    region where its recent footprint has traffic."""
    try:
        from relaydesk.incidents import lifecycle as lc
        from relaydesk.incidents.models import Incident
        from relaydesk.incidents.text import lang_of, word
    except ImportError:  # pragma: no cover - incidents are another capability
        return []
    where = Q(affected__organisation_id=org_id)
    for p in places:
        where |= Q(service__code=p.service, region__code=p.region)
    lang = lang_of(translation.get_language() or "en")
    found = (
        Incident.objects.filter(where, status__in=lc.ACTIVE_STATUSES)
        .select_related("service", "region")
        .distinct()
        .order_by("-started_at", "-id")[:10]
    )
    return [
        {
            "id": i.pk,
            "title": i.title(lang),
            "service": i.service.name,
            "region": i.region.name,
            "status": word(lang, i.status),
            "impact": word(lang, i.impact),
            "started_at": i.started_at,
        }
        for i in found
    ]


def context(org: Organisation, now: datetime | None = None) -> dict[str, Any]:
    places = footprint(org.pk, now=now)
    return {
        "footprint": places[:MAX_ROWS],
        "footprint_days": FOOTPRINT_DAYS,
        "regions_used": regions_used(org, places),
        "org_incidents": active_incidents(org.pk, places),
    }
