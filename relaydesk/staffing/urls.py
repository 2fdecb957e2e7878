"""Web (non-API) URLs of the staffing capability, included at the site root."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("staffing/", views.plan_page, name="staffing-plan"),
]
