from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "relaydesk.routing"
    label = "routing"
    verbose_name = "Follow-the-sun routing and on-call"

    def ready(self) -> None:
        from relaydesk.core import periodic
        from relaydesk.tickets import signals

        from . import paging, services

        signals.ticket_created.connect(services.on_ticket_created, dispatch_uid="routing_created")
        signals.message_added.connect(services.on_message_added, dispatch_uid="routing_message")
        signals.ticket_changed.connect(services.on_ticket_changed, dispatch_uid="routing_changed")

        from django.db import connections
        from django.db.models.signals import post_migrate

        from . import loads, stamps

        # The load counters and the cache stamps are kept by triggers, which SQLite drops
        # when a migration rebuilds a table: put back whatever is missing.
        def _ensure_loads(using: str = "default", **_kw: object) -> None:
            loads.ensure(connections[using])
            stamps.ensure(connections[using])

        post_migrate.connect(_ensure_loads, sender=self, weak=False, dispatch_uid="routing_ensure_loads")
        periodic.register("routing_handover", services.handover_sweep)
        periodic.register("routing_escalation", paging.escalation_sweep)
