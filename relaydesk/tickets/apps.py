from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "relaydesk.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from relaydesk.core import periodic

        from . import files

        periodic.register("attachment_orphans", files.periodic)
