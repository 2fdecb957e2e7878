from django.contrib import admin
from django.urls import include, path

from relaydesk.api import api
from relaydesk.core.observability import metrics_view

admin.site.site_header = "RelayDesk administration"
admin.site.site_title = "RelayDesk"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("metrics", metrics_view, name="metrics"),
    path("", include("relaydesk.routing.urls")),
    path("", include("relaydesk.monitoring.urls")),
    path("", include("relaydesk.kb.urls")),
    path("", include("relaydesk.staffing.urls")),
    path("", include("relaydesk.reports.urls")),
    path("", include("relaydesk.incidents.urls")),
    path("", include("relaydesk.status.urls")),
    path("", include("relaydesk.demo.urls")),
    path("", include("relaydesk.web.urls")),
]
