"""The only writer of incidents: open, update (lifecycle), component status, who is affected.

Every change runs in one transaction with its consequences: the timeline row, the
component status and its history, the affected organisations, and the notice outbox rows
for every recipient (``notices.fan_out``). A caller that fails half-way writes nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from relaydesk.core.models import Organisation, Region, Service, User

from . import lifecycle as lc
from .models import (
    AffectedOrganisation,
    Component,
    ComponentStatusChange,
    Incident,
    IncidentUpdate,
    Maintenance,
)

log = logging.getLogger(__name__)


class IncidentError(Exception):
    """A refused change: ``status`` 422 (bad input, names ``field``) or 409 (conflict)."""

    def __init__(self, message: str, *, status: int = 422, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


def conf(name: str, default: float) -> float:
    """A number from Django settings, else from the environment, else ``default``."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


# Organisations whose footprint in the place during [start - LOOKBACK, now] is at least
# MIN_SHARE of the place's traffic, or at least MIN_EXPOSURE of their own traffic on the
# service, are affected (either suffices: a small customer that lives in the place counts).
def lookback() -> timedelta:
    return timedelta(hours=conf("RELAYDESK_INCIDENT_LOOKBACK_HOURS", 3))


# Hooks routing may add: called with (incident, organisation, account_manager) inside the
# transaction that first finds a key account affected (e.g. to page the manager).
key_account_hooks: list[Callable[[Incident, Organisation, User], None]] = []


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _service(value: Service | str | int, field: str = "service") -> Service:
    if isinstance(value, Service):
        return value
    found = (
        Service.objects.filter(pk=value).first()
        if isinstance(value, int)
        else Service.objects.filter(code=value).first()
    )
    if found is None:
        raise IncidentError(f"unknown service {value!r}", field=field)
    return found


def _region(value: Region | str | int, field: str = "region") -> Region:
    if isinstance(value, Region):
        return value
    found = (
        Region.objects.filter(pk=value).first()
        if isinstance(value, int)
        else Region.objects.filter(code=value).first()
    )
    if found is None:
        raise IncidentError(f"unknown region {value!r}", field=field)
    return found


# -- components -------------------------------------------------------------------------------


def component(service: Service, region: Region, *, lock: bool = False) -> Component:
    """The component of a place (created operational on first use); ``lock`` takes its row
    lock, which serialises every incident change in that place (one incident per problem)."""
    comp, _ = Component.objects.get_or_create(service=service, region=region)
    if lock:
        comp = Component.objects.select_for_update().get(pk=comp.pk)
    return comp


def recompute_component(service_id: int, region_id: int, now: datetime | None = None) -> str:
    """Set the component's status to the worst impact of its active incidents and any
    maintenance in progress; log a change when it differs."""
    when = _now(now)
    impacts = list(
        Incident.objects.filter(
            service_id=service_id, region_id=region_id, status__in=lc.ACTIVE_STATUSES
        ).values_list("impact", flat=True)
    )
    if Maintenance.objects.filter(
        service_id=service_id,
        region_id=region_id,
        cancelled_at__isnull=True,
        starts_at__lte=when,
        ends_at__gt=when,
    ).exists():
        impacts.append(lc.MAINTENANCE)
    new = lc.worst(impacts)
    comp, _ = Component.objects.get_or_create(service_id=service_id, region_id=region_id)
    if comp.status != new:
        Component.objects.filter(pk=comp.pk).update(status=new, updated_at=when)
        ComponentStatusChange.objects.create(component=comp, status=new, at=when)
    return new


# -- affected organisations ----------------------------------------------------------------


@dataclass(frozen=True)
class Affected:
    organisation_id: int
    share: float
    sessions: int
    is_key_account: bool


def find_affected(
    incident: Incident, now: datetime | None = None
) -> list[Affected]:
    """Organisations with traffic in the incident's place (and carriers, when named) in the
    hours before it started until now, above the thresholds; key accounts first, then by
    traffic share."""
    from relaydesk.monitoring.footprint import affected_organisations

    when = _now(now)
    start = min(incident.started_at, when) - lookback()
    min_share = conf("RELAYDESK_INCIDENT_MIN_SHARE", 0.001)
    min_exposure = conf("RELAYDESK_INCIDENT_MIN_EXPOSURE", 0.05)
    carriers: list[str | None] = [str(c) for c in incident.carriers] or [None]
    found: dict[int, Affected] = {}
    for carrier in carriers:
        try:
            rows = affected_organisations(
                incident.service_id, incident.region_id, start, when, carrier=carrier
            )
        except LookupError:  # a carrier we have no topology for: the region as a whole
            rows = affected_organisations(incident.service_id, incident.region_id, start, when)
        for r in rows:
            if r.share < min_share and r.exposure < min_exposure:
                continue
            prev = found.get(r.organisation_id)
            if prev is None or r.share > prev.share:
                found[r.organisation_id] = Affected(
                    r.organisation_id, r.share, r.sessions, r.is_key_account
                )
    return sorted(
        found.values(), key=lambda a: (not a.is_key_account, -a.share, a.organisation_id)
    )


