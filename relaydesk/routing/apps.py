from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "relaydesk.routing"
    label = "routing"
    verbose_name = "Follow-the-sun routing and on-call"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from relaydesk.core import periodic
        from relaydesk.tickets import signals

        from . import paging, schedules, services
        from .models import Rotation, ScheduleOverride, TimeOff

        signals.ticket_created.connect(services.on_ticket_created, dispatch_uid="routing_created")
        signals.message_added.connect(services.on_message_added, dispatch_uid="routing_message")
        signals.ticket_changed.connect(services.on_ticket_changed, dispatch_uid="routing_changed")

        def _invalidate(**_kw: object) -> None:
            schedules.invalidate()
            services.invalidate_directory()

        def _invalidate_directory(**_kw: object) -> None:
            services.invalidate_directory()

        from relaydesk.core.models import Team, User

        from .models import AgentProfile

        # Schedules depend on rotations, overrides, time off and teams (zone, region's
        # holidays); a person's profile or presence changes only the staff directory.
        for model, receiver in (
            (Rotation, _invalidate),
            (ScheduleOverride, _invalidate),
            (TimeOff, _invalidate),
            (Team, _invalidate),
            (AgentProfile, _invalidate_directory),
            (User, _invalidate_directory),
        ):
            post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"routing_inv_save_{model.__name__}")
            post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"routing_inv_del_{model.__name__}")
        from django.db import connections
        from django.db.models.signals import post_migrate

        from . import loads

        def _ensure_loads(using: str = "default", **_kw: object) -> None:
            loads.ensure(connections[using])

        post_migrate.connect(_ensure_loads, sender=self, weak=False, dispatch_uid="routing_ensure_loads")
        periodic.register("routing_handover", services.handover_sweep)
        periodic.register("routing_escalation", paging.escalation_sweep)
