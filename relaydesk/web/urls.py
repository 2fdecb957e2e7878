"""Pages: the front door, customer portal and agent console (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

urlpatterns: list[URLPattern | URLResolver] = [
    # Until the portal and console exist, the front door leads to the admin (staff) login.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
