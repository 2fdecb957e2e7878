from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "relaydesk.kb"
    label = "kb"
    verbose_name = "Knowledge base and solution templates"

    def ready(self) -> None:
        from relaydesk.tickets.signals import ticket_created

        from .deflection import on_ticket_created

        ticket_created.connect(on_ticket_created, dispatch_uid="kb.deflection.ticket_created")
