"""The reports' pre-aggregated fact table (one compact row per ticket) and its catch-up cursor.

See docs/decisions/0013-reports-aggregation.md.
"""

from __future__ import annotations

from django.db import models


class TicketFact(models.Model):
    """What the reports need of one ticket, denormalised: its dimensions, when it was created
    and left the backlog, and for first response (``frt``) and resolution (``ttr``) the
    wall-clock and business seconds, their quantised values (``*_q``, see
    ``stats.quantise``), the target and the SLA outcome (``stats.OUTCOMES``).

    A pure function of the ticket row (``facts.compute``), so the incremental path and a
    full rebuild write the same row.
    """

    ticket = models.OneToOneField(
        "tickets.Ticket", primary_key=True, on_delete=models.CASCADE, related_name="report_fact"
    )
    organisation_id = models.BigIntegerField()
    created_s = models.BigIntegerField(help_text="epoch seconds (UTC)")
    resolved_s = models.BigIntegerField(null=True, blank=True, help_text="solved, else closed")
    is_probe = models.BooleanField(default=False, help_text="synthetic audit-probe ticket")
    priority = models.CharField(max_length=2)
    channel = models.CharField(max_length=20)
    language = models.CharField(max_length=10)
    plan_id = models.BigIntegerField(null=True, blank=True)
    region_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)

    frt_outcome = models.SmallIntegerField(default=0)
    frt_target_s = models.BigIntegerField(null=True, blank=True)
    frt_wall_s = models.BigIntegerField(null=True, blank=True)
    frt_wall_q = models.BigIntegerField(null=True, blank=True)
    frt_business_s = models.BigIntegerField(null=True, blank=True)
    frt_business_q = models.BigIntegerField(null=True, blank=True)

    ttr_outcome = models.SmallIntegerField(default=0)
    ttr_target_s = models.BigIntegerField(null=True, blank=True)
    ttr_wall_s = models.BigIntegerField(null=True, blank=True)
    ttr_wall_q = models.BigIntegerField(null=True, blank=True)
    ttr_business_s = models.BigIntegerField(null=True, blank=True)
    ttr_business_q = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            # Every report selects a creation range of one population (customers or probes).
            models.Index(fields=["is_probe", "created_s"], name="fact_probe_created"),
            # Backlog: how many left before an instant.
            models.Index(fields=["is_probe", "resolved_s"], name="fact_probe_resolved"),
        ]

    def __str__(self) -> str:
        return f"fact of ticket {self.ticket_id}"


class FactCursor(models.Model):
    """How far the periodic catch-up has read the clock event log (by id)."""

    name = models.CharField(max_length=40, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_event_id}"


class ProbeAccount(models.Model):
    """A customer account enrolled for the off-hours audit: every ticket it files (its
    requester) is a synthetic probe, reported apart from customer metrics. Only operators
    enrol accounts (``relaydesk audit enrol``, or the worker for the account named by
    ``RELAYDESK_AUDIT_PROBE_EMAIL``); a tag on a ticket never makes it a probe."""

    user = models.OneToOneField(
        "core.User", primary_key=True, on_delete=models.CASCADE, related_name="probe_account"
    )
    enrolled_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"probe account {self.user_id}"
