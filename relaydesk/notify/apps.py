from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "relaydesk.notify"
    label = "notify"
    verbose_name = "Notifications and e-mail"
