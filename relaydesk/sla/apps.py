from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "relaydesk.sla"
    label = "sla"
    verbose_name = "SLA calendars, policies and clocks"
