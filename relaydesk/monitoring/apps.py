from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "relaydesk.monitoring"
    label = "monitoring"
    verbose_name = "Network telemetry and footprint"
