from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "relaydesk.incidents"
    label = "incidents"
    verbose_name = "Incidents, notices and the Alertmanager receiver"

    def ready(self) -> None:
        from relaydesk.core import periodic
        from relaydesk.tickets.signals import ticket_created

        from . import linking, notices, paging, services

        ticket_created.connect(linking.on_ticket_created, dispatch_uid="incidents_autolink")
        periodic.register("incident_notices", notices.deliver_all)
        periodic.register("incident_maintenance", services.maintenance_sweep)
        periodic.register("incident_manager_pages", paging.deliver_manager_pages)
        # a key account's manager is paged (once per incident) through routing's pager
        if paging.page_account_manager not in services.key_account_hooks:
            services.key_account_hooks.append(paging.page_account_manager)
