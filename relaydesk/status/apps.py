from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "relaydesk.status"
    label = "status"
    verbose_name = "Public status page"
