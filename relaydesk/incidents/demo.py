"""The demo world's status-page components: every service in every region, operational for
the last 90 days (so the uptime bars have a history), before the live feed degrades one."""

from __future__ import annotations

from datetime import datetime, timedelta

from relaydesk.core.models import Region, Service

from . import lifecycle as lc
from .models import Component, ComponentStatusChange


def load(seed: int, now: datetime) -> str:
    since = now - timedelta(days=90)
    created = 0
    for service in Service.objects.all():
        for region in Region.objects.all():
            comp, new = Component.objects.get_or_create(
                service=service,
                region=region,
                defaults={"status": lc.OPERATIONAL, "updated_at": since},
            )
            if new:
                ComponentStatusChange.objects.create(
                    component=comp, status=lc.OPERATIONAL, at=since
                )
                created += 1
    return (
        f"{created} status-page components (service × region), operational since {since:%Y-%m-%d}"
    )
