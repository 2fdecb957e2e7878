from django.contrib import admin

from .models import BusinessCalendar, ClockEvent, Plan, SLAPolicy, SLARule


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "updated_at")
    search_fields = ("name", "description")
    list_filter = ("updated_at",)


class SLARuleInline(admin.TabularInline):
    model = SLARule
    extra = 0
    ordering = ("order",)


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    inlines = [SLARuleInline]


@admin.register(SLARule)
class SLARuleAdmin(admin.ModelAdmin):
    list_display = ("policy", "order", "name", "plan", "priority", "category", "channel", "first_response_minutes", "resolution_minutes", "calendar_mode")
    list_filter = ("policy", "plan", "priority", "calendar_mode")
    search_fields = ("name",)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "rank")
    search_fields = ("code", "name")


@admin.register(ClockEvent)
class ClockEventAdmin(admin.ModelAdmin):
    list_display = ("ticket", "metric", "cycle", "kind", "at", "due_at")
    list_filter = ("metric", "kind")
    search_fields = ("ticket__number",)
    raw_id_fields = ("ticket",)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
