"""The demo mail sink's staff pages, included at the site root."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "demo"

urlpatterns: list[URLPattern | URLResolver] = [
    path("demo/mail/", views.mail_list, name="mail"),
    path("demo/mail/rows/", views.mail_rows, name="mail-rows"),
    path("demo/mail/<int:number>/", views.mail_detail, name="mail-detail"),
    path("demo/mail/<int:number>.eml", views.mail_raw, name="mail-raw"),
]
