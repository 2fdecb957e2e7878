from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "relaydesk.kb"
    label = "kb"
    verbose_name = "Knowledge base and solution templates"
