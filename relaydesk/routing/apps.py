from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "relaydesk.routing"
    label = "routing"
    verbose_name = "Follow-the-sun routing and on-call"
