from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "relaydesk.monitoring"
    label = "monitoring"
    verbose_name = "Network telemetry and footprint"

    def ready(self) -> None:
        from relaydesk.core import periodic

        from . import store

        periodic.register("telemetry_purge", store.purge_raw)
