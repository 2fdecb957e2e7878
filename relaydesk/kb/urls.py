"""Web (non-API) URLs of the kb capability, included at the site root."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import diagnosis_views, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("kb/images/<int:image_id>/<str:name>", views.image, name="kb-image"),
    path("portal/diagnosis/", diagnosis_views.diagnosis_page, name="kb-diagnosis"),
]
