"""Web (non-API) URLs of the status capability, included at the site root."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("status/", views.status_page, name="status"),
    path("status/incidents/", views.incident_history, name="status-history"),
    path("status/incidents/<int:incident_id>", views.incident_detail, name="status-incident"),
    path("status/feed.atom", views.feed, name="status-feed"),
]
