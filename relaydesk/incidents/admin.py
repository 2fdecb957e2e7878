from django.contrib import admin

from .models import (
    AffectedOrganisation,
    AlertState,
    Component,
    Incident,
    IncidentTicket,
    IncidentUpdate,
    Maintenance,
    Notice,
    NoticeSubscription,
    WebhookEndpoint,
)


class UpdateInline(admin.TabularInline):
    model = IncidentUpdate
    extra = 0
    fields = ("status", "body_en", "body_zh", "internal_note", "notify", "created_by", "created_at")
    readonly_fields = ("created_at",)


class TicketInline(admin.TabularInline):
    model = IncidentTicket
    extra = 0
    raw_id_fields = ("ticket",)


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("id", "title_en", "service", "region", "severity", "status", "source", "started_at", "first_notice_at", "first_customer_ticket_at")
    list_filter = ("status", "severity", "source", "service", "region")
    search_fields = ("title_en", "title_zh")
    inlines = [UpdateInline, TicketInline]
    readonly_fields = ("first_notice_at", "first_customer_ticket_at", "created_at")


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ("service", "region", "status", "updated_at")
    list_filter = ("status", "service", "region")


@admin.register(Maintenance)
class MaintenanceAdmin(admin.ModelAdmin):
    list_display = ("title_en", "service", "region", "starts_at", "ends_at", "notice_at", "notice_sent_at")


@admin.register(AffectedOrganisation)
class AffectedAdmin(admin.ModelAdmin):
    list_display = ("incident", "organisation", "share", "is_key_account", "manager_told_at")
    raw_id_fields = ("incident", "organisation")


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "address", "status", "attempts", "priority", "next_attempt_at", "sent_at")
    list_filter = ("status", "channel")
    search_fields = ("address", "key")
    raw_id_fields = ("incident", "update", "maintenance", "organisation", "webhook")


@admin.register(NoticeSubscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("organisation", "channel", "email", "webhook", "active")


@admin.register(WebhookEndpoint)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("organisation", "url", "enabled", "consecutive_failures", "disabled_at")


@admin.register(AlertState)
class AlertStateAdmin(admin.ModelAdmin):
    list_display = ("fingerprint", "alertname", "status", "starts_at", "incident")
