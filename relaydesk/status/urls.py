"""Web (non-API) URLs of the status capability, included at the site root."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import subscribe, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("status/", views.status_page, name="status"),
    path("status/incidents/", views.incident_history, name="status-history"),
    path("status/incidents/<int:incident_id>", views.incident_detail, name="status-incident"),
    path("status/feed.atom", views.feed, name="status-feed"),
    path("status/subscribe", subscribe.subscribe_page, name="status-subscribe"),
    path("status/subscribe/confirm/<str:token>", subscribe.confirm_page, name="status-confirm"),
    path("status/unsubscribe/<str:token>", subscribe.unsubscribe_page, name="status-unsubscribe"),
]
