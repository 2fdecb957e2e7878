"""Web (non-API) URLs of the routing capability, included at the site root."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("routing/page/<str:signed>/", views.page_action, name="routing-page-action"),
    path("routing/ical/<str:signed>.ics", views.ical_feed, name="routing-ical"),
]
