"""Incidents from machines: Prometheus Alertmanager webhooks and detection candidates.

Both attach to the active incident of the same service × region when there is one (one
incident per problem, whoever saw it first), under the place's component row lock so two
deliveries at once cannot open two incidents. Repeats change nothing: an alert is
remembered by (fingerprint, startsAt) with its last status, a detection candidate by its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from relaydesk.core.models import Region, Service

from . import lifecycle as lc
from . import services
from .models import AlertState, Incident
from .text import t

DEFAULT_ALERT_MAPPING: dict[str, Any] = {
    # label names tried in order
    "service_labels": ["service", "relaydesk_service"],
    "region_labels": ["region", "relaydesk_region"],
    "severity_labels": ["severity"],
    "carrier_labels": ["carrier", "asn"],
    "node_labels": ["node", "edge_node", "instance"],
    # label value → our code (values not listed are used as they are)
    "service_values": {},
    "region_values": {},
    "severity_values": {
        "critical": "critical",
        "page": "critical",
        "error": "major",
        "major": "major",
        "warning": "minor",
        "minor": "minor",
        "info": "minor",
    },
    "default_service": None,
    "default_region": None,
    "default_severity": "minor",
    # resolve an Alertmanager-opened incident when all its alerts have cleared
    "auto_resolve": True,
}


def alert_mapping() -> dict[str, Any]:
    """``RELAYDESK_ALERTMANAGER_MAPPING`` (a dict in settings) over the defaults."""
    mapping = dict(DEFAULT_ALERT_MAPPING)
    mapping.update(getattr(settings, "RELAYDESK_ALERTMANAGER_MAPPING", {}) or {})
    return mapping


def _first(labels: Mapping[str, str], names: list[str]) -> str | None:
    for n in names:
        v = labels.get(n)
        if v:
            return str(v)
    return None


@dataclass
class Mapped:
    service: Service | None
    region: Region | None
    severity: str
    carriers: list[str]
    nodes: list[str]
    problem: str = ""


@dataclass
class AlertResult:
    incidents: set[int] = field(default_factory=set)
    opened: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)


def map_labels(labels: Mapping[str, str], mapping: Mapping[str, Any]) -> Mapped:
    svc_raw = _first(labels, mapping["service_labels"]) or mapping.get("default_service")
    reg_raw = _first(labels, mapping["region_labels"]) or mapping.get("default_region")
    sev_raw = _first(labels, mapping["severity_labels"])
    svc_code = mapping["service_values"].get(svc_raw, svc_raw) if svc_raw else None
    reg_code = mapping["region_values"].get(reg_raw, reg_raw) if reg_raw else None
    severity = (
        mapping["severity_values"].get(sev_raw.lower(), mapping["default_severity"])
        if sev_raw
        else mapping["default_severity"]
    )
    service = Service.objects.filter(code=svc_code).first() if svc_code else None
    region = Region.objects.filter(code=reg_code).first() if reg_code else None
    problem = ""
    if service is None:
        problem = f"no known service in labels {mapping['service_labels']} (got {svc_raw!r})"
    elif region is None:
        problem = f"no known region in labels {mapping['region_labels']} (got {reg_raw!r})"
    carrier = _first(labels, mapping["carrier_labels"])
    node = _first(labels, mapping["node_labels"])
    return Mapped(
        service,
        region,
        severity if severity in lc.SEVERITIES else lc.MINOR,
        [carrier] if carrier else [],
        [node] if node else [],
        problem,
    )


def _active_in_place(service: Service, region: Region) -> Incident | None:
    return (
        Incident.objects.filter(service=service, region=region, status__in=lc.ACTIVE_STATUSES)
        .order_by("started_at", "id")
        .first()
    )


def _escalate(incident: Incident, severity: str) -> None:
    if lc.SEVERITIES.index(severity) > lc.SEVERITIES.index(incident.severity):
        Incident.objects.filter(pk=incident.pk).update(
            severity=severity, impact=lc.IMPACT_OF_SEVERITY[severity]
        )
        services.recompute_component(incident.service_id, incident.region_id)


def receive_alertmanager(payload: Mapping[str, Any], now: datetime | None = None) -> AlertResult:
    """Apply one webhook payload (already validated for shape). Each alert is applied in its
    own transaction under the place lock; a repeat of a known (fingerprint, startsAt, status)
    changes nothing."""
    when = now or timezone.now()
    mapping = alert_mapping()
    result = AlertResult()
    common = dict(payload.get("commonLabels") or {})
    common_ann = dict(payload.get("commonAnnotations") or {})
    group_key = str(payload.get("groupKey") or "")
    for alert in payload["alerts"]:
        labels = {**common, **(alert.get("labels") or {})}
        ann = {**common_ann, **(alert.get("annotations") or {})}
        fingerprint = alert.get("fingerprint") or ""
        starts_at: datetime = alert["startsAt"]
        status = alert["status"]
        m = map_labels(labels, mapping)
        if m.service is None or m.region is None:
            result.skipped.append({"fingerprint": fingerprint, "reason": m.problem})
            continue
        with transaction.atomic():
            services.component(m.service, m.region, lock=True)
            state = (
                AlertState.objects.select_for_update()
                .filter(fingerprint=fingerprint, starts_at=starts_at)
                .select_related("incident")
                .first()
            )
            if state is not None and state.status == status:
                result.unchanged += 1
                result.incidents.add(state.incident_id)
                continue
            if status == "firing":
                incident = _active_in_place(m.service, m.region)
                if incident is None:
                    name = labels.get("alertname", "alert")
                    summary = ann.get("summary") or ann.get("description") or name
                    incident = services.open_incident(
                        service=m.service,
                        region=m.region,
                        title_en=str(summary)[:200],
                        body_en=t("en", "auto_alert_body").format(summary=summary),
                        body_zh=t("zh-Hans", "auto_alert_body").format(summary=summary),
                        internal_note=(
                            f"Alertmanager {name} ({fingerprint}) {alert.get('generatorURL', '')}"
                        ),
                        severity=m.severity,
                        source="alertmanager",
                        carriers=m.carriers,
                        nodes=m.nodes,
                        started_at=min(starts_at, when),
                        alert_group_key=group_key,
                        now=when,
                    )
                    result.opened += 1
                else:
                    _escalate(incident, m.severity)
                    result.updated += 1
                if state is None:
                    AlertState.objects.create(
                        fingerprint=fingerprint,
                        starts_at=starts_at,
                        status=status,
                        incident=incident,
                        alertname=str(labels.get("alertname", ""))[:200],
                        labels=labels,
                        updated_at=when,
                    )
                else:
                    AlertState.objects.filter(pk=state.pk).update(
                        status=status, incident=incident, ends_at=None, updated_at=when
                    )
                result.incidents.add(incident.pk)
                continue
            # resolved
            if state is None:  # never seen firing: nothing to update
                result.unchanged += 1
                continue
            AlertState.objects.filter(pk=state.pk).update(
                status=status, ends_at=alert.get("endsAt"), updated_at=when
            )
            incident = state.incident
            result.updated += 1
            result.incidents.add(incident.pk)
            still_firing = (
                AlertState.objects.filter(incident=incident, status="firing")
                .exclude(pk=state.pk)
                .exists()
            )
            if (
                not still_firing
                and incident.is_active
                and incident.source == "alertmanager"
                and mapping.get("auto_resolve", True)
            ):
                services.post_update(
                    incident,
                    status=lc.RESOLVED,
                    body_en=t("en", "auto_alert_resolved"),
                    body_zh=t("zh-Hans", "auto_alert_resolved"),
                    internal_note=f"all alerts resolved (last {fingerprint})",
                    now=when,
                )
    return result


# -- detection ------------------------------------------------------------------------------


def _get(candidate: Any, name: str, default: Any = None) -> Any:
    if isinstance(candidate, Mapping):
        return candidate.get(name, default)
    return getattr(candidate, name, default)


def _ts(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromtimestamp(float(value), UTC)


def open_or_update_from_detection(candidate: Any, now: datetime | None = None) -> Incident | None:
    """Turn a detection candidate (``relaydesk.detection.IncidentCandidate`` or a dict with
    the same fields: key, service, region, start, detected_at, ongoing, propose_resolve_at,
    locations, metrics, severity) into an incident: open one (or join the active incident of
    the place), raise its severity when the impact grew, and record a proposal to resolve
    once metrics have recovered for a while. Never resolves on its own. Repeats change
    nothing. Returns None for a candidate that has ended before any incident was opened."""
    when = now or timezone.now()
    key = str(_get(candidate, "key"))
    severity = str(_get(candidate, "severity", lc.MINOR))
    severity = severity if severity in lc.SEVERITIES else lc.MINOR
    svc = Service.objects.filter(code=_get(candidate, "service")).first()
    reg = Region.objects.filter(code=_get(candidate, "region")).first()
    if svc is None or reg is None:
        raise services.IncidentError(
            f"unknown service/region {_get(candidate, 'service')!r}/{_get(candidate, 'region')!r}",
            field="service" if svc is None else "region",
        )
    locations = [str(x) for x in (_get(candidate, "locations") or ()) if x]
    metrics = [str(x) for x in (_get(candidate, "metrics") or ())]
    propose = _ts(_get(candidate, "propose_resolve_at"))
    ongoing = bool(_get(candidate, "ongoing", True))
    with transaction.atomic():
        services.component(svc, reg, lock=True)
        incident = Incident.objects.filter(detection_key=key).first()
        if incident is None:
            incident = _active_in_place(svc, reg)
            if incident is not None and incident.detection_key is None:
                Incident.objects.filter(pk=incident.pk).update(detection_key=key)
        if incident is None:
            if not ongoing:
                return None
            fmt = {
                "metrics": ", ".join(m.replace("_", " ") for m in metrics) or "quality",
                "service": svc.name,
                "region": reg.name,
                "where": f" ({', '.join(locations)})" if locations else "",
            }
            started = _ts(_get(candidate, "start")) or when
            return services.open_incident(
                service=svc,
                region=reg,
                title_en=t("en", "auto_detected_title").format(**fmt),
                title_zh=t("zh-Hans", "auto_detected_title").format(**fmt),
                body_en=t("en", "auto_detected_body").format(**fmt),
                body_zh=t("zh-Hans", "auto_detected_body").format(**fmt),
                internal_note=f"detection {key}; peak score {_get(candidate, 'peak_score')}; "
                f"traffic share {_get(candidate, 'traffic_share')}",
                severity=severity,
                source="detection",
                carriers=locations,
                started_at=min(started, when),
                detection_key=key,
                now=when,
            )
        if incident.is_active:
            _escalate(incident, severity)
            if propose is not None and incident.resolve_proposed_at is None:
                Incident.objects.filter(pk=incident.pk).update(resolve_proposed_at=propose)
            elif propose is None and incident.resolve_proposed_at is not None and ongoing:
                Incident.objects.filter(pk=incident.pk).update(resolve_proposed_at=None)
        incident.refresh_from_db()
        return incident
