from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from relaydesk.api import api

admin.site.site_header = "RelayDesk administration"
admin.site.site_title = "RelayDesk"

urlpatterns = [
    # Until the portal and console exist, the front door leads to the admin (staff) login.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("relaydesk.routing.urls")),
    path("", include("relaydesk.monitoring.urls")),
    path("", include("relaydesk.kb.urls")),
    path("", include("relaydesk.staffing.urls")),
]
