"""Web (non-API) URLs of the reports capability, included at the site root."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views, views_audit

urlpatterns: list[URLPattern | URLResolver] = [
    path("reports/", views.index, name="reports"),
    path("reports/audit/", views_audit.audit, name="reports-audit"),
]
