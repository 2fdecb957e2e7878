from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo world's loader and, while ``relaydesk demo`` runs, its local mail sink page."""

    name = "relaydesk.demo"
    label = "demo"
    verbose_name = "Demo"
