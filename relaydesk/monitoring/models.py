"""Topology (edge nodes, carriers), telemetry (series, per-minute rollups, raw samples, batches)
and customer footprint (organisation × service × region [× carrier] × hour)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from relaydesk.core.models import Organisation, Region, Service

from .metrics import METRIC_NAMES

METRIC_CHOICES = [(m, m) for m in METRIC_NAMES]


class EdgeNode(models.Model):
    """An edge point of presence in a region (e.g. ``sg-edge-01``)."""

    code = models.SlugField(max_length=64, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="edge_nodes")
    name = models.CharField(max_length=100, blank=True, default="")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Carrier(models.Model):
    """A network operator by autonomous system number (ASN), e.g. AS7713 Telkomsel."""

    asn = models.PositiveBigIntegerField(unique=True, help_text="autonomous system number")
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, blank=True, default="", help_text="ISO 3166-1 alpha-2")
    regions = models.ManyToManyField(Region, blank=True, related_name="carriers")

    class Meta:
        ordering = ["asn"]

    def __str__(self) -> str:
        return f"AS{self.asn} {self.name}"


class TelemetrySeries(models.Model):
    """One time series: service × region × (node) × (carrier) × metric. ``key`` makes the
    combination unique with the optional parts (SQL unique constraints treat NULLs as distinct)."""

    key = models.CharField(max_length=200, unique=True)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey(
        EdgeNode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    carrier = models.ForeignKey(
        Carrier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    metric = models.CharField(max_length=32, choices=METRIC_CHOICES)

    class Meta:
        indexes = [models.Index(fields=["service", "region", "metric"], name="mon_series_place")]

    def __str__(self) -> str:
        return self.key

    @staticmethod
    def make_key(
        service_id: int, region_id: int, node_id: int | None, carrier_id: int | None, metric: str
    ) -> str:
        return f"{service_id}:{region_id}:{node_id or 0}:{carrier_id or 0}:{metric}"


class TelemetryMinute(models.Model):
    """The per-minute rollup of one series: merged across batches by upsert (counts and sums
    add, min/max widen), so the weighted mean is ``sum_vw / sum_w`` over any set of rows."""

    pk = models.CompositePrimaryKey("series_id", "minute")
    # No database-level foreign key: a per-row referential check would cost as much as the
    # upsert itself; series are only ever created by the ingest and never deleted.
    series = models.ForeignKey(
        TelemetrySeries, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    minute = models.DateTimeField(help_text="start of the minute (UTC)")
    count = models.IntegerField(help_text="samples")
    sum_w = models.FloatField(help_text="sum of weights (sessions)")
    sum_vw = models.FloatField(help_text="sum of value × weight")
    min_value = models.FloatField()
    max_value = models.FloatField()

    @property
    def mean(self) -> float:
        return self.sum_vw / self.sum_w if self.sum_w else float("nan")


class TelemetryBatch(models.Model):
    """A client batch, remembered so a repeat is answered with the original result."""

    source = models.CharField(max_length=40, help_text="user:<id> for the API, cli for imports")
    batch_id = models.CharField(max_length=128)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    samples = models.IntegerField()
    result = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "batch_id"], name="mon_batch_once")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.batch_id}"


class TelemetryRaw(models.Model):
    """The raw samples of one batch, kept ``RELAYDESK_TELEMETRY_RAW_RETENTION_HOURS`` after it
    was received (audit, re-rollup): one row per batch holding the samples as columns
    (:func:`relaydesk.monitoring.store.raw_samples` reads them back), not one row per sample —
    a row per sample cost the database over a third of the whole write (decision 0008).
    Batch ids grow with arrival, so the purge deletes a batch-id range."""

    batch = models.OneToOneField(
        TelemetryBatch,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    samples = models.IntegerField()
    columns = models.BinaryField(
        help_text="little-endian records (series id int64, ts float64 epoch s, value, weight)"
    )


class FootprintHour(models.Model):
    """How much traffic an organisation had on a service in a region (optionally one carrier)
    in one hour. ``carrier_key`` is the carrier's id or 0 for "all carriers" (NULL-safe unique)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="footprint"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    carrier = models.ForeignKey(
        Carrier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    carrier_key = models.BigIntegerField(default=0, editable=False)
    hour = models.DateTimeField(help_text="start of the hour (UTC)")
    sessions = models.BigIntegerField()
    minutes = models.FloatField(help_text="session-minutes")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["hour", "organisation_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "service", "region", "carrier_key", "hour"],
                name="mon_footprint_once",
            ),
            models.CheckConstraint(
                condition=models.Q(sessions__gte=0, minutes__gte=0), name="mon_footprint_nonneg"
            ),
        ]
        indexes = [models.Index(fields=["service", "region", "hour"], name="mon_footprint_place")]

    def save(self, *args: object, **kwargs: object) -> None:
        self.carrier_key = self.carrier_id or 0
        super().save(*args, **kwargs)  # type: ignore[arg-type]
