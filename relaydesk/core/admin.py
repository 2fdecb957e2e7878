from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import APIToken, LoginAttempt, Organisation, Region, Service, Team, User


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
