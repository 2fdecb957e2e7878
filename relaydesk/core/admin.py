from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm

from .models import APIToken, LoginAttempt, Organisation, Region, Service, Team, User


class TeamAdminForm(forms.ModelForm):
    """The routing API's rules for a team (a unique name, ignoring case)."""

    class Meta:
        model = Team
        fields = "__all__"

    def clean_name(self) -> str:
        from relaydesk.routing import validation

        team = self.instance if self.instance.pk else None
        try:
            name = validation.check_team_name(self.cleaned_data.get("name"), team)
        except validation.Invalid as exc:
            raise forms.ValidationError(exc.message) from exc
        if validation.team_name_taken(name, team) is not None:
            raise forms.ValidationError(f"a team named {name!r} exists already")
        return name


class MemberChangeForm(UserChangeForm):
    """The routing API's membership rules: only active staff join a team, and somebody listed
    in a rotation of their team leaves it there first (else routing would keep scheduling
    them for a team they no longer belong to)."""

    def clean(self) -> dict[str, Any]:
        from relaydesk.routing import validation

        data = super().clean()
        team = data.get("team")
        user = self.instance
        if team is not None and data.get("kind", user.kind) != User.KIND_STAFF:
            self.add_error("team", "only support staff join teams; a customer belongs to an organisation")
        if user.pk and user.team_id is not None and (team is None or team.pk != user.team_id):
            listed = validation.rotations_listing(user, user.team_id)
            if listed:
                self.add_error(
                    "team",
                    f"{user.email} is still in rotation(s) {', '.join(listed)} of their current team; "
                    "take them out there first",
                )
        return data


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "country", "subdivision", "timezone", "calendar")
    list_filter = ("country",)
    search_fields = ("code", "name", "country")


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    list_display = ("name", "region", "timezone", "lead", "serves_all")
    list_filter = ("region", "serves_all")
    search_fields = ("name",)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "plan", "home_region", "language", "is_key_account", "account_manager")
    list_filter = ("plan", "home_region", "language", "is_key_account")
    search_fields = ("name", "email_domains")
    filter_horizontal = ("support_teams",)
    autocomplete_fields = ("account_manager",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = MemberChangeForm
    list_display = ("email", "first_name", "last_name", "kind", "organisation", "team", "is_active")
    list_filter = ("kind", "groups", "team", "organisation", "is_active")
    search_fields = ("email", "first_name", "last_name", "organisation__name")
    ordering = ("email",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("RelayDesk", {"fields": ("kind", "organisation", "language", "timezone", "team", "languages", "skills")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "username", "kind", "organisation", "password1", "password2")}),
    )


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    list_display = ("key_prefix", "user", "name", "scopes", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("key_prefix", "user__email", "name")
    readonly_fields = ("key_prefix", "digest", "created_at", "last_used_at")


@admin.register(LoginAttempt)
class LoginAttemptAdmin(admin.ModelAdmin):
    list_display = ("key", "at")
    search_fields = ("key",)
    list_filter = ("at",)
