"""Django admin for tickets: a window onto the data, never a way around the ticket rules.

A ticket change made here goes through ``services.update_ticket`` like one from the console
or the API, so it is audited, re-targets the SLA clocks and obeys the status transitions.
Tickets, messages and attachments are filed through the portal, e-mail or the API (which
validate them and start the clocks), so the admin cannot add them, and messages,
attachments and the audit trail cannot be edited here.
"""

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from relaydesk.sla.engine import clock_fields

from . import services
from .models import Attachment, AuditEntry, Message, Tag, Ticket, TicketCounter

# What the admin may change on a ticket, all through ``services.update_ticket``.
ADMIN_EDITABLE = ("subject", "status", "priority", "category", "assignee", "team")


class ReadOnlyAdminMixin:
    """Viewable, never added or changed here (deleting stays with the model's own rules)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MessageInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = Message
    extra = 0
    fields = ("author", "author_kind", "is_public", "is_auto", "body", "created_at")
    readonly_fields = fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("number", "subject", "organisation", "status", "priority", "assignee", "sla_state", "sla_due_at", "created_at")
    list_filter = ("status", "priority", "category", "channel", "sla_state", "team", "organisation__plan")
    search_fields = ("number", "subject", "organisation__name", "requester__email", "app_id", "channel_name")
    raw_id_fields = ("requester", "assignee", "organisation")
    date_hierarchy = "created_at"
    inlines = [MessageInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Ticket._meta.fields if f.name not in ADMIN_EDITABLE] + ["tags", *clock_fields()]

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in ADMIN_EDITABLE}
        if not change or not changes:
            return
        try:
            services.update_ticket(obj, actor=request.user, changes=changes, via="admin")  # type: ignore[arg-type]
        except services.TicketError as exc:
            request._ticket_admin_error = str(exc)  # type: ignore[attr-defined]

    def response_change(self, request: HttpRequest, obj: Ticket) -> HttpResponse:
        error = getattr(request, "_ticket_admin_error", None)
        if error:
            self.message_user(request, f"Not changed: {error}", level=messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("ticket", "author_kind", "is_public", "is_auto", "created_at")
    list_filter = ("author_kind", "is_public", "is_auto", "channel")
    search_fields = ("body", "ticket__number")
    raw_id_fields = ("ticket", "author")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
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
