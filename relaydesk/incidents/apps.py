from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "relaydesk.incidents"
    label = "incidents"
    verbose_name = "Incidents, notices and the Alertmanager receiver"

    def ready(self) -> None:
        from relaydesk.core import periodic
        from relaydesk.tickets.signals import ticket_created

        from . import linking, notices, services

        ticket_created.connect(linking.on_ticket_created, dispatch_uid="incidents_autolink")
        periodic.register("incident_notices", notices.deliver_all)
        periodic.register("incident_maintenance", services.maintenance_sweep)
