"""Incidents and their public timeline, component status per service × region, scheduled
maintenance, the organisations an incident affects, ticket links, customer notice
subscriptions and webhook endpoints, the notice outbox and the Alertmanager alert record."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from relaydesk.core.models import LANGUAGES, Organisation, Region, Service

from . import lifecycle as lc

SEVERITIES = [(s, s) for s in lc.SEVERITIES]
STATUSES = [(s, s) for s in lc.STATUSES]
COMPONENT_STATUSES = [(s, s.replace("_", " ")) for s in lc.COMPONENT_STATUSES]
SOURCES = [("detection", "Detection"), ("alertmanager", "Alertmanager"), ("manual", "Manual")]


class Component(models.Model):
    """One cell of the status page: a service in a region, with its current status."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=24, choices=COMPONENT_STATUSES, default=lc.OPERATIONAL)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service__code", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["service", "region"], name="inc_component_once")
        ]

    def __str__(self) -> str:
        return f"{self.service.code}/{self.region.code}: {self.status}"


class ComponentStatusChange(models.Model):
    """Append-only history of a component's status (the uptime bars are computed from it)."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="changes")
    status = models.CharField(max_length=24, choices=COMPONENT_STATUSES)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["component", "at"], name="inc_compchange_at")]


class Incident(models.Model):
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    carriers = models.JSONField(default=list, blank=True, help_text="carrier names or ASNs")
    nodes = models.JSONField(default=list, blank=True, help_text="edge node codes")
    title_en = models.CharField(max_length=200)
    title_zh = models.CharField(max_length=200, blank=True, default="")
    severity = models.CharField(max_length=10, choices=SEVERITIES, default=lc.MINOR)
    impact = models.CharField(
        max_length=24, choices=COMPONENT_STATUSES, help_text="component status while active"
    )
    status = models.CharField(max_length=14, choices=STATUSES, default=lc.INVESTIGATING)
    source = models.CharField(max_length=14, choices=SOURCES, default="manual")
    detection_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    alert_group_key = models.CharField(max_length=500, blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    identified_at = models.DateTimeField(null=True, blank=True)
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolve_proposed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    first_notice_at = models.DateTimeField(null=True, blank=True)
    first_customer_ticket_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The update linked tickets get at resolve, approved by an agent.
    resolution_template_en = models.TextField(blank=True, default="")
    resolution_template_zh = models.TextField(blank=True, default="")
    template_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template_approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["service", "region", "status"], name="inc_place_status"),
            models.Index(fields=["status", "started_at"], name="inc_status_started"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title_en} [{self.status}]"

    @property
    def is_active(self) -> bool:
        return self.status != lc.RESOLVED

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh-Hans" and self.title_zh else self.title_en

    @property
    def proactive(self) -> bool | None:
        """Did the first notice go out before the first related customer ticket?"""
        if self.first_notice_at is None and self.first_customer_ticket_at is None:
            return None
        if self.first_customer_ticket_at is None:
            return True
        if self.first_notice_at is None:
            return False
        return self.first_notice_at <= self.first_customer_ticket_at


class IncidentUpdate(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=14, choices=STATUSES)
    body_en = models.TextField()
    body_zh = models.TextField(blank=True, default="")
    internal_note = models.TextField(blank=True, default="")
    notify = models.BooleanField(default=True, help_text="send notices to affected customers")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def body(self, lang: str) -> str:
        return self.body_zh if lang == "zh-Hans" and self.body_zh else self.body_en


class AffectedOrganisation(models.Model):
    """An organisation an incident affects (from its footprint, or named by staff)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    share = models.FloatField(default=0.0, help_text="share of the place's traffic")
    sessions = models.BigIntegerField(default=0)
    is_key_account = models.BooleanField(default=False)
    added_at = models.DateTimeField(default=timezone.now)
    manager_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_key_account", "-share", "organisation_id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "organisation"], name="inc_affected_once")
        ]
        indexes = [models.Index(fields=["organisation"], name="inc_affected_org")]


class IncidentTicket(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="incident_links"
    )
    how = models.CharField(max_length=10, default="auto")  # auto | manual
    reason = models.CharField(max_length=200, blank=True, default="")
    linked_at = models.DateTimeField(default=timezone.now)
    resolution_posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "ticket"], name="inc_ticket_once")
        ]


class Maintenance(models.Model):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    STATES = [(s, s.replace("_", " ")) for s in (SCHEDULED, IN_PROGRESS, COMPLETED, CANCELLED)]

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    title_en = models.CharField(max_length=200)
    title_zh = models.CharField(max_length=200, blank=True, default="")
    body_en = models.TextField(blank=True, default="")
    body_zh = models.TextField(blank=True, default="")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    notice_at = models.DateTimeField(help_text="when the advance notice goes out")
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="inc_maint_order"
            )
        ]

    def state(self, now: object = None) -> str:
        t = now or timezone.now()
        if self.cancelled_at is not None:
            return self.CANCELLED
        if t < self.starts_at:  # type: ignore[operator]
            return self.SCHEDULED
        if t < self.ends_at:  # type: ignore[operator]
            return self.IN_PROGRESS
        return self.COMPLETED

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh-Hans" and self.title_zh else self.title_en

    def body(self, lang: str) -> str:
        return self.body_zh if lang == "zh-Hans" and self.body_zh else self.body_en


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


class WebhookEndpoint(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="notice_webhooks"
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, default=_new_secret)
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.url}"


