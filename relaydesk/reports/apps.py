from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "relaydesk.reports"
    label = "reports"
    verbose_name = "Reports: promise against reality"

    def ready(self) -> None:
        from relaydesk.core import periodic
        from relaydesk.tickets.signals import message_added, ticket_changed, ticket_created

        from . import facts

        ticket_created.connect(facts.on_ticket_created, dispatch_uid="reports.facts.ticket_created")
        message_added.connect(facts.on_message_added, dispatch_uid="reports.facts.message_added")
        ticket_changed.connect(facts.on_ticket_changed, dispatch_uid="reports.facts.ticket_changed")
        periodic.register("reports_facts", facts.periodic)

        from . import probe

        periodic.register("audit_probes", probe.probe_sweep)
