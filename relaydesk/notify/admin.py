from django.contrib import admin

from .models import InboundEmail, Notification, OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("kind", "subject", "status", "attempts", "next_attempt_at", "created_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("subject", "message_id", "to")
    raw_id_fields = ("ticket",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "text", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("text", "user__email")
    raw_id_fields = ("user", "ticket")


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ("message_id", "sender", "subject", "outcome", "received_at")
    list_filter = ("outcome",)
    search_fields = ("message_id", "sender", "subject")
    raw_id_fields = ("ticket",)
