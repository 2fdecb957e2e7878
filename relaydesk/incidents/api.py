"""JSON API of the incidents capability; mounted under /api/v1 (paths below carry their own prefix).

Staff run incidents (writes need the ``incidents:write`` scope); Alertmanager posts to
``/integrations/alertmanager`` with a bearer token of a staff or system user holding that
scope. Customers see the incidents that affect their own organisation (the portal banner),
the incident links of their own tickets, their notices, and manage their own subscriptions
and webhooks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import field_validator

from relaydesk.api.auth import (
    TokenAuth,
    current_user,
    get_visible_ticket,
    require_scope,
    require_staff,
    visible_organisations,
)
from relaydesk.core.models import Organisation, Region, Service, User

from . import intake, linking, services
from . import lifecycle as lc
from .models import (
    Incident,
    IncidentTicket,
    IncidentUpdate,
    Maintenance,
    Notice,
    NoticeSubscription,
    WebhookEndpoint,
)

router = Router(tags=["incidents"])

IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
Severity = Literal["minor", "major", "critical"]
Impact = Literal["degraded_performance", "partial_outage", "major_outage"]


def _raise(exc: services.IncidentError) -> None:
    msg = str(exc)
    if exc.field and not msg.startswith(exc.field):
        msg = f"{exc.field}: {msg}"
    raise HttpError(exc.status, msg) from exc


def _writer(request: HttpRequest) -> User:
    user = current_user(request)
    require_staff(user)
    require_scope(request, "incidents:write")
    return user


def _staff(request: HttpRequest) -> User:
    user = current_user(request)
    require_staff(user)
    return user


# -- schemas ------------------------------------------------------------------------------------


class IncidentIn(Schema):
    service: str = Field(..., min_length=1, max_length=40)
    region: str = Field(..., min_length=1, max_length=32)
    title_en: str = Field(..., min_length=1, max_length=200)
    title_zh: str = Field("", max_length=200)
    body_en: str = Field(..., min_length=1, max_length=10000)
    body_zh: str = Field("", max_length=10000)
    internal_note: str = Field("", max_length=10000)
    severity: Severity = "minor"
    impact: Impact | None = None
    status: Literal["investigating", "identified", "monitoring"] = "investigating"
    carriers: list[str] = Field(default_factory=list, max_length=50)
    nodes: list[str] = Field(default_factory=list, max_length=50)
    started_at: datetime | None = None
    organisations: list[int] = Field(default_factory=list, max_length=10000)
    notify: bool = True

    model_config = {"extra": "forbid"}


class UpdateIn(Schema):
    status: IncidentStatus
    body_en: str = Field(..., min_length=1, max_length=10000)
    body_zh: str = Field("", max_length=10000)
    internal_note: str = Field("", max_length=10000)
    severity: Severity | None = None
    impact: Impact | None = None
    notify: bool = True

    model_config = {"extra": "forbid"}


class TemplateIn(Schema):
    body_en: str = Field(..., min_length=1, max_length=10000)
    body_zh: str = Field("", max_length=10000)

    model_config = {"extra": "forbid"}


class LinkIn(Schema):
    ticket_id: int

    model_config = {"extra": "forbid"}


class MaintenanceIn(Schema):
    service: str = Field(..., min_length=1, max_length=40)
    region: str = Field(..., min_length=1, max_length=32)
    title_en: str = Field(..., min_length=1, max_length=200)
    title_zh: str = Field("", max_length=200)
    body_en: str = Field("", max_length=10000)
    body_zh: str = Field("", max_length=10000)
    starts_at: datetime
    ends_at: datetime
    notice_hours: float = Field(48.0, ge=0, le=720)

    model_config = {"extra": "forbid"}


class UpdateOut(Schema):
    id: int
    status: str
    body_en: str
    body_zh: str
    created_at: datetime


class StaffUpdateOut(UpdateOut):
    internal_note: str
    notify: bool
    notices: int


class LinkOut(Schema):
    incident_id: int
    ticket_id: int
    ticket_number: int
    how: str
    reason: str
    linked_at: datetime


class IncidentOut(Schema):
    id: int
    title_en: str
    title_zh: str
    service: str
    region: str
    carriers: list[Any]
    nodes: list[str]
    severity: str
    impact: str
    status: str
    source: str
    started_at: datetime
    identified_at: datetime | None
    monitoring_at: datetime | None
    resolved_at: datetime | None
    first_notice_at: datetime | None
    first_customer_ticket_at: datetime | None
    proactive: bool | None
    url: str


class AffectedOut(Schema):
    organisation_id: int
    name: str
    share: float
    is_key_account: bool


class ManagerPageOut(Schema):
    manager_id: int
    manager_email: str
    organisations: list[int]
    email_queued: bool
    webhook_status: str
    created_at: datetime


class IncidentDetail(IncidentOut):
    resolve_proposed_at: datetime | None
    manager_pages: list[ManagerPageOut]
    updates: list[StaffUpdateOut]
    affected_count: int
    affected: list[AffectedOut]
    tickets: list[LinkOut]
    notices: dict[str, int]
    resolution_template_en: str
    resolution_template_zh: str
    template_approved_at: datetime | None


class BannerOut(Schema):
    id: int
    title: str
    service: str
    region: str
    status: str
    impact: str
    started_at: datetime
    latest_update: str
    url: str


def _incident_out(inc: Incident) -> dict[str, Any]:
    from .notices import status_url

    return {
        "id": inc.pk,
        "title_en": inc.title_en,
        "title_zh": inc.title_zh,
        "service": inc.service.code,
        "region": inc.region.code,
        "carriers": inc.carriers,
        "nodes": inc.nodes,
        "severity": inc.severity,
        "impact": inc.impact,
        "status": inc.status,
        "source": inc.source,
        "started_at": inc.started_at,
        "identified_at": inc.identified_at,
        "monitoring_at": inc.monitoring_at,
        "resolved_at": inc.resolved_at,
        "first_notice_at": inc.first_notice_at,
        "first_customer_ticket_at": inc.first_customer_ticket_at,
        "proactive": inc.proactive,
        "url": status_url(inc.pk),
    }


def _link_out(link: IncidentTicket) -> dict[str, Any]:
    return {
        "incident_id": link.incident_id,
        "ticket_id": link.ticket_id,
        "ticket_number": link.ticket.number,
        "how": link.how,
        "reason": link.reason,
        "linked_at": link.linked_at,
    }


def _detail(inc: Incident) -> dict[str, Any]:
    out = _incident_out(inc)
    counts = dict(
        Notice.objects.filter(incident=inc).values_list("status").annotate(n=Count("id"))
    )
    per_update = dict(
        Notice.objects.filter(incident=inc).values_list("update_id").annotate(n=Count("id"))
    )
    affected = inc.affected.select_related("organisation")
    out.update(
        resolve_proposed_at=inc.resolve_proposed_at,
        manager_pages=[
            {
                "manager_id": p.manager_id,
                "manager_email": p.manager.email,
                "organisations": p.organisations,
                "email_queued": p.email_id is not None,
                "webhook_status": p.webhook_status,
                "created_at": p.created_at,
            }
            for p in inc.manager_pages.select_related("manager")
        ],
        updates=[
            {
                "id": u.pk,
                "status": u.status,
                "body_en": u.body_en,
                "body_zh": u.body_zh,
                "internal_note": u.internal_note,
                "notify": u.notify,
                "created_at": u.created_at,
                "notices": per_update.get(u.pk, 0),
            }
            for u in inc.updates.all()
        ],
        affected_count=affected.count(),
        affected=[
            {
                "organisation_id": a.organisation_id,
                "name": a.organisation.name,
                "share": a.share,
                "is_key_account": a.is_key_account,
            }
            for a in affected[:100]
        ],
        tickets=[_link_out(x) for x in inc.ticket_links.select_related("ticket")],
        notices={s: counts.get(s, 0) for s, _ in Notice.STATUSES},
        resolution_template_en=inc.resolution_template_en,
        resolution_template_zh=inc.resolution_template_zh,
        template_approved_at=inc.template_approved_at,
    )
    return out


def _get_incident(pk: int) -> Incident:
    inc = Incident.objects.select_related("service", "region").filter(pk=pk).first()
    if inc is None:
        raise HttpError(404, f"incident {pk} not found")
    return inc


# -- incidents ------------------------------------------------------------------------------


@router.post("/incidents", response={201: IncidentDetail}, summary="Open a manual incident")
def create_incident(request: HttpRequest, payload: IncidentIn) -> Status:
    user = _writer(request)
    try:
        inc = services.open_incident(created_by=user, source="manual", **payload.dict())
    except services.IncidentError as exc:
        _raise(exc)
    return Status(201, _detail(_get_incident(inc.pk)))


@router.get("/incidents", response=list[IncidentOut], summary="Incidents (staff), newest first")
def list_incidents(
    request: HttpRequest,
    status: IncidentStatus | None = None,
    active: bool | None = None,
    service: str | None = None,
    region: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    _staff(request)
    if not 1 <= limit <= 500:
        raise HttpError(422, "limit: must be between 1 and 500")
    if offset < 0:
        raise HttpError(422, "offset: must not be negative")
    qs = Incident.objects.select_related("service", "region")
    if status:
        qs = qs.filter(status=status)
    if active is not None:
        qs = qs.filter(status__in=lc.ACTIVE_STATUSES) if active else qs.filter(status=lc.RESOLVED)
    if service:
        qs = qs.filter(service__code=service)
    if region:
        qs = qs.filter(region__code=region)
    return [_incident_out(i) for i in qs[offset : offset + limit]]


@router.get("/incidents/active", response=list[BannerOut], summary="Portal banner: active incidents affecting my organisation")
def active_incidents(request: HttpRequest, lang: str | None = None) -> list[dict[str, Any]]:
    from .notices import status_url
    from .text import lang_of, word

    user = current_user(request)
    language = lang_of(lang or user.language)
    if user.is_customer:
        assert user.organisation_id is not None
        found = services.active_incidents_for(user.organisation_id)
    elif user.kind == User.KIND_STAFF:
        found = list(
            Incident.objects.filter(status__in=lc.ACTIVE_STATUSES).select_related("service", "region")
        )
    else:
        found = []
    latest: dict[int, IncidentUpdate] = {}
    for u in IncidentUpdate.objects.filter(incident__in=[i.pk for i in found]).order_by("created_at", "id"):
        latest[u.incident_id] = u
    return [
        {
            "id": i.pk,
            "title": i.title(language),
            "service": i.service.code,
            "region": i.region.code,
            "status": word(language, i.status),
            "impact": i.impact,
            "started_at": i.started_at,
            "latest_update": latest[i.pk].body(language) if i.pk in latest else "",
            "url": status_url(i.pk),
        }
        for i in found
    ]


@router.get("/incidents/{incident_id}", response=IncidentDetail, summary="Incident with its timeline, affected organisations, tickets and notices (staff)")
def get_incident(request: HttpRequest, incident_id: int) -> dict[str, Any]:
    _staff(request)
    return _detail(_get_incident(incident_id))


@router.post("/incidents/{incident_id}/updates", response={201: StaffUpdateOut}, summary="Post a timeline update (moves the lifecycle)")
def post_update(request: HttpRequest, incident_id: int, payload: UpdateIn) -> Status:
    user = _writer(request)
    _get_incident(incident_id)
    try:
        u = services.post_update(incident_id, created_by=user, **payload.dict())
    except services.IncidentError as exc:
        _raise(exc)
    return Status(201, {
        "id": u.pk,
        "status": u.status,
        "body_en": u.body_en,
        "body_zh": u.body_zh,
        "internal_note": u.internal_note,
        "notify": u.notify,
        "created_at": u.created_at,
        "notices": u.notices.count(),
    })


@router.post("/incidents/{incident_id}/resolution-template", response=IncidentDetail, summary="Approve the update linked tickets get at resolve")
def approve_template(request: HttpRequest, incident_id: int, payload: TemplateIn) -> dict[str, Any]:
    user = _writer(request)
    inc = _get_incident(incident_id)
    try:
        services.approve_resolution_template(
            inc, body_en=payload.body_en, body_zh=payload.body_zh, approved_by=user
        )
    except services.IncidentError as exc:
        _raise(exc)
    return _detail(_get_incident(incident_id))


@router.post("/incidents/{incident_id}/tickets", response={201: LinkOut}, summary="Link a ticket to an incident by hand")
def link_ticket(request: HttpRequest, incident_id: int, payload: LinkIn) -> Status:
    user = _writer(request)
    inc = _get_incident(incident_id)
    ticket = get_visible_ticket(user, payload.ticket_id)
    link = linking.link_ticket(inc, ticket)
    link.ticket = ticket
    return Status(201, _link_out(link))


@router.get("/tickets/{ticket_id}/incidents", response=list[LinkOut], summary="Incidents a ticket is linked to")
def ticket_incidents(request: HttpRequest, ticket_id: int) -> list[dict[str, Any]]:
    ticket = get_visible_ticket(current_user(request), ticket_id)
    return [_link_out(x) for x in IncidentTicket.objects.filter(ticket=ticket).select_related("ticket")]


# -- maintenance ----------------------------------------------------------------------------------


class MaintenanceOut(Schema):
    id: int
    service: str
    region: str
    title_en: str
    title_zh: str
    starts_at: datetime
    ends_at: datetime
    notice_at: datetime
    notice_sent_at: datetime | None
    state: str


def _maint_out(m: Maintenance) -> dict[str, Any]:
    return {
        "id": m.pk,
        "service": m.service.code,
        "region": m.region.code,
        "title_en": m.title_en,
        "title_zh": m.title_zh,
        "starts_at": m.starts_at,
        "ends_at": m.ends_at,
        "notice_at": m.notice_at,
        "notice_sent_at": m.notice_sent_at,
        "state": m.state(),
    }


@router.post("/maintenances", response={201: MaintenanceOut}, summary="Schedule maintenance (advance notices go out at notice_at)")
def create_maintenance(request: HttpRequest, payload: MaintenanceIn) -> Status:
    user = _writer(request)
    try:
        m = services.schedule_maintenance(created_by=user, **payload.dict())
    except services.IncidentError as exc:
        _raise(exc)
    return Status(201, _maint_out(m))


@router.get("/maintenances", response=list[MaintenanceOut], summary="Scheduled and past maintenance")
def list_maintenances(request: HttpRequest) -> list[dict[str, Any]]:
    _staff(request)
    return [_maint_out(m) for m in Maintenance.objects.select_related("service", "region").order_by("-starts_at")[:200]]


# -- Alertmanager --------------------------------------------------------------------------------


class AlertIn(Schema):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime  # Alertmanager's field names
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field(..., min_length=1, max_length=64)


class AlertmanagerIn(Schema):
    version: str
    groupKey: str = Field(..., max_length=2000)
    truncatedAlerts: int = 0
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AlertIn] = Field(..., max_length=1000)

    @field_validator("version")
    @classmethod
    def _v4(cls, v: str) -> str:
        if v != "4":
            raise ValueError("only webhook payload version '4' is understood")
        return v


class AlertmanagerOut(Schema):
    incidents: list[int]
    opened: int
    updated: int
    unchanged: int
    skipped: list[dict[str, str]]


@router.post("/integrations/alertmanager", auth=TokenAuth(), response=AlertmanagerOut, summary="Prometheus Alertmanager webhook receiver (payload version 4)")
def alertmanager(request: HttpRequest, payload: AlertmanagerIn) -> dict[str, Any]:
    user = current_user(request)
    if user.kind not in (User.KIND_STAFF, User.KIND_SYSTEM):
        raise HttpError(403, "only staff or system tokens may post alerts")
    require_scope(request, "incidents:write")
    try:
        res = intake.receive_alertmanager(payload.dict())
    except services.IncidentError as exc:
        _raise(exc)
    return {
        "incidents": sorted(res.incidents),
        "opened": res.opened,
        "updated": res.updated,
        "unchanged": res.unchanged,
        "skipped": res.skipped,
    }


# -- subscriptions and webhooks (customers: own organisation) -------------------------------------


def _org_for(request: HttpRequest, organisation_id: int | None, *, write: bool) -> Organisation:
    user = current_user(request)
    if user.is_customer:
        assert user.organisation_id is not None
        if organisation_id is not None and organisation_id != user.organisation_id:
            raise HttpError(404, f"organisation {organisation_id} not found")
        return Organisation.objects.get(pk=user.organisation_id)
    require_staff(user)
    if write:
        require_scope(request, "incidents:write")
    if organisation_id is None:
        raise HttpError(422, "organisation_id: required for staff")
    org = visible_organisations(user).filter(pk=organisation_id).first()
    if org is None:
        raise HttpError(404, f"organisation {organisation_id} not found")
    return org


class SubscriptionIn(Schema):
    organisation_id: int | None = None
    channel: Literal["email", "webhook"]
    email: str = Field("", max_length=254)
    webhook_id: int | None = None
    services: list[str] = Field(default_factory=list, max_length=100)
    regions: list[str] = Field(default_factory=list, max_length=100)
    language: Literal["", "en", "zh-Hans"] = ""

    model_config = {"extra": "forbid"}


class SubscriptionOut(Schema):
    id: int
    organisation_id: int
    channel: str
    email: str
    webhook_id: int | None
    services: list[str]
    regions: list[str]
    language: str
    active: bool


def _sub_out(s: NoticeSubscription) -> dict[str, Any]:
    return {
        "id": s.pk,
        "organisation_id": s.organisation_id,
        "channel": s.channel,
        "email": s.email,
        "webhook_id": s.webhook_id,
        "services": s.services,
        "regions": s.regions,
        "language": s.language,
        "active": s.active,
    }


@router.get("/notices/subscriptions", response=list[SubscriptionOut], summary="Notice subscriptions of my organisation")
def list_subscriptions(request: HttpRequest, organisation_id: int | None = None) -> list[dict[str, Any]]:
    org = _org_for(request, organisation_id, write=False)
    return [_sub_out(s) for s in NoticeSubscription.objects.filter(organisation=org)]


@router.post("/notices/subscriptions", response={201: SubscriptionOut}, summary="Subscribe to notices by e-mail or webhook for some services/regions")
def create_subscription(request: HttpRequest, payload: SubscriptionIn) -> Status:
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import validate_email

    org = _org_for(request, payload.organisation_id, write=True)
    webhook = None
    if payload.channel == "email":
        try:
            validate_email(payload.email)
        except DjangoValidationError as exc:
            raise HttpError(422, "email: enter a valid e-mail address") from exc
        if payload.webhook_id is not None:
            raise HttpError(422, "webhook_id: only for the webhook channel")
    else:
        if payload.webhook_id is None:
            raise HttpError(422, "webhook_id: required for the webhook channel")
        webhook = WebhookEndpoint.objects.filter(pk=payload.webhook_id, organisation=org).first()
        if webhook is None:
            raise HttpError(422, f"webhook_id: no webhook {payload.webhook_id} in this organisation")
    known_s = set(Service.objects.filter(code__in=payload.services).values_list("code", flat=True))
    if set(payload.services) - known_s:
        raise HttpError(422, f"services: unknown {', '.join(sorted(set(payload.services) - known_s))}")
    known_r = set(Region.objects.filter(code__in=payload.regions).values_list("code", flat=True))
    if set(payload.regions) - known_r:
        raise HttpError(422, f"regions: unknown {', '.join(sorted(set(payload.regions) - known_r))}")
    s = NoticeSubscription.objects.create(
        organisation=org,
        channel=payload.channel,
        email=payload.email.lower() if payload.channel == "email" else "",
        webhook=webhook,
        services=sorted(set(payload.services)),
        regions=sorted(set(payload.regions)),
        language=payload.language,
    )
    return Status(201, _sub_out(s))


@router.delete("/notices/subscriptions/{sub_id}", response={204: None}, summary="Remove a subscription")
def delete_subscription(request: HttpRequest, sub_id: int) -> Status:
    user = current_user(request)
    s = NoticeSubscription.objects.filter(pk=sub_id).first()
    if s is None:
        raise HttpError(404, f"subscription {sub_id} not found")
    try:
        _org_for(request, s.organisation_id, write=True)
    except HttpError as exc:
        if user.is_customer:
            raise HttpError(404, f"subscription {sub_id} not found") from exc
        raise
    s.delete()
    return Status(204, None)


class WebhookIn(Schema):
    organisation_id: int | None = None
    url: str = Field(..., min_length=8, max_length=500)

    model_config = {"extra": "forbid"}

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not (v.startswith("https://") or v.startswith("http://")):
            raise ValueError("must be an http(s) URL")
        return v


class WebhookOut(Schema):
    id: int
    organisation_id: int
    url: str
    enabled: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str


class WebhookCreated(WebhookOut):
    secret: str


def _hook_out(h: WebhookEndpoint, secret: bool = False) -> dict[str, Any]:
    out = {
        "id": h.pk,
        "organisation_id": h.organisation_id,
        "url": h.url,
        "enabled": h.enabled,
        "consecutive_failures": h.consecutive_failures,
        "disabled_at": h.disabled_at,
        "disabled_reason": h.disabled_reason,
    }
    if secret:
        out["secret"] = h.secret
    return out


def _own_hook(request: HttpRequest, hook_id: int) -> WebhookEndpoint:
    user = current_user(request)
    h = WebhookEndpoint.objects.filter(pk=hook_id).first()
    if h is None:
        raise HttpError(404, f"webhook {hook_id} not found")
    try:
        _org_for(request, h.organisation_id, write=True)
    except HttpError as exc:
        if user.is_customer:
            raise HttpError(404, f"webhook {hook_id} not found") from exc
        raise
    return h


@router.get("/notices/webhooks", response=list[WebhookOut], summary="Notice webhooks of my organisation")
def list_webhooks(request: HttpRequest, organisation_id: int | None = None) -> list[dict[str, Any]]:
    org = _org_for(request, organisation_id, write=False)
    return [_hook_out(h) for h in WebhookEndpoint.objects.filter(organisation=org)]


@router.post("/notices/webhooks", response={201: WebhookCreated}, summary="Register a webhook (the signing secret is shown once)")
def create_webhook(request: HttpRequest, payload: WebhookIn) -> Status:
    org = _org_for(request, payload.organisation_id, write=True)
    h = WebhookEndpoint.objects.create(organisation=org, url=payload.url, created_by=current_user(request))
    return Status(201, _hook_out(h, secret=True))


@router.post("/notices/webhooks/{hook_id}/enable", response=WebhookOut, summary="Re-enable a webhook disabled after failures")
def enable_webhook(request: HttpRequest, hook_id: int) -> dict[str, Any]:
    h = _own_hook(request, hook_id)
    WebhookEndpoint.objects.filter(pk=h.pk).update(
        enabled=True, consecutive_failures=0, disabled_at=None, disabled_reason=""
    )
    h.refresh_from_db()
    return _hook_out(h)


@router.delete("/notices/webhooks/{hook_id}", response={204: None}, summary="Remove a webhook")
def delete_webhook(request: HttpRequest, hook_id: int) -> Status:
    h = _own_hook(request, hook_id)
    with transaction.atomic():
        NoticeSubscription.objects.filter(webhook=h).delete()
        try:
            h.delete()
        except IntegrityError as exc:  # pragma: no cover - cascades make this unreachable
            raise HttpError(409, str(exc)) from exc
    return Status(204, None)


class NoticeOut(Schema):
    id: int
    incident_id: int | None
    update_id: int | None
    maintenance_id: int | None
    channel: str
    address: str
    status: str
    created_at: datetime
    sent_at: datetime | None


@router.get("/notices", response=list[NoticeOut], summary="Notices sent to my organisation, newest first")
def list_notices(request: HttpRequest, organisation_id: int | None = None, limit: int = 100) -> list[Any]:
    org = _org_for(request, organisation_id, write=False)
    if not 1 <= limit <= 500:
        raise HttpError(422, "limit: must be between 1 and 500")
    qs: QuerySet[Notice] = Notice.objects.filter(organisation=org).order_by("-id")
    return list(qs[:limit])
