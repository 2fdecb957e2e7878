from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "relaydesk.sla"
    label = "sla"
    verbose_name = "SLA calendars, policies and clocks"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import engine
        from .models import BusinessCalendar, Plan, SLAPolicy, SLARule

        for model in (SLARule, SLAPolicy, Plan, BusinessCalendar):
            post_save.connect(engine.forget_rules, sender=model, dispatch_uid=f"forget-rules-save-{model.__name__}")
            post_delete.connect(engine.forget_rules, sender=model, dispatch_uid=f"forget-rules-del-{model.__name__}")
