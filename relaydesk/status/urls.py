"""Web (non-API) URLs of the status capability, included at the site root."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
