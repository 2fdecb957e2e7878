from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "relaydesk.tickets"
    label = "tickets"
    verbose_name = "Tickets"
