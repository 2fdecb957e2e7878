"""Web (non-API) URLs of the reports capability, included at the site root."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("reports/", views.index, name="reports"),
]