def _add_affected(
    incident: Incident, extra_org_ids: Iterable[int] = (), now: datetime | None = None
) -> int:
    """Record organisations newly found affected (never removes one); returns how many."""
    when = _now(now)
    known = set(
        AffectedOrganisation.objects.filter(incident=incident).values_list(
            "organisation_id", flat=True
        )
    )
    rows: list[tuple[int, float, int, bool]] = []
    for a in find_affected(incident, when):
        if a.organisation_id not in known:
            known.add(a.organisation_id)
            rows.append((a.organisation_id, a.share, a.sessions, a.is_key_account))
    extra = sorted(set(extra_org_ids) - known)
    if extra:
        keys = dict(
            Organisation.objects.filter(pk__in=extra).values_list("pk", "is_key_account")
        )
        missing = sorted(set(extra) - set(keys))
        if missing:
            raise IncidentError(
                f"unknown organisation(s) {', '.join(map(str, missing))}", field="organisations"
            )
        rows += [(o, 0.0, 0, keys[o]) for o in extra]
    from .notices import adapt_dt, insert_rows

    at = adapt_dt(when)
    insert_rows(
        AffectedOrganisation,
        ["incident_id", "organisation_id", "share", "sessions", "is_key_account", "added_at",
         "manager_told_at"],
        [(incident.pk, o, share, sessions, key, at, None) for o, share, sessions, key in rows],
    )
    return len(rows)


def _tell_account_managers(incident: Incident, now: datetime) -> None:
    """E-mail the account manager of each newly affected key account (and run the pager
    hooks), once per incident and organisation."""
    from relaydesk.notify.outbox import build_email, queue_emails

    from .text import t

    rows = list(
        AffectedOrganisation.objects.filter(
            incident=incident,
            is_key_account=True,
            manager_told_at__isnull=True,
            organisation__account_manager__isnull=False,
        ).select_related("organisation__account_manager")
    )
    if not rows:
        return
    by_manager: dict[int, list[AffectedOrganisation]] = {}
    for row in rows:
        manager = row.organisation.account_manager
        assert manager is not None
        by_manager.setdefault(manager.pk, []).append(row)
        for hook in key_account_hooks:
            hook(incident, row.organisation, manager)
    mails = []
    url = f"{settings.RELAYDESK_BASE_URL}/admin/incidents/incident/{incident.pk}/change/"
    for group in by_manager.values():
        manager = group[0].organisation.account_manager
        assert manager is not None
        parts = []
        for row in group:
            fmt = {
                "org": row.organisation.name,
                "id": incident.pk,
                "title": incident.title_en,
                "service": incident.service.name,
                "region": incident.region.name,
                "severity": incident.severity,
                "share": row.share,
                "url": url,
            }
            parts.append(t("en", "manager_body").format(**fmt))
        names = ", ".join(r.organisation.name for r in group[:3])
        more = f" and {len(group) - 3} more" if len(group) > 3 else ""
        mail = build_email(
            kind="incident_key_account",
            to=[manager.email],
            subject=t("en", "manager_subject").format(
                org=names + more, id=incident.pk, title=incident.title_en
            ),
            body="\n\n----\n\n".join(parts),
        )
        if mail is not None:
            mails.append(mail)
    queue_emails(mails)
    AffectedOrganisation.objects.filter(pk__in=[r.pk for r in rows]).update(manager_told_at=now)


# -- lifecycle ----------------------------------------------------------------------------


def _check_text(body_en: str, title: str | None = None) -> None:
    if title is not None and not title.strip():
        raise IncidentError("title_en must not be empty", field="title_en")
    if not body_en.strip():
        raise IncidentError("body_en must not be empty", field="body_en")


