"""Admin of routing setup.  Every form checks what the API checks (``validation``): an invalid
RRULE, an unknown time zone, overlapping overrides, a chain loop, a person without a team
show as errors on the field and nothing is saved."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from . import validation
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


def _field_error(form: forms.BaseForm, exc: validation.Invalid) -> ValidationError:
    """The check's error on its field when the form has it, else on the whole form."""
    key = exc.field.split("[", 1)[0].split(".", 1)[0]
    if key in form.fields:
        return ValidationError({key: f"{exc.field}: {exc.message}"})
    return ValidationError(f"{exc.field}: {exc.message}")


class AgentProfileForm(forms.ModelForm):
    class Meta:
        model = AgentProfile
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            if data.get("user") is not None:
                validation.check_staff_with_team(data["user"], "user", "agent")
            if "capacity" in data:
                validation.check_capacity(data["capacity"])
            if "skills" in data:
                validation.check_skills(data["skills"])
            if data.get("backup") is not None:
                validation.check_staff_with_team(data["backup"], "backup", "backup")
                if data.get("user") is not None and data["backup"].pk == data["user"].pk:
                    raise validation.Invalid("backup", "an agent cannot be their own backup")
        except validation.Invalid as exc:
            raise _field_error(self, exc) from exc
        return data


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    form = AgentProfileForm
    list_display = ("user", "presence", "presence_follows_shift", "capacity", "backup", "last_assigned_at")
    list_filter = ("presence",)
    search_fields = ("user__email", "user__first_name")
    raw_id_fields = ("user", "backup")


class OverrideForm(forms.ModelForm):
    class Meta:
        model = ScheduleOverride
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            if data.get("user") is not None:
                validation.check_staff_with_team(data["user"], "user")
            validation.check_override_window(data.get("start"), data.get("end"))
        except validation.Invalid as exc:
            raise _field_error(self, exc) from exc
        return data


class OverrideFormSet(forms.BaseInlineFormSet):
    """The rotation's overrides, as they would be after saving, must not overlap."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        windows, replaced = [], []
        for form in self.forms:
            if form.instance.pk is not None:
                replaced.append(form.instance.pk)
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            if form.cleaned_data.get("start") and form.cleaned_data.get("end"):
                windows.append((form.cleaned_data["start"], form.cleaned_data["end"]))
        try:
            validation.check_override_overlap(self.instance, windows, exclude=replaced)
        except validation.Invalid as exc:
            raise ValidationError(f"overrides: {exc.message}") from exc


class OverrideInline(admin.TabularInline):
    model = ScheduleOverride
    form = OverrideForm
    formset = OverrideFormSet
    extra = 0
    raw_id_fields = ("user", "created_by")


class RotationForm(forms.ModelForm):
    class Meta:
        model = Rotation
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        team = data.get("team")
        if team is None or any(k not in data for k in ("rrule", "dtstart", "duration_minutes", "member_ids")):
            return data  # the missing field already has its error
        probe = Rotation(**{k: v for k, v in data.items() if k in {f.name for f in Rotation._meta.fields}})
        try:
            if data.get("time_zone"):
                validation.check_zone(data["time_zone"], "time_zone")
            validation.check_members(team, data["member_ids"])
            validation.check_rotation(probe)
        except validation.Invalid as exc:
            raise _field_error(self, exc) from exc
        return data


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    form = RotationForm
    list_display = ("name", "team", "kind", "rrule", "dtstart", "duration_minutes", "member_ids")
    list_filter = ("team", "kind")
    inlines = [OverrideInline]


class TimeOffForm(forms.ModelForm):
    class Meta:
        model = TimeOff
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            validation.check_time_off(data.get("user"), data.get("start"), data.get("end"))
        except validation.Invalid as exc:
            raise _field_error(self, exc) from exc
        return data


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    form = TimeOffForm
    list_display = ("user", "start", "end", "reason")
    raw_id_fields = ("user",)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("ticket", "agent", "team", "rule", "trigger", "summary", "created_at")
    list_filter = ("rule", "trigger")
    raw_id_fields = ("ticket", "agent", "previous_agent", "actor")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class StepForm(forms.ModelForm):
    class Meta:
        model = EscalationStep
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        targets = [k for k in ("user", "rotation", "next_chain") if data.get(k) is not None]
        if len(targets) != 1:
            raise ValidationError("give exactly one of user, rotation or next chain")
        u = data.get("user")
        if u is not None and (u.kind != u.KIND_STAFF or (u.team_id is None and not u.is_admin_role)):
            try:
                validation.check_staff_with_team(u, "user")
            except validation.Invalid as exc:
                raise _field_error(self, exc) from exc
        return data


class StepFormSet(forms.BaseInlineFormSet):
    """At least one step, and no loop through the chains the steps hand off to."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            raise ValidationError("steps: an escalation chain needs at least one step with a person or rotation")
        levels = [d.get("level") for d in kept]
        if len(set(levels)) != len(levels):
            raise ValidationError("steps: two steps have the same level")
        try:
            validation.check_chain_graph(self.instance, [d["next_chain"].pk for d in kept if d.get("next_chain") is not None])
        except validation.Invalid as exc:
            raise ValidationError(f"{exc.field}: {exc.message}") from exc


class StepInline(admin.TabularInline):
    model = EscalationStep
    form = StepForm
    formset = StepFormSet
    fk_name = "chain"
    extra = 0
    raw_id_fields = ("user",)


class ChainForm(forms.ModelForm):
    class Meta:
        model = EscalationChain
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            validation.check_priorities(data.get("priorities", []))
            if data.get("webhook_url") and len(data.get("webhook_secret") or "") < 8:
                raise validation.Invalid("webhook_secret", "give at least 8 characters to sign the webhook with")
        except validation.Invalid as exc:
            raise _field_error(self, exc) from exc
        return data


@admin.register(EscalationChain)
class EscalationChainAdmin(admin.ModelAdmin):
    form = ChainForm
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
