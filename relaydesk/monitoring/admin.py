from django.contrib import admin

from .models import Carrier, EdgeNode, FootprintHour, TelemetryBatch, TelemetrySeries


@admin.register(EdgeNode)
class EdgeNodeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region", "active")
    list_filter = ("region", "active")
    search_fields = ("code", "name")


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ("asn", "name", "country")
    list_filter = ("country",)
    search_fields = ("name", "=asn")
    filter_horizontal = ("regions",)


@admin.register(TelemetrySeries)
class TelemetrySeriesAdmin(admin.ModelAdmin):
    list_display = ("key", "service", "region", "node", "carrier", "metric")
    list_filter = ("service", "region", "metric")
    search_fields = ("key",)
    readonly_fields = ("key", "service", "region", "node", "carrier", "metric")


@admin.register(TelemetryBatch)
class TelemetryBatchAdmin(admin.ModelAdmin):
    list_display = ("batch_id", "source", "received_at", "samples")
    search_fields = ("batch_id", "source")
    readonly_fields = ("source", "batch_id", "received_at", "samples", "result")


@admin.register(FootprintHour)
class FootprintHourAdmin(admin.ModelAdmin):
    list_display = ("hour", "organisation", "service", "region", "carrier", "sessions", "minutes")
    list_filter = ("service", "region")
    search_fields = ("organisation__name",)
    date_hierarchy = "hour"
    raw_id_fields = ("organisation",)