def open_incident(
    *,
    service: Service | str | int,
    region: Region | str | int,
    title_en: str,
    body_en: str,
    title_zh: str = "",
    body_zh: str = "",
    internal_note: str = "",
    severity: str = lc.MINOR,
    impact: str | None = None,
    status: str = lc.INVESTIGATING,
    source: str = "manual",
    carriers: Sequence[str] = (),
    nodes: Sequence[str] = (),
    started_at: datetime | None = None,
    organisations: Iterable[int] = (),
    detection_key: str | None = None,
    alert_group_key: str = "",
    created_by: User | None = None,
    notify: bool = True,
    now: datetime | None = None,
) -> Incident:
    when = _now(now)
    svc, reg = _service(service), _region(region)
    _check_text(body_en, title_en)
    if severity not in lc.SEVERITIES:
        raise IncidentError(f"severity must be one of {', '.join(lc.SEVERITIES)}", field="severity")
    impact = impact or lc.IMPACT_OF_SEVERITY[severity]
    if impact not in lc.COMPONENT_STATUSES or impact in (lc.OPERATIONAL, lc.MAINTENANCE):
        raise IncidentError(
            "impact must be degraded_performance, partial_outage or major_outage", field="impact"
        )
    if status not in lc.STATUSES or status == lc.RESOLVED:
        raise IncidentError(
            "a new incident's status must be investigating, identified or monitoring",
            field="status",
        )
    start = started_at or when
    if start > when + timedelta(minutes=5):
        raise IncidentError("started_at must not be in the future", field="started_at")
    from . import notices

    with transaction.atomic():
        component(svc, reg, lock=True)
        incident = Incident.objects.create(
            service=svc,
            region=reg,
            carriers=list(carriers),
            nodes=list(nodes),
            title_en=title_en.strip()[:200],
            title_zh=title_zh.strip()[:200],
            severity=severity,
            impact=impact,
            status=status,
            source=source,
            detection_key=detection_key,
            alert_group_key=alert_group_key[:500],
            started_at=start,
            identified_at=when if status in (lc.IDENTIFIED, lc.MONITORING) else None,
            monitoring_at=when if status == lc.MONITORING else None,
            created_at=when,
            created_by=created_by,
        )
        update = IncidentUpdate.objects.create(
            incident=incident,
            status=status,
            body_en=body_en,
            body_zh=body_zh,
            internal_note=internal_note,
            notify=notify,
            created_by=created_by,
            created_at=when,
        )
        _add_affected(incident, organisations, when)
        recompute_component(svc.pk, reg.pk, when)
        if notify:
            notices.fan_out(update, now=when)
        _tell_account_managers(incident, when)
    return incident


def post_update(
    incident: Incident | int,
    *,
    status: str,
    body_en: str,
    body_zh: str = "",
    internal_note: str = "",
    severity: str | None = None,
    impact: str | None = None,
    notify: bool = True,
    created_by: User | None = None,
    now: datetime | None = None,
) -> IncidentUpdate:
    """Add a timeline entry and move the lifecycle; ``IncidentError(status=409)`` for a move
    the lifecycle forbids (e.g. anything after resolved)."""
    when = _now(now)
    if status not in lc.STATUSES:
        raise IncidentError(f"status must be one of {', '.join(lc.STATUSES)}", field="status")
    _check_text(body_en)
    if severity is not None and severity not in lc.SEVERITIES:
        raise IncidentError(f"severity must be one of {', '.join(lc.SEVERITIES)}", field="severity")
    if impact is not None and impact not in (lc.DEGRADED, lc.PARTIAL, lc.MAJOR_OUTAGE):
        raise IncidentError(
            "impact must be degraded_performance, partial_outage or major_outage", field="impact"
        )
    from . import linking, notices

    pk = incident.pk if isinstance(incident, Incident) else incident
    with transaction.atomic():
        inc = Incident.objects.select_related("service", "region").filter(pk=pk).first()
        if inc is None:
            raise IncidentError(f"incident {pk} not found", status=404)
        component(inc.service, inc.region, lock=True)
        inc = Incident.objects.select_for_update().select_related("service", "region").get(pk=pk)
        try:
            lc.check_transition(inc.status, status)
        except lc.TransitionError as exc:
            raise IncidentError(str(exc), status=409, field="status") from exc
        fields = ["status"]
        inc.status = status
        if status == lc.IDENTIFIED and inc.identified_at is None:
            inc.identified_at = when
            fields.append("identified_at")
        if status == lc.MONITORING and inc.monitoring_at is None:
            inc.monitoring_at = when
            fields.append("monitoring_at")
        if status == lc.RESOLVED:
            inc.resolved_at = when
            fields.append("resolved_at")
        if severity is not None and severity != inc.severity:
            inc.severity = severity
            fields.append("severity")
            if impact is None:
                inc.impact = lc.IMPACT_OF_SEVERITY[severity]
                fields.append("impact")
        if impact is not None:
            inc.impact = impact
            fields.append("impact")
        inc.save(update_fields=fields)
        update = IncidentUpdate.objects.create(
            incident=inc,
            status=status,
            body_en=body_en,
            body_zh=body_zh,
            internal_note=internal_note,
            notify=notify,
            created_by=created_by,
            created_at=when,
        )
        if status != lc.RESOLVED:
            _add_affected(inc, (), when)
        recompute_component(inc.service_id, inc.region_id, when)
        if notify:
            notices.fan_out(update, now=when)
        _tell_account_managers(inc, when)
        if status == lc.RESOLVED:
            linking.post_resolution(inc, now=when)
    return update