class NoticeSubscription(models.Model):
    """How an organisation wants to hear about incidents, and about which places. Empty
    ``services``/``regions`` mean all. An organisation without any subscription gets e-mail
    at its customer users' addresses."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    CHANNELS = [(EMAIL, "E-mail"), (WEBHOOK, "Webhook")]

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="notice_subscriptions"
    )
    channel = models.CharField(max_length=10, choices=CHANNELS)
    email = models.EmailField(blank=True, default="")
    webhook = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    services = models.JSONField(default=list, blank=True, help_text="service codes; [] = all")
    regions = models.JSONField(default=list, blank=True, help_text="region codes; [] = all")
    language = models.CharField(max_length=10, choices=LANGUAGES, blank=True, default="")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def follows(self, service: str, region: str) -> bool:
        return (not self.services or service in self.services) and (
            not self.regions or region in self.regions
        )


class StatusSubscriber(models.Model):
    """A public status-page subscriber (no account, no organisation): an e-mail address and
    optionally a webhook, the components followed (``"service/region"``; [] = all) and a
    language. Double opt-in: nothing is sent before ``confirmed_at``; unsubscribing sets
    ``unsubscribed_at``. Public subscribers only ever get the public text of an update."""

    email = models.EmailField(unique=True)
    webhook_url = models.URLField(max_length=500, blank=True, default="")
    webhook_secret = models.CharField(max_length=100, blank=True, default="")
    webhook_enabled = models.BooleanField(default=True)
    webhook_failures = models.PositiveIntegerField(default=0)
    language = models.CharField(max_length=10, choices=LANGUAGES, default="en")
    components = models.JSONField(default=list, blank=True, help_text='["rtc/sg", …]; [] = all')
    created_at = models.DateTimeField(default=timezone.now)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["confirmed_at", "unsubscribed_at"], name="inc_pubsub_live")]

    def __str__(self) -> str:
        return f"{self.email} [{'confirmed' if self.is_live else 'pending'}]"

    @property
    def is_live(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None

    def follows(self, service: str, region: str) -> bool:
        return not self.components or f"{service}/{region}" in self.components


class SubscribeAttempt(models.Model):
    """One public subscribe request, by client address (rate limit across every process)."""

    key = models.CharField(max_length=100)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["key", "at"], name="inc_subattempt_key_at")]


class Notice(models.Model):
    """The notice outbox: one row per (incident update or maintenance, recipient, channel),
    written in the transaction of its cause. ``key`` is the idempotency key (unique), and the
    row's id travels with the notice (e-mail Message-ID, webhook ``notice_id``)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SUPERSEDED = "superseded"
    FAILED = "failed"
    STATUSES = [(s, s) for s in (PENDING, SENDING, SENT, SUPERSEDED, FAILED)]
    EMAIL = "email"
    WEBHOOK = "webhook"
    CHANNELS = [(EMAIL, "E-mail"), (WEBHOOK, "Webhook")]

    key = models.CharField(max_length=200, unique=True)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="notices"
    )
    update = models.ForeignKey(
        IncidentUpdate, null=True, blank=True, on_delete=models.CASCADE, related_name="notices"
    )
    maintenance = models.ForeignKey(
        Maintenance, null=True, blank=True, on_delete=models.CASCADE, related_name="notices"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subscriber = models.ForeignKey(
        StatusSubscriber, null=True, blank=True, on_delete=models.CASCADE, related_name="notices",
        help_text="a public status subscriber (then no organisation)",
    )
    channel = models.CharField(max_length=10, choices=CHANNELS)
    address = models.CharField(max_length=500, help_text="e-mail address or webhook URL")
    webhook = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    language = models.CharField(max_length=10, default="en")
    priority = models.SmallIntegerField(default=1, help_text="0: key account, sent first")
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["priority", "next_attempt_at"],
                name="inc_notice_due",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["incident", "address", "status"], name="inc_notice_recipient"),
            models.Index(fields=["organisation", "created_at"], name="inc_notice_org"),
        ]

    def __str__(self) -> str:
        return f"notice {self.pk} {self.channel} → {self.address} [{self.status}]"


class ManagerPage(models.Model):
    """A key account's manager paged about an incident: once per incident and manager,
    whatever the number of updates or of the manager's affected accounts. E-mail through the
    mail outbox; a signed webhook to the pager's escalation chain URL, retried with backoff."""

    PENDING, SENT, FAILED, NONE = "pending", "sent", "failed", "none"
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="manager_pages")
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organisations = models.JSONField(default=list, help_text="key account ids")
    email_id = models.BigIntegerField(null=True, blank=True, help_text="mail outbox row")
    webhook_url = models.URLField(max_length=500, blank=True, default="")
    webhook_status = models.CharField(max_length=10, default=NONE)
    webhook_attempts = models.PositiveIntegerField(default=0)
    webhook_next_at = models.DateTimeField(null=True, blank=True)
    webhook_error = models.TextField(blank=True, default="")
    chain_id = models.BigIntegerField(null=True, blank=True, help_text="routing escalation chain")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "manager"], name="inc_manager_page_once")
        ]


class AlertState(models.Model):
    """The last state of one Alertmanager alert (fingerprint + start), so a redelivered
    payload is recognised and changes nothing."""

    fingerprint = models.CharField(max_length=64)
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=10)  # firing | resolved
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="alerts")
    alertname = models.CharField(max_length=200, blank=True, default="")
    labels = models.JSONField(default=dict)
    ends_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["fingerprint", "starts_at"], name="inc_alert_once")
        ]
