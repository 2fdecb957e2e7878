from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "relaydesk.core"
    label = "core"
    verbose_name = "Accounts, regions and services"

    def ready(self) -> None:
        from . import auth_backend  # noqa: F401  (registers the failed-login receiver)
