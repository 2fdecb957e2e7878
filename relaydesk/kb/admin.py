"""Admin for the knowledge base; article text is edited per translation and saved through
the service, so every admin save keeps a version and updates the search index."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from . import macros as engine
from . import services
from .models import Article, Category, Engagement, Image, Macro, Translation, Version


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ("slug", "titles", "position")


class TranslationInline(admin.StackedInline[Translation, Article]):
    model = Translation
    extra = 0
    fields = ("lang", "title", "body", "version", "updated_at")
    readonly_fields = ("version", "updated_at")


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin[Article]):
    list_display = ("slug", "category", "visibility", "status", "updated_at")
    list_filter = ("status", "visibility", "category")
    search_fields = ("slug", "translations__title")
    filter_horizontal = ("related",)
    inlines = [TranslationInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Translation:
            super().save_formset(request, form, formset, change)
            return
        for obj in formset.deleted_objects:
            obj.delete()
        for f in formset.forms:
            if not f.has_changed() or f in formset.deleted_forms or not f.cleaned_data:
                continue
            tr = f.instance
            services.save_translation(form.instance, tr.lang, title=tr.title, body=tr.body, author=request.user, note="admin")  # type: ignore[arg-type]

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "tags" in form.changed_data:
            services.reindex(Article.objects.filter(pk=obj.pk))


@admin.register(Version)
class VersionAdmin(admin.ModelAdmin[Version]):
    list_display = ("translation", "number", "note", "author", "created_at")
    readonly_fields = ("translation", "number", "title", "body", "note", "author", "created_at")


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin[Image]):
    list_display = ("filename", "article", "content_type", "size", "created_at")
    readonly_fields = ("digest", "size", "content_type")


class MacroAdminForm(forms.ModelForm[Macro]):
    """Checks each body with the template engine on save, so an unknown placeholder or a
    template tag is a clear form error instead of a failure when an agent applies it."""

    class Meta:
        model = Macro
        fields = ("name", "categories", "body_en", "body_zh", "set_status", "set_tags", "is_active")

    def _check_body(self, field: str) -> str:
        body = self.cleaned_data.get(field) or ""
        try:
            engine.placeholders(body)
        except engine.TemplateError as exc:
            raise forms.ValidationError(exc.message, code="placeholder") from exc
        return body

    def clean_body_en(self) -> str:
        return self._check_body("body_en")

    def clean_body_zh(self) -> str:
        return self._check_body("body_zh")

    def clean_set_status(self) -> str:
        from relaydesk.tickets.models import STATUSES

        value = self.cleaned_data.get("set_status") or ""
        if value and value not in dict(STATUSES):
            raise forms.ValidationError(f"must be one of {', '.join(dict(STATUSES))}")
        return value


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin[Macro]):
    form = MacroAdminForm
    list_display = ("name", "categories", "set_status", "usage_count", "is_active")
    readonly_fields = ("usage_count", "last_used_at", "created_at")


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin[Engagement]):
    list_display = ("article", "user", "session", "solved", "outcome", "last_at")
    list_filter = ("outcome", "solved")
