from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "relaydesk.reports"
    label = "reports"
    verbose_name = "Reports: promise against reality"
