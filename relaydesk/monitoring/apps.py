from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "relaydesk.monitoring"
    label = "monitoring"
    verbose_name = "Network telemetry and footprint"

    def ready(self) -> None:
        import os

        from relaydesk.core import observability, periodic

        from . import detect, store
        from . import observability as mon_observability

        periodic.register("telemetry_purge", store.purge_raw)
        periodic.register("detection", detect.detection_tick)
        observability.register_collector(mon_observability.detector_scores)
        if os.environ.get("RELAYDESK_DEMO_LIVE") == "1":
            from . import live

            periodic.register("demo_live_feed", live.feed_tick)
