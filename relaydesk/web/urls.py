"""Pages: the front door, login, the customer portal and the agent console (site root)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import accounts, console, incidents, lead, oncall, portal, telemetry

app_name = "web"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", accounts.home, name="home"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", accounts.LogoutView.as_view(), name="logout"),
    path("language/", accounts.set_language, name="language"),
    path("tickets/<int:number>", accounts.ticket_link, name="ticket-link"),
    # Customer portal
    path("portal/", portal.ticket_list, name="portal"),
    path("portal/tickets/new/", portal.ticket_new, name="portal-new"),
    path("portal/tickets/<int:ticket_id>/", portal.ticket_detail, name="portal-ticket"),
    path("portal/tickets/<int:ticket_id>/reply/", portal.ticket_reply, name="portal-reply"),
    path("portal/tickets/<int:ticket_id>/status/", portal.ticket_status, name="portal-status"),
    path("portal/notices/", portal.notices, name="portal-notices"),
    path("portal/preferences/", portal.preferences, name="portal-preferences"),
    path("portal/tokens/", portal.tokens, name="portal-tokens"),
    path("portal/tokens/<int:token_id>/revoke/", portal.token_revoke, name="portal-token-revoke"),
    path("files/<int:attachment_id>/", portal.download, name="file"),
    # Agent console
    path("console/", console.queue, name="console"),
    path("console/rows/", console.queue_rows, name="console-rows"),
    path("console/tickets/<int:ticket_id>/", console.ticket, name="console-ticket"),
    path("console/tickets/<int:ticket_id>/reply/", console.ticket_reply, name="console-reply"),
    path("console/tickets/<int:ticket_id>/update/", console.ticket_update, name="console-update"),
    path("console/tickets/<int:ticket_id>/escalate/", console.ticket_escalate, name="console-escalate"),
    path("console/telemetry/", telemetry.telemetry, name="console-telemetry"),
    # On call, coverage, presence
    path("console/oncall/", oncall.oncall, name="console-oncall"),
    path("console/coverage/", oncall.coverage, name="console-coverage"),
    path("console/presence/", oncall.presence, name="console-presence"),
    # Lead pages: SLA, calendars, teams and rotations, escalation chains
    path("console/setup/", lead.index, name="lead"),
    path("console/setup/sla/", lead.sla, name="lead-sla"),
    path("console/setup/calendars/", lead.calendars, name="lead-calendars"),
    path("console/setup/teams/", lead.teams, name="lead-teams"),
    path("console/setup/escalation/", lead.escalation, name="lead-escalation"),
    # Incident console
    path("console/incidents/", incidents.incident_list, name="console-incidents"),
    path("console/incidents/new/", incidents.incident_new, name="console-incident-new"),
    path("console/incidents/<int:incident_id>/", incidents.incident_detail, name="console-incident"),
    path("console/incidents/<int:incident_id>/update/", incidents.incident_update, name="console-incident-update"),
]
