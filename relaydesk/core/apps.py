from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "relaydesk.core"
    label = "core"
    verbose_name = "Accounts, regions and services"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from relaydesk.api.auth import forget_token_cache

        from . import auth_backend, dbstats, lookups, periodic  # noqa: F401  (auth_backend: failed-login receiver)
        from .models import APIToken, Organisation, Region, Team, User

        # SQLite's planner statistics, refreshed hourly by the worker (see dbstats).
        periodic.register("sqlite_statistics", dbstats.refresh)

        def forget_regions(**_kw: object) -> None:
            lookups.forget()

        post_save.connect(forget_regions, sender=Region, dispatch_uid="region-cache-save", weak=False)
        post_delete.connect(forget_regions, sender=Region, dispatch_uid="region-cache-del", weak=False)

        # Changes made in this process reach the token cache at once (other processes within
        # USER_GRAPH_TTL_S; revocation and deactivation are checked on every request anyway).
        def forget(**_kw: object) -> None:
            forget_token_cache()

        for model in (User, Organisation, Team, APIToken):
            post_save.connect(forget, sender=model, dispatch_uid=f"token-cache-save-{model.__name__}", weak=False)
            post_delete.connect(forget, sender=model, dispatch_uid=f"token-cache-del-{model.__name__}", weak=False)
        m2m_changed.connect(forget, sender=User.groups.through, dispatch_uid="token-cache-groups", weak=False)
