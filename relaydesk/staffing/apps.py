from django.apps import AppConfig


class StaffingConfig(AppConfig):
    name = "relaydesk.staffing"
    label = "staffing"
    verbose_name = "Staffing plans"