def approve_resolution_template(
    incident: Incident, *, body_en: str, body_zh: str, approved_by: User, now: datetime | None = None
) -> Incident:
    """An agent approves the update linked tickets get at resolve (posted at once when the
    incident is already resolved)."""
    from . import linking

    when = _now(now)
    if not body_en.strip():
        raise IncidentError("body_en must not be empty", field="body_en")
    with transaction.atomic():
        inc = Incident.objects.select_for_update().get(pk=incident.pk)
        inc.resolution_template_en = body_en
        inc.resolution_template_zh = body_zh
        inc.template_approved_by = approved_by
        inc.template_approved_at = when
        inc.save(
            update_fields=[
                "resolution_template_en",
                "resolution_template_zh",
                "template_approved_by",
                "template_approved_at",
            ]
        )
        if inc.status == lc.RESOLVED:
            linking.post_resolution(inc, now=when)
    return inc


def schedule_maintenance(
    *,
    service: Service | str | int,
    region: Region | str | int,
    title_en: str,
    starts_at: datetime,
    ends_at: datetime,
    title_zh: str = "",
    body_en: str = "",
    body_zh: str = "",
    notice_hours: float = 48.0,
    created_by: User | None = None,
    now: datetime | None = None,
) -> Maintenance:
    when = _now(now)
    svc, reg = _service(service), _region(region)
    if not title_en.strip():
        raise IncidentError("title_en must not be empty", field="title_en")
    if ends_at <= starts_at:
        raise IncidentError("ends_at must be after starts_at", field="ends_at")
    if starts_at <= when:
        raise IncidentError("starts_at must be in the future", field="starts_at")
    if not 0 <= notice_hours <= 24 * 30:
        raise IncidentError("notice_hours must be between 0 and 720", field="notice_hours")
    notice_at = max(when, starts_at - timedelta(hours=notice_hours))
    return Maintenance.objects.create(
        service=svc,
        region=reg,
        title_en=title_en.strip(),
        title_zh=title_zh.strip(),
        body_en=body_en,
        body_zh=body_zh,
        starts_at=starts_at,
        ends_at=ends_at,
        notice_at=notice_at,
        created_by=created_by,
        created_at=when,
    )


def maintenance_sweep(now: datetime | None = None) -> dict[str, int]:
    """Send due advance notices and keep component status in step with maintenance windows."""
    from . import notices

    when = _now(now)
    sent = 0
    due = list(
        Maintenance.objects.filter(
            notice_sent_at__isnull=True, cancelled_at__isnull=True, notice_at__lte=when
        ).values_list("pk", flat=True)[:50]
    )
    for pk in due:
        with transaction.atomic():
            m = (
                Maintenance.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, notice_sent_at__isnull=True)
                .first()
            )
            if m is None:
                continue
            sent += notices.fan_out_maintenance(m, now=when)
            Maintenance.objects.filter(pk=pk).update(notice_sent_at=when)
    changed = 0
    places = set(
        Maintenance.objects.filter(
            starts_at__lte=when, ends_at__gte=when - timedelta(hours=1)
        ).values_list("service_id", "region_id")
    )
    for service_id, region_id in places:
        before = Component.objects.filter(service_id=service_id, region_id=region_id).first()
        after = recompute_component(service_id, region_id, when)
        changed += int(before is None or before.status != after)
    return {"maintenance_notices": sent, "components_changed": changed}


def active_incidents_for(organisation: Organisation | int) -> list[Incident]:
    """The portal banner: active incidents that affect this organisation (newest first)."""
    org_id = organisation.pk if isinstance(organisation, Organisation) else organisation
    return list(
        Incident.objects.filter(status__in=lc.ACTIVE_STATUSES, affected__organisation_id=org_id)
        .select_related("service", "region")
        .order_by("-started_at")
    )
