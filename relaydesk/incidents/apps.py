from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "relaydesk.incidents"
    label = "incidents"
    verbose_name = "Incidents, notices and the Alertmanager receiver"
