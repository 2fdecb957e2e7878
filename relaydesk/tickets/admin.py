from django.contrib import admin

from relaydesk.sla.engine import clock_fields

from .models import Attachment, AuditEntry, Message, Tag, Ticket, TicketCounter


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    fields = ("author", "author_kind", "is_public", "is_auto", "body", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("author",)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("number", "subject", "organisation", "status", "priority", "assignee", "sla_state", "sla_due_at", "created_at")
    list_filter = ("status", "priority", "category", "channel", "sla_state", "team", "organisation__plan")
    search_fields = ("number", "subject", "organisation__name", "requester__email", "app_id", "channel_name")
    raw_id_fields = ("requester", "assignee", "organisation")
    date_hierarchy = "created_at"
    inlines = [MessageInline]
    readonly_fields = tuple(clock_fields())


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("ticket", "author_kind", "is_public", "is_auto", "created_at")
    list_filter = ("author_kind", "is_public", "is_auto", "channel")
    search_fields = ("body", "ticket__number")
    raw_id_fields = ("ticket", "author")


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "ticket", "content_type", "size", "created_at")
    list_filter = ("content_type",)
    search_fields = ("filename", "ticket__number")
    raw_id_fields = ("ticket", "message", "uploaded_by")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("ticket", "field", "old", "new", "actor", "via", "at")
    list_filter = ("field", "actor_kind", "via")
    search_fields = ("ticket__number", "field", "new")
    raw_id_fields = ("ticket", "actor")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(TicketCounter)
class TicketCounterAdmin(admin.ModelAdmin):
    """The last ticket number handed out; read-only (numbers are never reused)."""

    list_display = ("id", "value")
    search_fields = ("id",)
    readonly_fields = ("value",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
