from django.contrib import admin
from django.urls import path

from relaydesk.api import api

admin.site.site_header = "RelayDesk administration"
admin.site.site_title = "RelayDesk"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
