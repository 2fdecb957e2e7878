from django.contrib import admin

from .models import (
    AgentProfile,
    Assignment,
    EscalationChain,
    EscalationStep,
    Page,
    PageAttempt,
    PageEvent,
    PageNotification,
    Rotation,
    ScheduleOverride,
    TimeOff,
)


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "presence", "presence_follows_shift", "capacity", "backup", "last_assigned_at")
    list_filter = ("presence",)
    search_fields = ("user__email", "user__first_name")
    raw_id_fields = ("user", "backup")


class OverrideInline(admin.TabularInline):
    model = ScheduleOverride
    extra = 0
    raw_id_fields = ("user", "created_by")


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "kind", "rrule", "dtstart", "duration_minutes", "member_ids")
    list_filter = ("team", "kind")
    inlines = [OverrideInline]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ("user", "start", "end", "reason")
    raw_id_fields = ("user",)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("ticket", "agent", "team", "rule", "trigger", "summary", "created_at")
    list_filter = ("rule", "trigger")
    raw_id_fields = ("ticket", "agent", "previous_agent", "actor")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class StepInline(admin.TabularInline):
    model = EscalationStep
    fk_name = "chain"
    extra = 0
    raw_id_fields = ("user",)


@admin.register(EscalationChain)
class EscalationChainAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "priorities", "repeat", "webhook_url")
    inlines = [StepInline]


class NotificationInline(admin.TabularInline):
    model = PageNotification
    extra = 0
    readonly_fields = ("user", "level", "round", "created_at")
    exclude = ("token",)


class EventInline(admin.TabularInline):
    model = PageEvent
    extra = 0
    readonly_fields = ("kind", "detail", "actor", "via", "at")


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ("id", "ticket", "status", "level", "round", "created_at", "acked_at", "acked_by")
    list_filter = ("status",)
    raw_id_fields = ("ticket", "acked_by", "resolved_by")
    inlines = [NotificationInline, EventInline]


@admin.register(PageAttempt)
class PageAttemptAdmin(admin.ModelAdmin):
    list_display = ("notification", "channel", "status", "attempts", "http_status", "sent_at", "next_attempt_at")
    list_filter = ("channel", "status")
